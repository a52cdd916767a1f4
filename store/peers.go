package store

import (
	"bytes"
	"cmp"
	"crypto/ed25519"
	"encoding/json"
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"time"
	"unicode/utf8"

	"github.com/cairn-dev/cairn/identity"
)

const (
	peersVersion = 1
	// MaxNameLen bounds a peer's display name, in bytes.
	MaxNameLen = 256
	// MaxPeers bounds the trust store.
	MaxPeers = 10000
	// maxPeersFile bounds what is read of peers.json.
	maxPeersFile = 16 << 20
)

// Peer is a paired peer in the trust store.
type Peer struct {
	ID        identity.PeerID
	PublicKey ed25519.PublicKey
	Name      string
	// PairingSecret is the secret both sides derived when pairing; it keys
	// the rendezvous ids and the SAS.
	PairingSecret [32]byte
	PairedAt      time.Time
	LastSeen      time.Time
}

// peersJSON is peers.json.
type peersJSON struct {
	Version int        `json:"version"`
	Peers   []peerJSON `json:"peers"`
}

type peerJSON struct {
	ID            identity.PeerID `json:"id"`
	PublicKey     []byte          `json:"public_key"`     // base64
	Name          string          `json:"name"`           //
	PairingSecret []byte          `json:"pairing_secret"` // base64
	PairedAt      time.Time       `json:"paired_at"`
	LastSeen      time.Time       `json:"last_seen"`
}

// validate checks a Peer's consistency; reasons are safe to show (no
// secrets).
func (p *Peer) validate() error {
	switch {
	case len(p.PublicKey) != ed25519.PublicKeySize:
		return fmt.Errorf("public key of %d bytes", len(p.PublicKey))
	case !p.ID.Matches(p.PublicKey):
		return fmt.Errorf("id %s does not name the public key", p.ID.Short())
	case p.PairingSecret == [32]byte{}:
		return fmt.Errorf("no pairing secret")
	case len(p.Name) > MaxNameLen || !utf8.ValidString(p.Name):
		return fmt.Errorf("name is not UTF-8 of at most %d bytes", MaxNameLen)
	case !validTime(p.PairedAt) || !validTime(p.LastSeen):
		return fmt.Errorf("time out of range")
	}
	return nil
}

// validTime reports whether t survives a JSON round trip (RFC 3339 years).
func validTime(t time.Time) bool {
	y := t.UTC().Year()
	return y >= 0 && y <= 9999
}

func sortPeers(ps []Peer) {
	slices.SortFunc(ps, func(a, b Peer) int {
		return cmp.Or(cmp.Compare(a.Name, b.Name), cmp.Compare(a.ID.String(), b.ID.String()))
	})
}

// decodePeers parses peers.json strictly: one JSON object, no unknown
// fields, a known version, every entry consistent, no duplicates. Errors wrap
// ErrCorrupt.
func decodePeers(b []byte) ([]Peer, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var f peersJSON
	if err := dec.Decode(&f); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrCorrupt, err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, fmt.Errorf("%w: data after the trust store", ErrCorrupt)
	}
	if f.Version != peersVersion {
		return nil, fmt.Errorf("%w: unknown version %d", ErrCorrupt, f.Version)
	}
	if len(f.Peers) > MaxPeers {
		return nil, fmt.Errorf("%w: %d peers, max %d", ErrCorrupt, len(f.Peers), MaxPeers)
	}
	peers := make([]Peer, 0, len(f.Peers))
	seen := make(map[identity.PeerID]bool, len(f.Peers))
	for i, e := range f.Peers {
		p := Peer{ID: e.ID, PublicKey: e.PublicKey, Name: e.Name, PairedAt: e.PairedAt, LastSeen: e.LastSeen}
		if len(e.PairingSecret) != len(p.PairingSecret) {
			return nil, fmt.Errorf("%w: peer %d: pairing secret of %d bytes", ErrCorrupt, i, len(e.PairingSecret))
		}
		copy(p.PairingSecret[:], e.PairingSecret)
		clear(e.PairingSecret)
		if err := p.validate(); err != nil {
			return nil, fmt.Errorf("%w: peer %d: %w", ErrCorrupt, i, err)
		}
		if seen[p.ID] {
			return nil, fmt.Errorf("%w: peer %s listed twice", ErrCorrupt, p.ID.Short())
		}
		seen[p.ID] = true
		peers = append(peers, p)
	}
	sortPeers(peers)
	return peers, nil
}

