package handshake

import (
	"crypto/ecdh"
	"crypto/subtle"
	"errors"
	"fmt"
	"io"

	"github.com/flynn/noise"
)

// errLowOrder marks a DH failure: the peer's public key gave the all-zero
// shared secret.
var errLowOrder = errors.New("low-order x25519 public key")

// keyring is a noise.DHFunc for X25519 that costs one scalar multiplication
// per key generation and per DH. flynn/noise's DH25519 goes through
// x/crypto/curve25519, which builds a crypto/ecdh private key (computing its
// public key) on every call: two scalar multiplications per operation. The
// keyring keeps the *ecdh.PrivateKey of each key pair it made or was given,
// finds it again by its private bytes, and wipes those bytes when done.
//
// A keyring belongs to one handshake and is not safe for concurrent use.
type keyring struct {
	keys []ringKey
}

type ringKey struct {
	priv []byte // the slice handed to flynn/noise
	key  *ecdh.PrivateKey
}

var _ noise.DHFunc = (*keyring)(nil)

// newKey makes a key pair from 32 bytes of rng and remembers it.
func (k *keyring) newKey(rng io.Reader) (noise.DHKey, *ecdh.PrivateKey, error) {
	priv := make([]byte, 32)
	if _, err := io.ReadFull(rng, priv); err != nil {
		return noise.DHKey{}, nil, fmt.Errorf("failed to read randomness: %w", err)
	}
	key, err := ecdh.X25519().NewPrivateKey(priv)
	if err != nil {
		return noise.DHKey{}, nil, err
	}
	k.keys = append(k.keys, ringKey{priv: priv, key: key})
	return noise.DHKey{Private: priv, Public: key.PublicKey().Bytes()}, key, nil
}

// GenerateKeypair implements noise.DHFunc.
func (k *keyring) GenerateKeypair(rng io.Reader) (noise.DHKey, error) {
	dk, _, err := k.newKey(rng)
	return dk, err
}

// DH implements noise.DHFunc.
func (k *keyring) DH(priv, pub []byte) ([]byte, error) {
	key := k.find(priv)
	if key == nil {
		var err error
		if key, err = ecdh.X25519().NewPrivateKey(priv); err != nil {
			return nil, err
		}
	}
	pk, err := ecdh.X25519().NewPublicKey(pub)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", errLowOrder, err)
	}
	out, err := key.ECDH(pk)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", errLowOrder, err)
	}
	return out, nil
}

func (k *keyring) find(priv []byte) *ecdh.PrivateKey {
	for _, rk := range k.keys {
		if len(priv) == len(rk.priv) && subtle.ConstantTimeCompare(priv, rk.priv) == 1 {
			return rk.key
		}
	}
	return nil
}

// DHLen implements noise.DHFunc.
func (*keyring) DHLen() int { return 32 }

// DHName implements noise.DHFunc: the same name as noise.DH25519, so the
// protocol name is unchanged.
func (*keyring) DHName() string { return "25519" }

// wipe zeroes the private bytes of every key (flynn/noise holds the same
// slices). The *ecdh.PrivateKey values keep their own copies, which Go
// cannot wipe.
func (k *keyring) wipe() {
	for _, rk := range k.keys {
		clear(rk.priv)
	}
	k.keys = nil
}
