package ratchet

import (
	"errors"
	"fmt"
)

// Errors returned by the ratchet. Open leaves the State unchanged whenever it
// returns an error.
var (
	// ErrNotReady is returned by Seal on a responder that has not yet opened
	// a message: it has no sending chain until it learns the initiator's
	// first ratchet key. It is also returned by a zero State.
	ErrNotReady = errors.New("ratchet: no sending chain yet (responder must receive first)")
	// ErrDestroyed is returned by every method after Destroy.
	ErrDestroyed = errors.New("ratchet: state destroyed")
	// ErrMalformed means a message or header is too short or carries an
	// invalid ratchet public key.
	ErrMalformed = errors.New("ratchet: malformed message")
	// ErrAuth means the message did not authenticate: forged, corrupted, or
	// bound to different associated data.
	ErrAuth = errors.New("ratchet: message authentication failed")
	// ErrReplay means the message's key is not held: the message was already
	// opened (duplicate), or its skipped key was evicted or expired.
	ErrReplay = errors.New("ratchet: duplicate or stale message")
	// ErrTooManySkipped means accepting the message would skip more message
	// keys in one chain than Config.MaxSkipPerChain. See [SkipError].
	ErrTooManySkipped = errors.New("ratchet: too many skipped messages")
	// ErrChainExhausted means a chain reached 2^32-1 messages.
	ErrChainExhausted = errors.New("ratchet: message counter exhausted")
	// ErrCorruptState means UnmarshalBinary was given bytes that are not a
	// state encoding of a supported version.
	ErrCorruptState = errors.New("ratchet: corrupt or unsupported state encoding")
	// ErrInvalidArgument means a constructor argument or Config field is
	// invalid, or a buffer overlaps another incorrectly.
	ErrInvalidArgument = errors.New("ratchet: invalid argument")
)

// SkipError is returned (wrapping ErrTooManySkipped) when a message would need
// more message keys of one chain to be skipped than the configured limit.
type SkipError struct {
	Skip  uint64 // keys that would have to be skipped
	Limit int    // Config.MaxSkipPerChain
}

func (e *SkipError) Error() string {
	return fmt.Sprintf("ratchet: message would skip %d keys, limit is %d", e.Skip, e.Limit)
}

// Unwrap returns ErrTooManySkipped.
func (e *SkipError) Unwrap() error { return ErrTooManySkipped }
