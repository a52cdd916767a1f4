package spake2

import "errors"

// Errors returned by [State.Finish] for a bad peer message, and by the
// State methods when misused. Test for them with errors.Is; Finish wraps
// them in a [*MessageError].
var (
	// ErrWrongLength: the peer message is not [MessageSize] bytes.
	ErrWrongLength = errors.New("spake2: peer message has the wrong length")
	// ErrWrongSide: the peer message's side byte is not the other role's.
	ErrWrongSide = errors.New("spake2: peer message is from the wrong side")
	// ErrInvalidPoint: the peer's point does not decode, or is not
	// canonically encoded.
	ErrInvalidPoint = errors.New("spake2: peer point is invalid")
	// ErrSmallOrder: the peer's point has small order, or a small-order
	// component (it lies outside the prime-order subgroup).
	ErrSmallOrder = errors.New("spake2: peer point is not in the prime-order subgroup")
	// ErrReflected: the peer sent this side's own point back.
	ErrReflected = errors.New("spake2: peer reflected our own message")
	// ErrFinished: Finish was already called on this State.
	ErrFinished = errors.New("spake2: state already finished")
)

// MessageError reports why a peer message was rejected. Err is one of the
// Err* sentinels; Reason adds detail and never contains secret material.
type MessageError struct {
	Err    error
	Reason string
}

func (e *MessageError) Error() string {
	if e.Reason == "" {
		return e.Err.Error()
	}
	return e.Err.Error() + ": " + e.Reason
}

func (e *MessageError) Unwrap() error { return e.Err }

func messageError(err error, reason string) error {
	return &MessageError{Err: err, Reason: reason}
}
