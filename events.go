package cairn

import (
	"time"

	"github.com/cairn-dev/cairn/identity"
)

// EventKind says what happened.
type EventKind int

// Event kinds.
const (
	// EventPaired: a pairing completed; Peer is the new peer.
	EventPaired EventKind = iota + 1
	// EventPairingFailed: one pairing attempt failed (Err says why); the
	// pairing may still succeed with a later attempt.
	EventPairingFailed
	// EventConnected: a session with Peer was established.
	EventConnected
	// EventDisconnected: a session's connection dropped; it is reconnecting.
	EventDisconnected
	// EventResumed: a session reconnected and resumed where it left off.
	EventResumed
	// EventSessionClosed: a session ended.
	EventSessionClosed
	// EventUnpaired: Peer removed the pairing (or this node did).
	EventUnpaired
)

func (k EventKind) String() string {
	switch k {
	case EventPaired:
		return "paired"
	case EventPairingFailed:
		return "pairing-failed"
	case EventConnected:
		return "connected"
	case EventDisconnected:
		return "disconnected"
	case EventResumed:
		return "resumed"
	case EventSessionClosed:
		return "session-closed"
	case EventUnpaired:
		return "unpaired"
	default:
		return "unknown"
	}
}

// Event is something that happened to the node.
type Event struct {
	Kind EventKind
	Peer identity.PeerID
	Err  error
	Time time.Time
}

// eventQueueSize bounds the events a slow reader can fall behind by; past it
// the oldest event is dropped, so the node never blocks on an application
// that does not read its events.
const eventQueueSize = 128

// emit reports e on the node's event stream.
func (n *Node) emit(e Event) {
	if e.Time.IsZero() {
		e.Time = time.Now()
	}
	n.events.Push(e)
}
