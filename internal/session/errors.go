package session

import (
	"errors"
	"fmt"
)

// Errors callers branch on; test with errors.Is.
var (
	// ErrClosed: the session (or the peer's side of it) was closed.
	ErrClosed = errors.New("session closed")
	// ErrSessionFailed: the session ended abnormally; the wrapped error says
	// why. Messages not yet acknowledged by the peer may not have arrived.
	ErrSessionFailed = errors.New("session failed")
	// ErrProtocol: the peer broke the session protocol.
	ErrProtocol = errors.New("session protocol error")
	// ErrMessageTooLarge: a message exceeds MaxMessage.
	ErrMessageTooLarge = errors.New("message too large")
	// ErrTooManyChannels: MaxChannels channels are open already.
	ErrTooManyChannels = errors.New("too many channels")
	// ErrChannelClosed: the channel was closed (locally, or the peer stopped
	// reading it).
	ErrChannelClosed = errors.New("channel closed")
	// ErrUnknownSession: the acceptor does not know the session the dialer
	// tried to resume (it expired or the acceptor restarted).
	ErrUnknownSession = errors.New("unknown session")
	// ErrResumeTimeout: no transport could be re-established within
	// Config.ResumeTimeout.
	ErrResumeTimeout = errors.New("resume timed out")
	// ErrSuspended: the session was suspended (Session.Suspend); its state
	// lives on in the bytes Suspend returned.
	ErrSuspended = errors.New("session suspended")
	// ErrBadState: a saved session state does not decode (see Restore). It is
	// wrapped by *StateError.
	ErrBadState = errors.New("bad saved session state")
)

// StateError reports a saved session state that Restore refuses. It wraps
// ErrBadState.
type StateError struct {
	Reason string // what is wrong with it
}

func (e *StateError) Error() string { return "session: bad saved state: " + e.Reason }

// Unwrap makes errors.Is(err, ErrBadState) true.
func (e *StateError) Unwrap() error { return ErrBadState }

// RecordError reports a record that does not decode. It wraps ErrProtocol.
type RecordError struct {
	Type   byte   // the record's type byte, 0 if the record is empty
	Reason string // what is wrong with it
}

func (e *RecordError) Error() string {
	return fmt.Sprintf("session: malformed record (type 0x%02x): %s", e.Type, e.Reason)
}

// Unwrap makes errors.Is(err, ErrProtocol) true.
func (e *RecordError) Unwrap() error { return ErrProtocol }

// CloseError is the reason a peer gave in its Close record. It wraps
// ErrClosed for CloseNormal, ErrUnknownSession for CloseUnknownSession and
// ErrProtocol for the others.
type CloseError struct {
	Code   CloseCode
	Reason string
}

func (e *CloseError) Error() string {
	if e.Reason == "" {
		return fmt.Sprintf("session: peer closed: %v", e.Code)
	}
	return fmt.Sprintf("session: peer closed: %v: %q", e.Code, e.Reason)
}

// Unwrap maps the code to a sentinel.
func (e *CloseError) Unwrap() error {
	switch e.Code {
	case CloseNormal:
		return ErrClosed
	case CloseUnknownSession:
		return ErrUnknownSession
	default:
		return ErrProtocol
	}
}

// CloseCode says why a session was closed.
type CloseCode uint8

// Close codes.
const (
	CloseNormal         CloseCode = 0 // the application closed the session
	CloseProtocol       CloseCode = 1 // the sender saw a protocol violation
	CloseUnknownSession CloseCode = 2 // resume of a session the acceptor does not know
	CloseResumeFailed   CloseCode = 3 // resume impossible: asked for records no longer held
	CloseVersion        CloseCode = 4 // unsupported protocol version
)

func (c CloseCode) String() string {
	switch c {
	case CloseNormal:
		return "normal"
	case CloseProtocol:
		return "protocol error"
	case CloseUnknownSession:
		return "unknown session"
	case CloseResumeFailed:
		return "resume failed"
	case CloseVersion:
		return "unsupported version"
	default:
		return fmt.Sprintf("code %d", uint8(c))
	}
}
