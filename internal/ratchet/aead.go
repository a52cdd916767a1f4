package ratchet

import (
	"crypto/cipher"
	"fmt"

	"golang.org/x/crypto/chacha20poly1305"
)

// aeadSuite turns a one-time message key into an AEAD. Every message key is
// used to encrypt exactly one message, so the nonce is the constant zero
// nonce (see docs/PROTOCOL.md, "Message encryption").
type aeadSuite struct {
	name string
	new  func(key []byte) (cipher.AEAD, error)
}

// chachaSuite is the AEAD of the protocol: ChaCha20-Poly1305 (RFC 8439).
var chachaSuite = aeadSuite{name: "ChaCha20-Poly1305", new: chacha20poly1305.New}

// zeroNonce is the nonce used with every (single-use) message key.
var zeroNonce [chacha20poly1305.NonceSize]byte

// seal and open take the key by slice: callers pass State.aeadKey, which
// lives on the heap already, so that message keys on their stacks do not
// escape into a per-message allocation.
func (a aeadSuite) seal(key, dst, plaintext, ad []byte) ([]byte, error) {
	c, err := a.new(key)
	if err != nil {
		return nil, fmt.Errorf("failed to key %s: %w", a.name, err)
	}
	return c.Seal(dst, zeroNonce[:c.NonceSize()], plaintext, ad), nil
}

func (a aeadSuite) open(key, dst, ciphertext, ad []byte) ([]byte, error) {
	c, err := a.new(key)
	if err != nil {
		return nil, fmt.Errorf("failed to key %s: %w", a.name, err)
	}
	out, err := c.Open(dst, zeroNonce[:c.NonceSize()], ciphertext, ad)
	if err != nil {
		return nil, ErrAuth
	}
	return out, nil
}
