package session

import (
	"sync"
	"time"
)

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

// eventQueue is a bounded event stream that never blocks the session: when
// the reader falls eventBuffer events behind, the oldest is dropped and
// counted.
type eventQueue struct {
	ch chan Event
	mu sync.Mutex
	// Must hold mu.
	dropped uint64
	closed  bool
}

func newEventQueue() *eventQueue { return &eventQueue{ch: make(chan Event, eventBuffer)} }

func (q *eventQueue) emit(kind EventKind, err error) {
	e := Event{Kind: kind, Err: err, Time: time.Now()}
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.closed {
		return
	}
	for {
		select {
		case q.ch <- e:
			if kind == EventClosed {
				q.closed = true
				close(q.ch)
			}
			return
		default:
		}
		select {
		case <-q.ch:
			q.dropped++
		default:
		}
	}
}

func (q *eventQueue) droppedCount() uint64 {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.dropped
}
