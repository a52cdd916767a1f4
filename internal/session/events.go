package session

import "time"

// EventKind says what happened to a session.
type EventKind int

// Event kinds.
const (
	// EventConnected: the session started on its first transport.
	EventConnected EventKind = iota + 1
	// EventDisconnected: the transport dropped (Err says why); the session
	// waits for, or works on, a new one.
	EventDisconnected
	// EventResumed: a new transport took over; nothing was lost.
	EventResumed
	// EventClosed: the session ended; Err is nil after Close, else the cause.
	// It is the last event; the channel is closed after it.
	EventClosed
)

func (k EventKind) String() string {
	switch k {
	case EventConnected:
		return "connected"
	case EventDisconnected:
		return "disconnected"
	case EventResumed:
		return "resumed"
	case EventClosed:
		return "closed"
	default:
		return "unknown"
	}
}

// Event is something that happened to a session.
type Event struct {
	Kind EventKind
	Err  error
	Time time.Time
}

// emit sends an event to the application; EventClosed is the last one. The
// stream never blocks the session: past eventBuffer unread events the oldest
// is dropped and counted.
func (s *Session) emit(kind EventKind, err error) {
	e := Event{Kind: kind, Err: err, Time: time.Now()}
	if kind == EventClosed {
		s.events.PushLast(e)
		return
	}
	s.events.Push(e)
}
