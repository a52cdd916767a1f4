package session_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"testing"
	"time"

	"github.com/cairn-dev/cairn/internal/session"
	"github.com/cairn-dev/cairn/internal/session/sessiontest"
)

// board connects a dialer to whichever acceptor session is up, as a node's
// accept loop would across a process restart: while the acceptor is down,
// redials fail.
type board struct {
	mu   sync.Mutex
	acc  *session.Session // nil while the acceptor is down
	ends []*sessiontest.Faulty
	wg   sync.WaitGroup
}

func (b *board) setAcceptor(s *session.Session) {
	b.mu.Lock()
	b.acc = s
	b.mu.Unlock()
}

// lastEnd returns the dialer end of the newest transport.
func (b *board) lastEnd() *sessiontest.Faulty {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.ends[len(b.ends)-1]
}

func (b *board) pipe() (*sessiontest.Faulty, session.Transport) {
	d, a := sessiontest.Pipe()
	fd := sessiontest.NewFaulty(d, sessiontest.Faults{})
	b.mu.Lock()
	b.ends = append(b.ends, fd)
	b.mu.Unlock()
	return fd, a
}

func (b *board) redial(ctx context.Context) (session.Transport, error) {
	b.mu.Lock()
	acc := b.acc
	b.mu.Unlock()
	if acc == nil {
		return nil, errors.New("acceptor down")
	}
	d, a := b.pipe()
	b.wg.Add(1)
	go func() {
		defer b.wg.Done()
		hctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		h, err := session.ReadHello(hctx, a)
		if err != nil {
			a.Close()
			return
		}
		acc.Attach(a, h)
	}()
	return d, nil
}

// startBoard starts a dialer and an acceptor session on a board.
func startBoard(t *testing.T) (*board, *session.Session, *session.Session) {
	t.Helper()
	b := &board{}
	t.Cleanup(b.wg.Wait)
	dcfg := fastConfig(session.Dialer)
	dcfg.Redial = b.redial
	d, a := b.pipe()
	ctx := ctxT(t, 10*time.Second)
	ch := make(chan *session.Session, 1)
	go func() {
		s, err := session.New(ctx, a, fastConfig(session.Acceptor))
		if err != nil {
			t.Error(err)
		}
		ch <- s
	}()
	ds, err := session.New(ctx, d, dcfg)
	as := <-ch
	if err != nil || as == nil {
		t.Fatalf("failed to start: %v", err)
	}
	t.Cleanup(func() { ds.Close() })
	t.Cleanup(func() { as.Close() })
	b.setAcceptor(as)
	return b, ds, as
}

func sendRange(t *testing.T, ch *session.Channel, from, to int) {
	t.Helper()
	ctx := ctxT(t, 10*time.Second)
	for i := from; i < to; i++ {
		if err := ch.Send(ctx, message(uint64(ch.ID()), i, 40+i)); err != nil {
			t.Fatalf("send %d on %q: %v", i, ch.Name(), err)
		}
	}
}

func receiveRange(t *testing.T, ch *session.Channel, key uint64, from, to int) {
	t.Helper()
	ctx := ctxT(t, 10*time.Second)
	for i := from; i < to; i++ {
		m, err := ch.Receive(ctx)
		if err != nil {
			t.Fatalf("receive %d on %q: %v", i, ch.Name(), err)
		}
		if want := message(key, i, 40+i); string(m) != string(want) {
			t.Fatalf("message %d on %q: got %d bytes %x..., want %x...", i, ch.Name(), len(m), m[:8], want[:8])
		}
	}
}

// receiveEOF checks that nothing follows on ch (after the peer's CloseWrite).
func receiveEOF(t *testing.T, ch *session.Channel) {
	t.Helper()
	if m, err := ch.Receive(ctxT(t, 10*time.Second)); !errors.Is(err, io.EOF) {
		t.Fatalf("after the last message: %d bytes, %v; want io.EOF", len(m), err)
	}
}

