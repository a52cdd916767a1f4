// Package wire holds the small messages that open every cairn connection and
// end a failed one: the Hello that says what a connection is for, and the
// Reject that tells the other side why it is being turned away.
//
// Both travel as frames (package frame) before any key exists, so they carry
// nothing secret: a pairing slot reveals at most the first 3 PIN symbols, and
// a session slot is derived from the pairing secret and rotates daily.
package wire

import (
	"errors"
	"fmt"
)

// Purpose says what a connection is for.
type Purpose uint8

const (
	// PurposePair opens a pairing attempt.
	PurposePair Purpose = 1
	// PurposeSession opens (or resumes) a session between paired peers.
	PurposeSession Purpose = 2
	// PurposeUnpair tells a paired peer, after an authenticating handshake,
	// that the sender removed the pairing.
	PurposeUnpair Purpose = 3
)

const (
	helloMagic = "cairn1"
	// MaxSlotLen bounds a slot name in a Hello.
	MaxSlotLen = 128
	// MaxHelloFrame is the longest frame (type byte and body) a Hello takes:
	// read a connection's first frame with this limit, so that a stranger
	// cannot make the reader allocate a large buffer before saying who it is.
	MaxHelloFrame = 1 + len(helloMagic) + 2 + MaxSlotLen
)

// ErrMalformed is returned for a Hello or Reject that does not decode.
var ErrMalformed = errors.New("malformed message")

// Hello is the first frame on every connection, sent by the side that dialled.
type Hello struct {
	Purpose Purpose
	Slot    string
}

// Marshal encodes h as magic || purpose || slot length || slot.
func (h Hello) Marshal() ([]byte, error) {
	if len(h.Slot) == 0 || len(h.Slot) > MaxSlotLen {
		return nil, fmt.Errorf("%w: slot length %d", ErrMalformed, len(h.Slot))
	}
	b := make([]byte, 0, len(helloMagic)+2+len(h.Slot))
	b = append(b, helloMagic...)
	b = append(b, byte(h.Purpose), byte(len(h.Slot)))
	return append(b, h.Slot...), nil
}

// ParseHello decodes a Hello frame body.
func ParseHello(b []byte) (Hello, error) {
	if len(b) < len(helloMagic)+2 || string(b[:len(helloMagic)]) != helloMagic {
		return Hello{}, fmt.Errorf("%w: not a cairn hello", ErrMalformed)
	}
	b = b[len(helloMagic):]
	p, n := Purpose(b[0]), int(b[1])
	if p < PurposePair || p > PurposeUnpair {
		return Hello{}, fmt.Errorf("%w: unknown purpose %d", ErrMalformed, p)
	}
	if n == 0 || n > MaxSlotLen || len(b) != 2+n {
		return Hello{}, fmt.Errorf("%w: bad slot length", ErrMalformed)
	}
	return Hello{Purpose: p, Slot: string(b[2:])}, nil
}

// Code is the reason in a Reject.
type Code uint8

// Reject codes. Unknown codes decode as CodeProtocol.
const (
	CodeProtocol        Code = 1 // the peer broke the protocol
	CodeWrongSecret     Code = 2 // key confirmation failed: wrong PIN or code
	CodeExpired         Code = 3 // the pairing material expired or was cancelled
	CodeTooManyAttempts Code = 4 // the PIN was invalidated after too many failures
	CodeBusy            Code = 5 // another attempt is in progress
	CodeUnknownSlot     Code = 6 // nothing is waiting under that slot
	CodeUnknownPeer     Code = 7 // the peer is not (or no longer) paired
	CodeUnpaired        Code = 8 // the peer removed the pairing
)

func (c Code) String() string {
	switch c {
	case CodeWrongSecret:
		return "wrong secret"
	case CodeExpired:
		return "expired"
	case CodeTooManyAttempts:
		return "too many failed attempts"
	case CodeBusy:
		return "busy"
	case CodeUnknownSlot:
		return "unknown slot"
	case CodeUnknownPeer:
		return "unknown peer"
	case CodeUnpaired:
		return "unpaired"
	default:
		return "protocol error"
	}
}

// RejectError is a Reject received from the peer.
type RejectError struct{ Code Code }

func (e *RejectError) Error() string { return "peer rejected the connection: " + e.Code.String() }

// MarshalReject encodes a Reject frame body.
func MarshalReject(c Code) []byte { return []byte{byte(c)} }

// ParseReject decodes a Reject frame body.
func ParseReject(b []byte) (*RejectError, error) {
	if len(b) != 1 {
		return nil, fmt.Errorf("%w: reject of %d bytes", ErrMalformed, len(b))
	}
	c := Code(b[0])
	if c < CodeProtocol || c > CodeUnpaired {
		c = CodeProtocol
	}
	return &RejectError{Code: c}, nil
}
