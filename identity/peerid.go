package identity

import (
	"crypto/ed25519"
	"crypto/sha256"
	"errors"
	"fmt"

	"github.com/mr-tron/base58"
)

// multihash prefix of a SHA2-256 digest: code 0x12, length 0x20.
const (
	multihashSHA256 = 0x12
	multihashLen    = 0x20

	// PeerIDSize is the length of a PeerID in bytes (a SHA2-256 multihash).
	PeerIDSize = 34
	// PeerIDStringLen is the length of a PeerID's base58btc text form.
	PeerIDStringLen = 46
)

// ErrInvalidPeerID is returned (wrapped in a *PeerIDError) when a PeerID does
// not decode.
var ErrInvalidPeerID = errors.New("invalid peer id")

// PeerIDError describes why a PeerID failed to parse.
type PeerIDError struct {
	Reason string
}

func (e *PeerIDError) Error() string { return "invalid peer id: " + e.Reason }

// Unwrap makes errors.Is(err, ErrInvalidPeerID) true.
func (e *PeerIDError) Unwrap() error { return ErrInvalidPeerID }

// PeerID names a cairn node: base58btc(0x12 0x20 || SHA-256(ed25519 public key)).
// It is comparable with == and usable as a map key. The zero value is not a
// valid PeerID; see IsZero.
type PeerID struct {
	mh [PeerIDSize]byte
}

// PeerIDFromPublicKey derives the PeerID of an Ed25519 public key.
func PeerIDFromPublicKey(pub ed25519.PublicKey) PeerID {
	var id PeerID
	id.mh[0] = multihashSHA256
	id.mh[1] = multihashLen
	sum := sha256.Sum256(pub)
	copy(id.mh[2:], sum[:])
	return id
}

// PeerIDFromBytes decodes the 34-byte multihash form of a PeerID.
func PeerIDFromBytes(b []byte) (PeerID, error) {
	var id PeerID
	if len(b) != PeerIDSize {
		return id, &PeerIDError{Reason: fmt.Sprintf("length %d, want %d", len(b), PeerIDSize)}
	}
	if b[0] != multihashSHA256 || b[1] != multihashLen {
		return id, &PeerIDError{Reason: "not a sha2-256 multihash"}
	}
	copy(id.mh[:], b)
	return id, nil
}

// ParsePeerID decodes the base58btc text form of a PeerID ("Qm...").
func ParsePeerID(s string) (PeerID, error) {
	if len(s) != PeerIDStringLen {
		return PeerID{}, &PeerIDError{Reason: fmt.Sprintf("length %d, want %d characters", len(s), PeerIDStringLen)}
	}
	b, err := base58.Decode(s)
	if err != nil {
		return PeerID{}, &PeerIDError{Reason: "not base58btc"}
	}
	return PeerIDFromBytes(b)
}

// Bytes returns the 34-byte multihash form.
func (id PeerID) Bytes() []byte { return append([]byte(nil), id.mh[:]...) }

// Array returns the 34-byte multihash form as an array.
func (id PeerID) Array() [PeerIDSize]byte { return id.mh }

// IsZero reports whether id is the zero value (no peer).
func (id PeerID) IsZero() bool { return id == PeerID{} }

// String returns the base58btc form, or "" for the zero PeerID.
func (id PeerID) String() string {
	if id.IsZero() {
		return ""
	}
	return base58.Encode(id.mh[:])
}

// Short returns a prefix of the text form, for people and logs.
func (id PeerID) Short() string {
	s := id.String()
	if len(s) > 12 {
		return s[:12]
	}
	return s
}

// Matches reports whether pub is the public key that id names.
func (id PeerID) Matches(pub ed25519.PublicKey) bool {
	return len(pub) == ed25519.PublicKeySize && PeerIDFromPublicKey(pub) == id
}

// MarshalText implements encoding.TextMarshaler.
func (id PeerID) MarshalText() ([]byte, error) {
	if id.IsZero() {
		return nil, &PeerIDError{Reason: "zero peer id"}
	}
	return []byte(id.String()), nil
}

// UnmarshalText implements encoding.TextUnmarshaler.
func (id *PeerID) UnmarshalText(b []byte) error {
	p, err := ParsePeerID(string(b))
	if err != nil {
		return err
	}
	*id = p
	return nil
}
