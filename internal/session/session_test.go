package session_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/cairn-dev/cairn/internal/session"
	"github.com/cairn-dev/cairn/internal/session/sessiontest"
)

// message i of stream key: an 8-byte index, then deterministic bytes.
func message(key uint64, i int, size int) []byte {
	if size < 8 {
		size = 8
	}
	b := make([]byte, size)
	binary.BigEndian.PutUint64(b, uint64(i))
	r := rand.NewChaCha8([32]byte{byte(key), byte(key >> 8), byte(i), byte(i >> 8), byte(i >> 16)})
	r.Read(b[8:])
	return b
}

// sendMessages sends n messages with sizes from sizes on ch, then closes the
// sending side.
func sendMessages(ctx context.Context, ch *session.Channel, key uint64, sizes []int) error {
	for i, sz := range sizes {
		if err := ch.Send(ctx, message(key, i, sz)); err != nil {
			return fmt.Errorf("send %d: %w", i, err)
		}
	}
	return ch.CloseWrite()
}

// expectMessages receives exactly the messages sendMessages sent, then EOF.
func expectMessages(ctx context.Context, ch *session.Channel, key uint64, sizes []int) error {
	for i, sz := range sizes {
		m, err := ch.Receive(ctx)
		if err != nil {
			return fmt.Errorf("receive %d: %w", i, err)
		}
		if want := message(key, i, sz); !bytes.Equal(m, want) {
			got := -1
			if len(m) >= 8 {
				got = int(binary.BigEndian.Uint64(m))
			}
			return fmt.Errorf("message %d: got index %d, %d bytes; want %d bytes", i, got, len(m), len(want))
		}
	}
	if m, err := ch.Receive(ctx); !errors.Is(err, io.EOF) {
		return fmt.Errorf("after the last message: got %d bytes, %v; want io.EOF", len(m), err)
	}
	return nil
}

func randSizes(r *rand.Rand, n, max int) []int {
	s := make([]int, n)
	for i := range s {
		s[i] = 8 + r.IntN(max)
	}
	return s
}

