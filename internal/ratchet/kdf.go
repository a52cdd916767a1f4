package ratchet

import (
	"crypto/ecdh"
	"crypto/hkdf"
	"crypto/sha256"
	"fmt"
	"io"
)

// chainStep is the symmetric-key ratchet step (KDF_CK):
//
//	mk  = HMAC-SHA256(ck, 0x01)
//	ck' = HMAC-SHA256(ck, 0x02)
//
// HMAC is computed on stack buffers with sha256.Sum256 so that a step does
// not allocate and every intermediate can be wiped.
func chainStep(ck *[KeySize]byte) (mk, next [KeySize]byte) {
	var inner [sha256.BlockSize + 1]byte
	var outer [sha256.BlockSize + sha256.Size]byte
	hmac1 := func(msg byte) [KeySize]byte {
		for i := range sha256.BlockSize {
			var k byte
			if i < KeySize {
				k = ck[i]
			}
			inner[i] = k ^ 0x36
			outer[i] = k ^ 0x5c
		}
		inner[sha256.BlockSize] = msg
		ih := sha256.Sum256(inner[:])
		copy(outer[sha256.BlockSize:], ih[:])
		clear(ih[:])
		return sha256.Sum256(outer[:])
	}
	mk = hmac1(chainMessageByte)
	next = hmac1(chainNextByte)
	clear(inner[:])
	clear(outer[:])
	return mk, next
}

// rootStep is the root KDF (KDF_RK):
//
//	rk' || ck = HKDF-SHA256(salt = rk, ikm = dhOut, info = "cairn-ratchet-root-v1", L = 64)
func rootStep(rk *[KeySize]byte, dhOut []byte) (newRK, ck [KeySize]byte, err error) {
	out, err := hkdf.Key(sha256.New, dhOut, rk[:], rootInfo, rootOutputSize)
	if err != nil {
		return newRK, ck, fmt.Errorf("failed to derive root key: %w", err)
	}
	copy(newRK[:], out[:KeySize])
	copy(ck[:], out[KeySize:])
	clear(out)
	return newRK, ck, nil
}

// dhRoot computes DH(priv, remote) and feeds it to the root KDF. An invalid
// (low-order) remote key yields ErrMalformed.
func dhRoot(rk *[KeySize]byte, priv *ecdh.PrivateKey, remote *[KeySize]byte) (newRK, ck [KeySize]byte, err error) {
	pub, err := ecdh.X25519().NewPublicKey(remote[:])
	if err != nil {
		return newRK, ck, fmt.Errorf("%w: bad ratchet public key", ErrMalformed)
	}
	shared, err := priv.ECDH(pub)
	if err != nil {
		return newRK, ck, fmt.Errorf("%w: bad ratchet public key", ErrMalformed)
	}
	defer clear(shared)
	return rootStep(rk, shared)
}

// generateKey makes a ratchet key pair from 32 bytes of r.
func generateKey(r io.Reader) (*ecdh.PrivateKey, error) {
	var seed [KeySize]byte
	defer clear(seed[:])
	if _, err := io.ReadFull(r, seed[:]); err != nil {
		return nil, fmt.Errorf("failed to read ratchet key randomness: %w", err)
	}
	return ecdh.X25519().NewPrivateKey(seed[:])
}
