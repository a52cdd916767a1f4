// Package frame is cairn's record layer on a byte stream: every message on a
// cairn connection (hello, pairing, Noise handshake, ratchet records) travels
// as one frame
//
//	u32be length || type (1 byte) || body (length-1 bytes)
//
// where length counts the type byte and the body, so it is at least 1. A
// Reader reads frames without ever reading past the end of the frame it
// returns, so a stream may change hands between frames. The frame types of
// every layer are defined here, in one table.
//
// The format is specified in docs/PROTOCOL.md, section "Frames".
package frame

import "strconv"

const (
	// HeaderSize is the size of the length prefix.
	HeaderSize = 4

	// MaxFrameSize is the largest length (type byte + body) a default Reader
	// accepts and a Writer sends: a 1 MiB application message plus room for
	// the Double Ratchet's header and tag (56 bytes) and the session record
	// header.
	MaxFrameSize = 1<<20 + 256
)

// Type says what a frame carries. Types are assigned below, for every layer,
// so that no two layers reuse a value.
type Type uint8

// Frame types. 0 is reserved and never sent.
const (
	// TypeHandshake carries one Noise handshake message (package handshake).
	TypeHandshake Type = 0x01
	// TypeRatchet carries one Double Ratchet message (an encrypted session
	// record).
	TypeRatchet Type = 0x02
	// TypeClose announces an orderly close of the connection.
	TypeClose Type = 0x03

	// TypeHello opens every connection: what it is for and which slot.
	TypeHello Type = 0x10
	// TypeReject turns a connection away with a reason code.
	TypeReject Type = 0x11

	// TypePakeA is the pairing initiator's SPAKE2 message, nonce and
	// key-confirmation MAC.
	TypePakeA Type = 0x20
	// TypePakeB is the pairing responder's SPAKE2 message and nonce.
	TypePakeB Type = 0x21
	// TypeConfirm is the pairing responder's key-confirmation MAC.
	TypeConfirm Type = 0x22
	// TypeCommit tells the pairing responder that the initiator stored it.
	TypeCommit Type = 0x23
)

// String returns the type's name, or its number for an unassigned type.
func (t Type) String() string {
	switch t {
	case TypeHandshake:
		return "handshake"
	case TypeRatchet:
		return "ratchet"
	case TypeClose:
		return "close"
	case TypeHello:
		return "hello"
	case TypeReject:
		return "reject"
	case TypePakeA:
		return "pake-a"
	case TypePakeB:
		return "pake-b"
	case TypeConfirm:
		return "confirm"
	case TypeCommit:
		return "commit"
	default:
		return "type(" + strconv.Itoa(int(t)) + ")"
	}
}
