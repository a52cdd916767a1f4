package handshake

import (
	"errors"

	"github.com/cairn-dev/cairn/identity"
)

var (
	// ErrHandshakeFailed is wrapped by every error Initiator and Responder
	// return, next to the specific cause below.
	ErrHandshakeFailed = errors.New("handshake failed")
	// ErrDecrypt: a Noise message failed to authenticate. In a pairing
	// (XXpsk3) this means the two sides used different psks: the responder
	// sees it on message 3, and the initiator learns it from the responder's
	// Reject. Without a psk it means the message was corrupted or forged.
	ErrDecrypt = errors.New("handshake message failed to decrypt (wrong pairing key?)")
	// ErrBadMessage: a frame of the wrong type or size, or a malformed Noise
	// message (such as a low-order public key).
	ErrBadMessage = errors.New("malformed handshake message")
	// ErrBadPayload: the peer's handshake payload does not decode.
	ErrBadPayload = errors.New("malformed handshake payload")
	// ErrBadSignature: the peer's identity signature over its Noise static
	// key does not verify.
	ErrBadSignature = errors.New("bad identity signature in handshake")
	// ErrPeerMismatch is wrapped by *PeerIDMismatchError: the peer proved an
	// identity other than the expected one.
	ErrPeerMismatch = errors.New("peer id mismatch")
	// ErrRejected: the peer sent a Reject (a *wire.RejectError is in the
	// chain) instead of its next handshake message.
	ErrRejected = errors.New("peer rejected the handshake")
	// ErrConfig: the Config is invalid; nothing was sent.
	ErrConfig = errors.New("invalid handshake config")
)

// IsPeerFault reports whether err is the peer's doing: a handshake message
// that was malformed, forged or did not authenticate, a bad identity proof,
// or a Reject. It is false for a connection that failed, a context that
// ended, and an unexpected identity (ErrPeerMismatch, which callers report
// on its own).
func IsPeerFault(err error) bool {
	for _, e := range []error{ErrDecrypt, ErrBadMessage, ErrBadPayload, ErrBadSignature, ErrRejected} {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}

// PeerIDMismatchError reports that the peer authenticated as Actual where
// Expected was required (Config.ExpectedPeer or Config.ExpectedKey).
type PeerIDMismatchError struct {
	Expected identity.PeerID
	Actual   identity.PeerID
}

func (e *PeerIDMismatchError) Error() string {
	return "peer id mismatch: expected " + e.Expected.String() + ", got " + e.Actual.String()
}

// Unwrap makes errors.Is(err, ErrPeerMismatch) true.
func (e *PeerIDMismatchError) Unwrap() error { return ErrPeerMismatch }