// encodePeers is the inverse of decodePeers. Peers must be valid.
func encodePeers(peers []Peer) ([]byte, error) {
	f := peersJSON{Version: peersVersion, Peers: make([]peerJSON, 0, len(peers))}
	ps := slices.Clone(peers)
	sortPeers(ps)
	for _, p := range ps {
		f.Peers = append(f.Peers, peerJSON{
			ID: p.ID, PublicKey: p.PublicKey, Name: p.Name, PairingSecret: p.PairingSecret[:],
			PairedAt: p.PairedAt.UTC(), LastSeen: p.LastSeen.UTC(),
		})
	}
	b, err := json.MarshalIndent(f, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}

func (s *Store) peersPath() string { return filepath.Join(s.dir, peersFileName) }

// readPeers loads the trust store; a missing file is an empty one.
func (s *Store) readPeers() ([]Peer, error) {
	path := s.peersPath()
	b, err := readSecretFile(path, maxPeersFile)
	if isNotExist(err) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer clear(b)
	peers, err := decodePeers(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return peers, nil
}

// writePeersLocked replaces peers.json. Must hold the store lock.
func (s *Store) writePeersLocked(peers []Peer) error {
	b, err := encodePeers(peers)
	if err != nil {
		return err
	}
	defer clear(b)
	return writeFileAtomic(s.dir, peersFileName, b, false)
}

// updatePeers runs f on the current trust store under the lock and writes
// the result.
func (s *Store) updatePeers(f func([]Peer) ([]Peer, error)) error {
	return s.withLock(func() error {
		peers, err := s.readPeers()
		if err != nil {
			return err
		}
		peers, err = f(peers)
		if err != nil {
			return err
		}
		return s.writePeersLocked(peers)
	})
}

// Peers returns the paired peers, sorted by name, then PeerID.
func (s *Store) Peers() ([]Peer, error) {
	peers, err := s.readPeers()
	if err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	return peers, nil
}

// Peer returns the paired peer id, or ErrUnknownPeer.
func (s *Store) Peer(id identity.PeerID) (Peer, error) {
	peers, err := s.Peers()
	if err != nil {
		return Peer{}, err
	}
	if i := indexOf(peers, id); i >= 0 {
		return peers[i], nil
	}
	return Peer{}, fmt.Errorf("store: %w: %s", ErrUnknownPeer, id.Short())
}

func indexOf(peers []Peer, id identity.PeerID) int {
	return slices.IndexFunc(peers, func(p Peer) bool { return p.ID == id })
}

// PutPeer inserts p or replaces the peer with the same ID. A zero p.ID is
// taken from p.PublicKey. An inconsistent p gives ErrInvalidPeer.
func (s *Store) PutPeer(p Peer) error {
	p.PublicKey = bytes.Clone(p.PublicKey)
	if p.ID.IsZero() && len(p.PublicKey) == ed25519.PublicKeySize {
		p.ID = identity.PeerIDFromPublicKey(p.PublicKey)
	}
	if err := p.validate(); err != nil {
		return fmt.Errorf("store: %w: %w", ErrInvalidPeer, err)
	}
	err := s.updatePeers(func(peers []Peer) ([]Peer, error) {
		if i := indexOf(peers, p.ID); i >= 0 {
			peers[i] = p
			return peers, nil
		}
		if len(peers) >= MaxPeers {
			return nil, fmt.Errorf("%w: trust store full (%d peers)", ErrInvalidPeer, MaxPeers)
		}
		return append(peers, p), nil
	})
	if err != nil {
		return fmt.Errorf("store: failed to store peer: %w", err)
	}
	return nil
}

// modifyPeer applies f to the peer id under the lock.
func (s *Store) modifyPeer(id identity.PeerID, f func(*Peer) error) error {
	return s.updatePeers(func(peers []Peer) ([]Peer, error) {
		i := indexOf(peers, id)
		if i < 0 {
			return nil, fmt.Errorf("%w: %s", ErrUnknownPeer, id.Short())
		}
		if err := f(&peers[i]); err != nil {
			return nil, err
		}
		return peers, nil
	})
}

// DeletePeer removes the peer id (ErrUnknownPeer if absent). The file is
// rewritten without it; the old file's blocks are not overwritten.
func (s *Store) DeletePeer(id identity.PeerID) error {
	err := s.updatePeers(func(peers []Peer) ([]Peer, error) {
		i := indexOf(peers, id)
		if i < 0 {
			return nil, fmt.Errorf("%w: %s", ErrUnknownPeer, id.Short())
		}
		return slices.Delete(peers, i, i+1), nil
	})
	if err != nil {
		return fmt.Errorf("store: failed to delete peer: %w", err)
	}
	return nil
}

// RenamePeer sets the display name of the peer id.
func (s *Store) RenamePeer(id identity.PeerID, name string) error {
	err := s.modifyPeer(id, func(p *Peer) error {
		if len(name) > MaxNameLen || !utf8.ValidString(name) {
			return fmt.Errorf("%w: name is not UTF-8 of at most %d bytes", ErrInvalidPeer, MaxNameLen)
		}
		p.Name = name
		return nil
	})
	if err != nil {
		return fmt.Errorf("store: failed to rename peer: %w", err)
	}
	return nil
}

// TouchPeer records that the peer id was seen at t.
func (s *Store) TouchPeer(id identity.PeerID, t time.Time) error {
	err := s.modifyPeer(id, func(p *Peer) error {
		if !validTime(t) {
			return fmt.Errorf("%w: time out of range", ErrInvalidPeer)
		}
		p.LastSeen = t
		return nil
	})
	if err != nil {
		return fmt.Errorf("store: failed to update peer: %w", err)
	}
	return nil
}
