// Package dropq is a bounded queue read as a channel that never blocks its
// writer: when the reader falls behind by the queue's size, the oldest value
// is dropped and counted. Nodes and sessions use it for their event streams,
// so that an application that does not read its events cannot stall them.
package dropq

import "sync"

// Queue is a drop-oldest queue. Its methods are safe for concurrent use.
type Queue[T any] struct {
	ch      chan T
	mu      sync.Mutex
	dropped uint64 // guarded by mu
	closed  bool   // guarded by mu
}

// New returns a queue that holds up to size values.
func New[T any](size int) *Queue[T] { return &Queue[T]{ch: make(chan T, size)} }

// C is the channel the reader receives from.
func (q *Queue[T]) C() <-chan T { return q.ch }

// Push adds v, dropping the oldest value if the queue is full. After
// PushLast it does nothing.
func (q *Queue[T]) Push(v T) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.pushLocked(v)
}

// PushLast adds v as the last value and closes the channel after it.
func (q *Queue[T]) PushLast(v T) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.pushLocked(v) {
		q.closed = true
		close(q.ch)
	}
}

func (q *Queue[T]) pushLocked(v T) bool {
	if q.closed {
		return false
	}
	for {
		select {
		case q.ch <- v:
			return true
		default:
		}
		select {
		case <-q.ch:
			q.dropped++
		default:
		}
	}
}

// Dropped returns how many values were dropped unread.
func (q *Queue[T]) Dropped() uint64 {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.dropped
}
