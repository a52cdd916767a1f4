package sessiontest

import (
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cairn-dev/cairn/internal/session"
)

// ErrCut is returned by a Faulty transport after it cut the connection.
var ErrCut = errors.New("sessiontest: connection cut")

// Faults says what a Faulty transport does. Zero fields disable a fault.
type Faults struct {
	// CutAfterBytes cuts the connection once this many record bytes passed
	// through it (both directions); the record crossing the limit is lost.
	CutAfterBytes int64
	// CutAfterRecords cuts the connection after this many records (both
	// directions); the next one is lost.
	CutAfterRecords int64
	// StallAfterRecords stalls the connection after this many records: Send
	// and Recv block until Close, without error (a dead peer or path).
	StallAfterRecords int64
	// Delay is added before every Send.
	Delay time.Duration
}

// Faulty wraps a transport and injects Faults.
type Faulty struct {
	t       session.Transport
	f       Faults
	bytes   atomic.Int64
	records atomic.Int64
	cut     atomic.Bool
	stalled atomic.Bool
	closed  chan struct{}
	once    sync.Once
}

var _ session.Transport = (*Faulty)(nil)

// NewFaulty wraps t.
func NewFaulty(t session.Transport, f Faults) *Faulty {
	return &Faulty{t: t, f: f, closed: make(chan struct{})}
}

// Cut closes the connection now.
func (f *Faulty) Cut() {
	f.cut.Store(true)
	f.t.Close()
}

// Stall makes Send and Recv block from now on until Close.
func (f *Faulty) Stall() { f.stalled.Store(true) }

// count accounts for one record of n bytes and reports whether it may pass.
func (f *Faulty) count(n int) error {
	b := f.bytes.Add(int64(n))
	r := f.records.Add(1)
	if f.f.CutAfterBytes > 0 && b > f.f.CutAfterBytes || f.f.CutAfterRecords > 0 && r > f.f.CutAfterRecords {
		f.Cut()
	}
	if f.f.StallAfterRecords > 0 && r > f.f.StallAfterRecords {
		f.Stall()
	}
	if f.cut.Load() {
		return ErrCut
	}
	if f.stalled.Load() {
		<-f.closed
		return ErrCut
	}
	return nil
}

// Send sends record unless a fault strikes.
func (f *Faulty) Send(record []byte) error {
	if f.f.Delay > 0 {
		t := time.NewTimer(f.f.Delay)
		select {
		case <-t.C:
		case <-f.closed:
			t.Stop()
		}
	}
	if err := f.count(len(record)); err != nil {
		return err
	}
	return f.t.Send(record)
}

// Recv receives a record unless a fault strikes.
func (f *Faulty) Recv() ([]byte, error) { return f.recv(f.t.Recv) }

// RecvInto is Recv, reading into buf when the wrapped transport can (see
// Conn.RecvInto).
func (f *Faulty) RecvInto(buf []byte) ([]byte, error) {
	into, ok := f.t.(interface{ RecvInto([]byte) ([]byte, error) })
	if !ok {
		return f.recv(f.t.Recv)
	}
	return f.recv(func() ([]byte, error) { return into.RecvInto(buf) })
}

func (f *Faulty) recv(read func() ([]byte, error)) ([]byte, error) {
	if f.stalled.Load() {
		<-f.closed
		return nil, ErrCut
	}
	b, err := read()
	if err != nil {
		if f.cut.Load() {
			return nil, ErrCut
		}
		return nil, err
	}
	if err := f.count(len(b)); err != nil {
		return nil, err
	}
	return b, nil
}

// Close closes the connection and unblocks stalled calls.
func (f *Faulty) Close() error {
	f.once.Do(func() { close(f.closed) })
	return f.t.Close()
}