// runGroup runs fns concurrently and returns the first error.
func runGroup(fns ...func() error) error {
	var wg sync.WaitGroup
	errs := make([]error, len(fns))
	for i, f := range fns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = f()
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

func TestChannelsInterleaved(t *testing.T) {
	p := newPair(t, defaultPairOpts())
	ctx := ctxT(t, 60*time.Second)
	r := rand.New(rand.NewPCG(1, 2))
	const perSide = 4
	var fns []func() error
	for side := range 2 {
		opener, acceptor := p.d, p.a
		if side == 1 {
			opener, acceptor = p.a, p.d
		}
		sizes := make([][]int, perSide)
		for i := range sizes {
			sizes[i] = randSizes(r, 60, 100<<10)
		}
		for i := range perSide {
			key := uint64(side*100 + i)
			fns = append(fns, func() error {
				ch, err := opener.OpenChannel(ctx, fmt.Sprintf("chan-%d", key))
				if err != nil {
					return err
				}
				defer ch.Close()
				return sendMessages(ctx, ch, key, sizes[i])
			})
		}
		fns = append(fns, func() error {
			var inner []func() error
			for range perSide {
				ch, err := acceptor.AcceptChannel(ctx)
				if err != nil {
					return err
				}
				var key uint64
				if _, err := fmt.Sscanf(ch.Name(), "chan-%d", &key); err != nil {
					return err
				}
				inner = append(inner, func() error {
					defer ch.Close()
					return expectMessages(ctx, ch, key, sizes[key%100])
				})
			}
			return runGroup(inner...)
		})
	}
	if err := runGroup(fns...); err != nil {
		t.Fatal(err)
	}
}

// hashReader is size bytes of deterministic data whose SHA-256 it computes.
func newSource(seed uint64, size int64) io.Reader {
	return io.LimitReader(rand.NewChaCha8([32]byte{byte(seed)}), size)
}

func sumOf(r io.Reader) ([32]byte, int64, error) {
	h := sha256.New()
	n, err := io.Copy(h, r)
	var sum [32]byte
	copy(sum[:], h.Sum(nil))
	return sum, n, err
}

// streamTransfer io.Copies size bytes from the dialer to the acceptor over
// one channel and checks the hash.
func streamTransfer(t *testing.T, p *pair, size int64, extra func(ctx context.Context) error) {
	t.Helper()
	ctx := ctxT(t, 5*time.Minute)
	want, _, _ := sumOf(newSource(7, size))
	var got [32]byte
	var n int64
	fns := []func() error{
		func() error {
			ch, err := p.d.OpenChannel(ctx, "bulk")
			if err != nil {
				return err
			}
			defer ch.Close()
			if _, err := io.Copy(ch, newSource(7, size)); err != nil {
				return err
			}
			if err := ch.CloseWrite(); err != nil {
				return err
			}
			// Wait for the peer's Close so the data is surely delivered.
			_, err = io.Copy(io.Discard, ch)
			return err
		},
		func() error {
			ch, err := p.a.AcceptChannel(ctx)
			if err != nil {
				return err
			}
			defer ch.Close()
			got, n, err = sumOf(ch)
			return err
		},
	}
	if extra != nil {
		fns = append(fns, func() error { return extra(ctx) })
	}
	if err := runGroup(fns...); err != nil {
		t.Fatal(err)
	}
	if n != size || got != want {
		t.Fatalf("received %d bytes (hash match %v), want %d", n, got == want, size)
	}
}

func TestStream64MiB(t *testing.T) {
	size := int64(64 << 20)
	if testing.Short() {
		size = 8 << 20
	}
	p := newPair(t, defaultPairOpts())
	streamTransfer(t, p, size, nil)
}

func TestStreamOverTCP(t *testing.T) {
	opts := defaultPairOpts()
	opts.tcp = true
	p := newPair(t, opts)
	streamTransfer(t, p, 16<<20, nil)
}

// TestCutsMidTransfer cuts the transport every ~1 MiB while a stream and a
// message sequence flow both ways; everything must arrive exactly once.
func TestCutsMidTransfer(t *testing.T) {
	size := int64(32 << 20)
	if testing.Short() {
		size = 8 << 20
	}
	opts := defaultPairOpts()
	r := rand.New(rand.NewPCG(3, 4))
	var mu sync.Mutex
	opts.faults = func(n int) sessiontest.Faults {
		mu.Lock()
		defer mu.Unlock()
		return sessiontest.Faults{CutAfterBytes: 512<<10 + r.Int64N(1<<20)}
	}
	p := newPair(t, opts)
	sizes := randSizes(rand.New(rand.NewPCG(5, 6)), 300, 20<<10)
	streamTransfer(t, p, size, func(ctx context.Context) error {
		return runGroup(
			func() error {
				ch, err := p.a.OpenChannel(ctx, "msgs")
				if err != nil {
					return err
				}
				defer ch.Close()
				return sendMessages(ctx, ch, 42, sizes)
			},
			func() error {
				// The dialer accepts the acceptor's channel.
				ch, err := p.d.AcceptChannel(ctx)
				if err != nil {
					return err
				}
				defer ch.Close()
				return expectMessages(ctx, ch, 42, sizes)
			})
	})
	st := p.d.Stats()
	t.Logf("dialer: %+v", st)
	t.Logf("acceptor: %+v", p.a.Stats())
	if st.Resumes < 5 {
		t.Fatalf("only %d resumes: the faults did not strike", st.Resumes)
	}
	if st.BadRecords != 0 || p.a.Stats().BadRecords != 0 {
		t.Fatal("bad records counted")
	}
}

// TestOpenUndeliveredAtReconnect: a channel whose Open was still queued when
// the transport died must not be announced by a Window on the next transport
// before its Open: the peer would count a record for an unknown channel.
func TestOpenUndeliveredAtReconnect(t *testing.T) {
	opts := defaultPairOpts()
	opts.dialer.DeadAfter = 400 * time.Millisecond
	opts.acceptor.DeadAfter = 400 * time.Millisecond
	opts.faults = func(n int) sessiontest.Faults {
		if n == 0 {
			// Hello and Welcome pass; the Open (or a Ping before it) stalls.
			return sessiontest.Faults{StallAfterRecords: 2}
		}
		return sessiontest.Faults{}
	}
	p := newPair(t, opts)
	ctx := ctxT(t, 10*time.Second)
	ch, err := p.d.OpenChannel(ctx, "late")
	if err != nil {
		t.Fatal(err)
	}
	if err := ch.Send(ctx, []byte("after the stall")); err != nil {
		t.Fatal(err)
	}
	got, err := p.a.AcceptChannel(ctx)
	if err != nil {
		t.Fatal(err)
	}
	msg, err := got.Receive(ctx)
	if err != nil || string(msg) != "after the stall" {
		t.Fatalf("Receive = %q, %v", msg, err)
	}
	if st := p.d.Stats(); st.Resumes == 0 {
		t.Fatalf("the first transport did not stall: %+v", st)
	}
	if st := p.a.Stats(); st.BadRecords != 0 {
		t.Fatalf("acceptor counted %d bad records", st.BadRecords)
	}
}

// TestSlowReceiverBounded: a receiver that does not read stalls its sender;
// the bytes the two sessions buffer stay within SendWindow + RecvBuffer.
func TestSlowReceiverBounded(t *testing.T) {
	const window, buffer = 256 << 10, 128 << 10
	opts := defaultPairOpts()
	opts.dialer.SendWindow, opts.acceptor.RecvBuffer = window, buffer
	p := newPair(t, opts)
	ctx := ctxT(t, time.Minute)
	const size = 8 << 20
	sent := make(chan error, 1)
	ch, err := p.d.OpenChannel(ctx, "slow")
	if err != nil {
		t.Fatal(err)
	}
	defer ch.Close()
	go func() {
		_, err := io.Copy(ch, newSource(1, size))
		if err == nil {
			err = ch.CloseWrite()
		}
		sent <- err
	}()
	peer, err := p.a.AcceptChannel(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer peer.Close()
	peak := 0
	check := func() {
		ds, as := p.d.Stats(), p.a.Stats()
		total := ds.Unacked + as.Buffered
		peak = max(peak, total)
		if ds.Unacked > window+1024 || as.Buffered > buffer || total > window+buffer {
			t.Fatalf("buffered too much: sender %d unacked, receiver %d buffered", ds.Unacked, as.Buffered)
		}
	}
	// Not reading at all: the sender must block, not buffer.
	for range 20 {
		time.Sleep(10 * time.Millisecond)
		check()
	}
	select {
	case err := <-sent:
		t.Fatalf("sender finished while nobody read: %v", err)
	default:
	}
	// Read slowly, in small pieces.
	buf := make([]byte, 32<<10)
	var n int64
	h := sha256.New()
	for {
		k, err := peer.Read(buf)
		h.Write(buf[:k])
		n += int64(k)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if n%(1<<20) < int64(k) {
			check()
			time.Sleep(time.Millisecond)
		}
	}
	if err := <-sent; err != nil {
		t.Fatal(err)
	}
	want, _, _ := sumOf(newSource(1, size))
	if n != size || !bytes.Equal(h.Sum(nil), want[:]) {
		t.Fatalf("got %d bytes, want %d (or hash mismatch)", n, size)
	}
	t.Logf("peak buffered %d bytes (bound %d)", peak, window+buffer)
}

// TestOneStalledChannelDoesNotBlockOthers: per-channel credit.
func TestOneStalledChannelDoesNotBlockOthers(t *testing.T) {
	opts := defaultPairOpts()
	opts.acceptor.RecvBuffer = 64 << 10
	p := newPair(t, opts)
	ctx := ctxT(t, 30*time.Second)
	stuck, err := p.d.OpenChannel(ctx, "stuck")
	if err != nil {
		t.Fatal(err)
	}
	// Fill the stuck channel's credit; nobody reads it.
	if _, err := stuck.Write(make([]byte, 64<<10-session.DataCost)); err != nil {
		t.Fatal(err)
	}
	short, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	if err := stuck.Send(short, []byte("more")); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("send beyond the credit: %v, want deadline exceeded", err)
	}
	live, err := p.d.OpenChannel(ctx, "live")
	if err != nil {
		t.Fatal(err)
	}
	sizes := randSizes(rand.New(rand.NewPCG(1, 1)), 50, 200<<10)
	err = runGroup(
		func() error { return sendMessages(ctx, live, 9, sizes) },
		func() error {
			for {
				ch, err := p.a.AcceptChannel(ctx)
				if err != nil {
					return err
				}
				if ch.Name() == "live" {
					return expectMessages(ctx, ch, 9, sizes)
				}
			}
		})
	if err != nil {
		t.Fatal(err)
	}
}

func TestHeartbeatDetectsStall(t *testing.T) {
	opts := defaultPairOpts()
	opts.dialer.HeartbeatInterval, opts.dialer.DeadAfter = 20*time.Millisecond, 200*time.Millisecond
	opts.acceptor.HeartbeatInterval, opts.acceptor.DeadAfter = 20*time.Millisecond, 200*time.Millisecond
	p := newPair(t, opts)
	ctx := ctxT(t, 30*time.Second)
	ch, err := p.d.OpenChannel(ctx, "x")
	if err != nil {
		t.Fatal(err)
	}
	peer, err := p.a.AcceptChannel(ctx)
	if err != nil {
		t.Fatal(err)
	}
	waitEvent(t, p.d, session.EventConnected, time.Second)
	p.end(0).Stall()
	e := waitEvent(t, p.d, session.EventDisconnected, 5*time.Second)
	t.Logf("dialer: %v", e.Err)
	e = waitEvent(t, p.a, session.EventDisconnected, 5*time.Second)
	t.Logf("acceptor: %v", e.Err)
	waitEvent(t, p.d, session.EventResumed, 5*time.Second)
	if err := ch.Send(ctx, []byte("after the stall")); err != nil {
		t.Fatal(err)
	}
	m, err := peer.Receive(ctx)
	if err != nil || string(m) != "after the stall" {
		t.Fatalf("got %q, %v", m, err)
	}
}

func TestCloseErrors(t *testing.T) {
	p := newPair(t, defaultPairOpts())
	ctx := ctxT(t, 10*time.Second)
	ch, err := p.d.OpenChannel(ctx, "x")
	if err != nil {
		t.Fatal(err)
	}
	peer, err := p.a.AcceptChannel(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.d.Close(); err != nil {
		t.Fatal(err)
	}
	mustIs(t, ch.Send(ctx, []byte("x")), session.ErrClosed)
	_, err = ch.Receive(ctx)
	mustIs(t, err, session.ErrClosed)
	_, err = p.d.OpenChannel(ctx, "y")
	mustIs(t, err, session.ErrClosed)
	_, err = p.d.AcceptChannel(ctx)
	mustIs(t, err, session.ErrClosed)
	// The peer learns it from the Close record.
	<-p.a.Done()
	mustIs(t, p.a.Err(), session.ErrClosed)
	_, err = peer.Receive(ctx)
	mustIs(t, err, session.ErrClosed)
	var ce *session.CloseError
	if !errors.As(p.a.Err(), &ce) || ce.Code != session.CloseNormal {
		t.Fatalf("acceptor error %v, want a CloseError", p.a.Err())
	}
	e := waitEvent(t, p.d, session.EventClosed, time.Second)
	if e.Err != nil {
		t.Fatalf("closed event err %v", e.Err)
	}
	if _, ok := <-p.d.Events(); ok {
		t.Fatal("events not closed after EventClosed")
	}
}

func TestContextCancel(t *testing.T) {
	p := newPair(t, defaultPairOpts())
	ctx, cancel := context.WithCancel(context.Background())
	ch, err := p.d.OpenChannel(ctx, "x")
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		time.Sleep(20 * time.Millisecond)
		cancel()
	}()
	_, err = ch.Receive(ctx)
	mustIs(t, err, context.Canceled)
	_, err = p.a.AcceptChannel(ctx) // the Open arrived: returns at once
	if err != nil {
		mustIs(t, err, context.Canceled)
	}
	_, err = p.a.AcceptChannel(ctx)
	mustIs(t, err, context.Canceled)
}

func TestNoRedialFails(t *testing.T) {
	opts := defaultPairOpts()
	opts.noRedial = true
	opts.acceptor.ResumeTimeout = 200 * time.Millisecond
	p := newPair(t, opts)
	p.end(0).Cut()
	<-p.d.Done()
	mustIs(t, p.d.Err(), session.ErrSessionFailed)
	<-p.a.Done()
	mustIs(t, p.a.Err(), session.ErrSessionFailed)
	mustIs(t, p.a.Err(), session.ErrResumeTimeout)
	ch, err := p.d.OpenChannel(context.Background(), "x")
	if ch != nil || !errors.Is(err, session.ErrSessionFailed) {
		t.Fatalf("open after failure: %v", err)
	}
}

func TestUnknownSessionRejected(t *testing.T) {
	opts := defaultPairOpts()
	p := newPair(t, opts)
	// The acceptor "restarted": it no longer knows the session.
	p.attachF = func(tr session.Transport, h session.Hello) error { return session.Reject(tr, h) }
	p.end(0).Cut()
	<-p.d.Done()
	mustIs(t, p.d.Err(), session.ErrSessionFailed)
	mustIs(t, p.d.Err(), session.ErrUnknownSession)
}

func TestChannelLimitsAndClose(t *testing.T) {
	opts := defaultPairOpts()
	opts.dialer.MaxChannels = 2
	opts.acceptor.MaxChannels = 1
	p := newPair(t, opts)
	ctx := ctxT(t, 10*time.Second)
	a, err := p.d.OpenChannel(ctx, "a")
	if err != nil {
		t.Fatal(err)
	}
	b, err := p.d.OpenChannel(ctx, "b") // refused by the acceptor
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.d.OpenChannel(ctx, "c"); !errors.Is(err, session.ErrTooManyChannels) {
		t.Fatalf("third channel: %v", err)
	}
	if _, err := p.d.OpenChannel(ctx, ""); err == nil {
		t.Fatal("empty name accepted")
	}
	if err := a.Send(ctx, make([]byte, session.MaxMessage+1)); !errors.Is(err, session.ErrMessageTooLarge) {
		t.Fatalf("huge message: %v", err)
	}
	// A message as large as the receive buffer is sent while the peer reads.
	bigSent := make(chan error, 1)
	go func() { bigSent <- a.Send(ctx, make([]byte, session.MaxMessage)) }()
	// The refused channel reads EOF and its writes fail.
	if _, err := b.Receive(ctx); !errors.Is(err, io.EOF) {
		t.Fatalf("refused channel receive: %v", err)
	}
	for err == nil {
		err = b.Send(ctx, []byte("x"))
	}
	mustIs(t, err, session.ErrChannelClosed)

	peer, err := p.a.AcceptChannel(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if m, err := peer.Receive(ctx); err != nil || len(m) != session.MaxMessage {
		t.Fatalf("big message: %d bytes, %v", len(m), err)
	}
	if err := <-bigSent; err != nil {
		t.Fatal(err)
	}
	// Close: the peer reads what was sent, then EOF; its writes then fail.
	if err := a.Send(ctx, []byte("last")); err != nil {
		t.Fatal(err)
	}
	a.Close()
	if m, err := peer.Receive(ctx); err != nil || string(m) != "last" {
		t.Fatalf("got %q, %v", m, err)
	}
	if _, err := peer.Receive(ctx); !errors.Is(err, io.EOF) {
		t.Fatalf("after close: %v", err)
	}
	for err == nil {
		err = peer.Send(ctx, []byte("x"))
	}
	mustIs(t, err, session.ErrChannelClosed)
	peer.Close()
	// Both sides forget the channels; new ones can be opened.
	deadline := time.Now().Add(5 * time.Second)
	for p.d.Stats().Channels != 1 || p.a.Stats().Channels != 0 {
		if time.Now().After(deadline) {
			t.Fatalf("channels not released: %d, %d", p.d.Stats().Channels, p.a.Stats().Channels)
		}
		time.Sleep(5 * time.Millisecond)
	}
	b.Close()
	if _, err := p.d.OpenChannel(ctx, "d"); err != nil {
		t.Fatal(err)
	}
	mustIs(t, a.Send(ctx, nil), session.ErrChannelClosed)
}

func TestEmptyMessages(t *testing.T) {
	p := newPair(t, defaultPairOpts())
	ctx := ctxT(t, 10*time.Second)
	ch, err := p.d.OpenChannel(ctx, "e")
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range [][]byte{nil, []byte("a"), {}} {
		if err := ch.Send(ctx, m); err != nil {
			t.Fatal(err)
		}
	}
	peer, err := p.a.AcceptChannel(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"", "a", ""} {
		m, err := peer.Receive(ctx)
		if err != nil || m == nil || string(m) != want {
			t.Fatalf("got %q (nil %v), %v; want %q", m, m == nil, err, want)
		}
	}
}

func TestFlush(t *testing.T) {
	p := newPair(t, defaultPairOpts())
	ctx := ctxT(t, 10*time.Second)
	ch, err := p.d.OpenChannel(ctx, "f")
	if err != nil {
		t.Fatal(err)
	}
	if err := ch.Send(ctx, make([]byte, 100<<10)); err != nil {
		t.Fatal(err)
	}
	if err := p.d.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if u := p.d.Stats().Unacked; u != 0 {
		t.Fatalf("%d bytes unacked after Flush", u)
	}
}

func TestDelayedTransport(t *testing.T) {
	opts := defaultPairOpts()
	opts.faults = func(int) sessiontest.Faults { return sessiontest.Faults{Delay: 200 * time.Microsecond} }
	p := newPair(t, opts)
	streamTransfer(t, p, 4<<20, nil)
}