func acceptNamed(t *testing.T, s *session.Session, want ...string) []*session.Channel {
	t.Helper()
	var out []*session.Channel
	for _, name := range want {
		ch, err := s.AcceptChannel(ctxT(t, 10*time.Second))
		if err != nil {
			t.Fatalf("AcceptChannel: %v", err)
		}
		if ch.Name() != name {
			t.Fatalf("channel %q, want %q", ch.Name(), name)
		}
		out = append(out, ch)
	}
	return out
}

// TestSuspendRestoreAcceptor: the acceptor suspends with data received and
// acknowledged but unread, and with its own messages unacknowledged; the
// dialer keeps sending while it is down; after Restore everything arrives
// exactly once, in order, both ways.
func TestSuspendRestoreAcceptor(t *testing.T) {
	b, d, a := startBoard(t)
	ctx := ctxT(t, 20*time.Second)
	up, err := d.OpenChannel(ctx, "up")
	if err != nil {
		t.Fatal(err)
	}
	sendRange(t, up, 0, 10)
	aUp := acceptNamed(t, a, "up")[0]
	receiveRange(t, aUp, uint64(up.ID()), 0, 4)
	if err := d.Flush(ctx); err != nil { // 4..9 acknowledged, unread
		t.Fatal(err)
	}
	down, err := a.OpenChannel(ctx, "down")
	if err != nil {
		t.Fatal(err)
	}
	sendRange(t, down, 0, 3)
	if err := a.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	dDown := acceptNamed(t, d, "down")[0]
	receiveRange(t, dDown, uint64(down.ID()), 0, 1)

	// The path stalls: what is sent now stays unacknowledged.
	b.lastEnd().Stall()
	sendRange(t, up, 10, 20)
	sendRange(t, down, 3, 13)
	if st := a.Stats(); st.Unacked == 0 {
		t.Fatal("the acceptor has nothing unacknowledged")
	}

	b.setAcceptor(nil)
	state, err := a.Suspend(ctx)
	if err != nil {
		t.Fatal(err)
	}
	mustIs(t, a.Err(), session.ErrSuspended)
	if _, err := a.Suspend(ctx); !errors.Is(err, session.ErrSuspended) {
		t.Fatalf("second Suspend: %v", err)
	}
	b.lastEnd().Close() // the dialer notices the drop
	waitEvent(t, d, session.EventDisconnected, 5*time.Second)
	sendRange(t, up, 20, 30) // while the acceptor is down
	if err := up.CloseWrite(); err != nil {
		t.Fatal(err)
	}

	id, role, err := session.StateInfo(state)
	if err != nil || id != d.ID() || role != session.Acceptor {
		t.Fatalf("StateInfo = %v, %v, %v", id, role, err)
	}
	if _, err := session.Restore(state, fastConfig(session.Dialer)); err == nil {
		t.Fatal("Restore with the wrong role succeeded")
	}
	// The suspended session turns resumes away without a Reject, so the
	// dialer keeps trying instead of failing with ErrUnknownSession.
	b.setAcceptor(a)
	time.Sleep(200 * time.Millisecond)
	if err := d.Err(); err != nil {
		t.Fatalf("the dialer failed on the suspended acceptor: %v", err)
	}
	a2, err := session.Restore(state, fastConfig(0))
	if err != nil {
		t.Fatal(err)
	}
	defer a2.Close()
	if !a2.Restored() || a.Restored() || a2.ID() != d.ID() {
		t.Fatal("Restored or ID wrong")
	}
	b.setAcceptor(a2)
	waitEvent(t, d, session.EventResumed, 10*time.Second)
	chs := acceptNamed(t, a2, "up", "down")
	receiveRange(t, chs[0], uint64(up.ID()), 4, 30)
	receiveEOF(t, chs[0])
	sendRange(t, chs[1], 13, 20)
	if err := chs[1].CloseWrite(); err != nil {
		t.Fatal(err)
	}
	receiveRange(t, dDown, uint64(down.ID()), 1, 20)
	receiveEOF(t, dDown)
	if st := a2.Stats(); st.Duplicates != 0 || st.BadRecords != 0 {
		t.Fatalf("restored acceptor stats %+v", st)
	}
	if st := d.Stats(); st.BadRecords != 0 {
		t.Fatalf("dialer stats %+v", st)
	}
}

