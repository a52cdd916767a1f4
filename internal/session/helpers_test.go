package session_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/cairn-dev/cairn/internal/session"
	"github.com/cairn-dev/cairn/internal/session/sessiontest"
)

// pairOpts configures newPair.
type pairOpts struct {
	dialer, acceptor session.Config
	// faults returns the faults of the n-th transport (0 is the first),
	// applied on the dialer's end.
	faults func(n int) sessiontest.Faults
	// noRedial leaves the dialer without Redial.
	noRedial bool
	// tcp uses loopback TCP instead of in-memory pipes.
	tcp bool
}

// pair is a dialer and an acceptor session connected by test transports.
// The dialer's Redial makes a new transport and hands the other end to the
// acceptor's Attach, as a node's accept loop would.
type pair struct {
	d, a    *session.Session
	mu      sync.Mutex
	n       int                   // transports made
	ends    []*sessiontest.Faulty // the dialer ends, by transport number
	wg      sync.WaitGroup        // accept goroutines
	ready   chan struct{}         // closed once a is set
	opts    pairOpts
	attachF func(session.Transport, session.Hello) error
}

func fastConfig(role session.Role) session.Config {
	return session.Config{
		Role:              role,
		HeartbeatInterval: 100 * time.Millisecond,
		DeadAfter:         3 * time.Second,
		ResumeTimeout:     20 * time.Second,
		ReconnectMin:      time.Millisecond,
		ReconnectMax:      20 * time.Millisecond,
	}
}

func defaultPairOpts() pairOpts {
	return pairOpts{dialer: fastConfig(session.Dialer), acceptor: fastConfig(session.Acceptor)}
}

func (p *pair) transport() (session.Transport, session.Transport, *sessiontest.Faulty, error) {
	var d, a session.Transport
	if p.opts.tcp {
		var err error
		if d, a, err = sessiontest.TCP(); err != nil {
			return nil, nil, nil, err
		}
	} else {
		d, a = sessiontest.Pipe()
	}
	p.mu.Lock()
	n := p.n
	p.n++
	var f sessiontest.Faults
	if p.opts.faults != nil {
		f = p.opts.faults(n)
	}
	fd := sessiontest.NewFaulty(d, f)
	p.ends = append(p.ends, fd)
	p.mu.Unlock()
	return fd, a, fd, nil
}

// end returns the dialer end of the n-th transport.
func (p *pair) end(n int) *sessiontest.Faulty {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.ends[n]
}

func (p *pair) redial(ctx context.Context) (session.Transport, error) {
	d, a, _, err := p.transport()
	if err != nil {
		return nil, err
	}
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		hctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		h, err := session.ReadHello(hctx, a)
		if err != nil {
			a.Close()
			return
		}
		select {
		case <-p.ready:
		case <-hctx.Done():
			a.Close()
			return
		}
		p.attachF(a, h)
	}()
	return d, nil
}

func newPair(t testing.TB, opts pairOpts) *pair {
	t.Helper()
	p, err := startPair(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.close)
	return p
}

// startPair connects a dialer and an acceptor session; close the pair after.
func startPair(opts pairOpts) (*pair, error) {
	p := &pair{opts: opts, ready: make(chan struct{})}
	if !opts.noRedial {
		p.opts.dialer.Redial = p.redial
	}
	d, a, _, err := p.transport()
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	type res struct {
		s   *session.Session
		err error
	}
	ch := make(chan res, 1)
	go func() {
		s, err := session.New(ctx, a, p.opts.acceptor)
		ch <- res{s, err}
	}()
	p.d, err = session.New(ctx, d, p.opts.dialer)
	r := <-ch
	if err != nil || r.err != nil {
		if p.d != nil {
			p.d.Close()
		}
		if r.s != nil {
			r.s.Close()
		}
		return nil, fmt.Errorf("failed to start the pair: %w", errors.Join(err, r.err))
	}
	p.a = r.s
	p.attachF = p.a.Attach
	close(p.ready)
	return p, nil
}

func (p *pair) close() {
	p.d.Close()
	p.a.Close()
	p.wg.Wait()
}

// waitEvent waits for an event of kind on s.
func waitEvent(t testing.TB, s *session.Session, kind session.EventKind, timeout time.Duration) session.Event {
	t.Helper()
	tm := time.NewTimer(timeout)
	defer tm.Stop()
	for {
		select {
		case e, ok := <-s.Events():
			if !ok {
				t.Fatalf("events closed while waiting for %v", kind)
			}
			if e.Kind == kind {
				return e
			}
		case <-tm.C:
			t.Fatalf("no %v event within %v", kind, timeout)
		}
	}
}

func ctxT(t testing.TB, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

func mustIs(t testing.TB, err, target error) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Fatalf("got error %v, want %v", err, target)
	}
}
