// Package identity holds a cairn node's long-term Ed25519 identity and the
// PeerID that names it.
package identity

import (
	"crypto/ed25519"
	"crypto/rand"
	"fmt"
	"io"
)

// SeedSize is the size of the secret an identity is derived from.
const SeedSize = ed25519.SeedSize

// Identity is an Ed25519 key pair. It is safe for concurrent use.
type Identity struct {
	priv ed25519.PrivateKey
	id   PeerID
}

// FromSeed derives the identity of a 32-byte seed.
func FromSeed(seed []byte) (*Identity, error) {
	if len(seed) != SeedSize {
		return nil, fmt.Errorf("identity seed is %d bytes, want %d", len(seed), SeedSize)
	}
	priv := ed25519.NewKeyFromSeed(seed)
	return &Identity{priv: priv, id: PeerIDFromPublicKey(priv.Public().(ed25519.PublicKey))}, nil
}

// Generate creates a new identity from rand (crypto/rand if nil).
func Generate(r io.Reader) (*Identity, error) {
	if r == nil {
		r = rand.Reader
	}
	seed := make([]byte, SeedSize)
	if _, err := io.ReadFull(r, seed); err != nil {
		return nil, fmt.Errorf("failed to read identity seed: %w", err)
	}
	defer clear(seed)
	return FromSeed(seed)
}

// PeerID returns the identity's PeerID.
func (i *Identity) PeerID() PeerID { return i.id }

// PublicKey returns the Ed25519 public key.
func (i *Identity) PublicKey() ed25519.PublicKey {
	return i.priv.Public().(ed25519.PublicKey)
}

// Sign signs msg with the identity key.
func (i *Identity) Sign(msg []byte) []byte { return ed25519.Sign(i.priv, msg) }

// UnsafeSeed returns a copy of the secret seed, for the key store only.
func (i *Identity) UnsafeSeed() []byte { return append([]byte(nil), i.priv.Seed()...) }

// String never reveals key material.
func (i *Identity) String() string { return "identity(" + i.id.String() + ")" }