// TestRestoreSmallerRecvBuffer: a session restored with a smaller RecvBuffer
// keeps giving new channels the window its peer was told at the start, so
// the peer's data on a channel opened after the restore all arrives.
func TestRestoreSmallerRecvBuffer(t *testing.T) {
	b, d, a := startBoard(t)
	ctx := ctxT(t, 20*time.Second)
	b.setAcceptor(nil)
	state, err := a.Suspend(ctx)
	if err != nil {
		t.Fatal(err)
	}
	b.lastEnd().Close()
	waitEvent(t, d, session.EventDisconnected, 5*time.Second)
	cfg := fastConfig(session.Acceptor)
	cfg.RecvBuffer = 64 << 10 // the original was the default, 1 MiB
	a2, err := session.Restore(state, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer a2.Close()
	b.setAcceptor(a2)
	waitEvent(t, d, session.EventResumed, 10*time.Second)

	ch, err := d.OpenChannel(ctx, "late")
	if err != nil {
		t.Fatal(err)
	}
	big := bytes.Repeat([]byte{7}, 512<<10)
	if err := ch.Send(ctx, big); err != nil {
		t.Fatal(err)
	}
	if err := ch.Send(ctx, []byte("second")); err != nil {
		t.Fatal(err)
	}
	got := acceptNamed(t, a2, "late")[0]
	for i, want := range [][]byte{big, []byte("second")} {
		msg, err := got.Receive(ctx)
		if err != nil || !bytes.Equal(msg, want) {
			t.Fatalf("message %d: %d bytes, %v; want %d bytes", i, len(msg), err, len(want))
		}
	}
	if st := a2.Stats(); st.BadRecords != 0 {
		t.Fatalf("restored acceptor stats %+v", st)
	}
}

// TestSuspendRestoreDialer: the dialer suspends with unacknowledged
// messages; the restored dialer redials at once and resumes.
func TestSuspendRestoreDialer(t *testing.T) {
	b, d, a := startBoard(t)
	ctx := ctxT(t, 20*time.Second)
	up, err := d.OpenChannel(ctx, "up")
	if err != nil {
		t.Fatal(err)
	}
	sendRange(t, up, 0, 10)
	aUp := acceptNamed(t, a, "up")[0]
	receiveRange(t, aUp, uint64(up.ID()), 0, 5)
	down, err := a.OpenChannel(ctx, "down")
	if err != nil {
		t.Fatal(err)
	}
	sendRange(t, down, 0, 5)
	if err := a.Flush(ctx); err != nil { // the dialer holds 0..4, unread
		t.Fatal(err)
	}
	b.lastEnd().Stall()
	sendRange(t, up, 10, 20)
	if d.Stats().Unacked == 0 {
		t.Fatal("nothing unacknowledged")
	}
	state, err := d.Suspend(ctx)
	if err != nil {
		t.Fatal(err)
	}
	waitEvent(t, a, session.EventDisconnected, 5*time.Second)
	if err := up.Send(ctx, []byte("late")); !errors.Is(err, session.ErrSuspended) {
		t.Fatalf("Send after Suspend: %v", err)
	}

	cfg := fastConfig(session.Dialer)
	cfg.Redial = b.redial
	d2, err := session.Restore(state, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer d2.Close()
	waitEvent(t, d2, session.EventResumed, 10*time.Second)
	chs := acceptNamed(t, d2, "up", "down")
	sendRange(t, chs[0], 20, 30)
	if err := chs[0].CloseWrite(); err != nil {
		t.Fatal(err)
	}
	receiveRange(t, aUp, uint64(up.ID()), 5, 30)
	receiveEOF(t, aUp)
	receiveRange(t, chs[1], uint64(down.ID()), 0, 5)
	if err := down.CloseWrite(); err != nil {
		t.Fatal(err)
	}
	receiveEOF(t, chs[1])
	if st := a.Stats(); st.BadRecords != 0 || st.Resumes != 1 {
		t.Fatalf("acceptor stats %+v", st)
	}
}

// TestSuspendWaitsForMessageInProgress: a message Send blocked on credit
// when Suspend starts may finish, so no message is cut in two; new Sends
// fail with ErrSuspended.
func TestSuspendWaitsForMessageInProgress(t *testing.T) {
	b, d, a := startBoard(t)
	ctx := ctxT(t, 20*time.Second)
	ch, err := d.OpenChannel(ctx, "big")
	if err != nil {
		t.Fatal(err)
	}
	other, err := d.OpenChannel(ctx, "other")
	if err != nil {
		t.Fatal(err)
	}
	big := message(7, 0, session.MaxMessage) // more than the 1 MiB credit in records
	sent := make(chan error, 1)
	go func() { sent <- ch.Send(ctx, big) }()
	in := acceptNamed(t, a, "big", "other")[0]
	// 15 records fit in the credit; the 16th waits for the reader.
	for deadline := time.Now().Add(5 * time.Second); a.Stats().Buffered < 15*session.MaxPayload; {
		if time.Now().After(deadline) {
			t.Fatalf("the big message did not start: %+v", a.Stats())
		}
		time.Sleep(5 * time.Millisecond)
	}
	type res struct {
		b   []byte
		err error
	}
	suspended := make(chan res, 1)
	go func() {
		b, err := d.Suspend(ctx)
		suspended <- res{b, err}
	}()
	time.Sleep(50 * time.Millisecond)
	select {
	case r := <-suspended:
		t.Fatalf("Suspend did not wait for the message: %v", r.err)
	default:
	}
	if err := other.Send(ctx, []byte("x")); !errors.Is(err, session.ErrSuspended) {
		t.Fatalf("Send while suspending: %v", err)
	}
	received := make(chan res, 1)
	go func() { // grants the credit the Send waits for
		m, err := in.Receive(ctx)
		received <- res{m, err}
	}()
	if err := <-sent; err != nil {
		t.Fatalf("Send in progress: %v", err)
	}
	r := <-suspended
	if r.err != nil {
		t.Fatal(r.err)
	}
	cfg := fastConfig(session.Dialer)
	cfg.Redial = b.redial
	d2, err := session.Restore(r.b, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer d2.Close()
	got := <-received
	if got.err != nil || string(got.b) != string(big) {
		t.Fatalf("Receive = %d bytes, %v", len(got.b), got.err)
	}
	chs := acceptNamed(t, d2, "big", "other")
	if err := chs[0].Send(ctx, []byte("after")); err != nil {
		t.Fatal(err)
	}
	if m, err := in.Receive(ctx); err != nil || string(m) != "after" {
		t.Fatalf("next message = %q, %v", m, err)
	}
}

// TestRestoreBadState: garbage and truncations are refused with a
// StateError.
func TestRestoreBadState(t *testing.T) {
	_, d, _ := startBoard(t)
	ctx := ctxT(t, 10*time.Second)
	if _, err := d.OpenChannel(ctx, "x"); err != nil {
		t.Fatal(err)
	}
	state, err := d.Suspend(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for i := range len(state) {
		_, err := session.Restore(state[:i], fastConfig(0))
		var se *session.StateError
		if !errors.As(err, &se) || !errors.Is(err, session.ErrBadState) {
			t.Fatalf("truncated to %d: %v", i, err)
		}
	}
	for _, bad := range [][]byte{nil, []byte("cses\x02"), append(append([]byte{}, state...), 0)} {
		if _, err := session.Restore(bad, fastConfig(0)); !errors.Is(err, session.ErrBadState) {
			t.Fatalf("Restore(%q): %v", fmt.Sprintf("%.10x", bad), err)
		}
	}
}
