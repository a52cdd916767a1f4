package ratchet

import (
	"encoding/binary"
	"fmt"
)

// Header is the cleartext header of a ratchet message. It is authenticated
// as part of the AEAD associated data.
//
// Encoding (HeaderSize = 40 bytes):
//
//	DH (32: sender's current X25519 ratchet public key) || PN (u32be) || N (u32be)
type Header struct {
	DH [KeySize]byte // sender's ratchet public key
	PN uint32        // number of messages in the sender's previous sending chain
	N  uint32        // message number in the current sending chain
}

// AppendBinary appends the 40-byte encoding of h to b.
func (h *Header) AppendBinary(b []byte) ([]byte, error) {
	b = append(b, h.DH[:]...)
	b = binary.BigEndian.AppendUint32(b, h.PN)
	return binary.BigEndian.AppendUint32(b, h.N), nil
}

// MarshalBinary returns the 40-byte encoding of h.
func (h *Header) MarshalBinary() ([]byte, error) {
	return h.AppendBinary(make([]byte, 0, HeaderSize))
}

// UnmarshalBinary decodes exactly HeaderSize bytes. It returns an error
// wrapping ErrMalformed for any other length. Every 32-byte string is an
// acceptable X25519 key encoding; low-order keys are rejected by Open.
func (h *Header) UnmarshalBinary(b []byte) error {
	if len(b) != HeaderSize {
		return fmt.Errorf("%w: header is %d bytes, want %d", ErrMalformed, len(b), HeaderSize)
	}
	h.put(b)
	return nil
}

// put decodes the first HeaderSize bytes of b, which the caller has checked.
func (h *Header) put(b []byte) {
	copy(h.DH[:], b[:KeySize])
	h.PN = binary.BigEndian.Uint32(b[KeySize:])
	h.N = binary.BigEndian.Uint32(b[KeySize+4:])
}

// encode writes h into b[:HeaderSize], which the caller has checked.
func (h *Header) encode(b []byte) {
	copy(b[:KeySize], h.DH[:])
	binary.BigEndian.PutUint32(b[KeySize:], h.PN)
	binary.BigEndian.PutUint32(b[KeySize+4:], h.N)
}
