package cairn

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"testing"
	"time"

	"github.com/cairn-dev/cairn/identity"
	"github.com/cairn-dev/cairn/internal/session"
	"github.com/cairn-dev/cairn/relay"
	"github.com/cairn-dev/cairn/relay/relaytest"
	"github.com/cairn-dev/cairn/store"
)

// persistOpts are the options of a node whose sessions survive restarts.
func persistOpts(relayURL string) []Option {
	return []Option{WithRelay(relayURL), WithSessionPersistence(true), WithResumeTimeout(25 * time.Second)}
}

// persistentPair returns two nodes with session persistence, paired through
// a relay, and their data directories.
func persistentPair(t *testing.T) (a, b *Node, dirA, dirB string, opts []Option) {
	t.Helper()
	url, _ := relaytest.Start(t, relay.Config{})
	opts = persistOpts(url)
	dirA, dirB = t.TempDir(), t.TempDir()
	a = newTestNode(t, append(opts, WithDataDir(dirA))...)
	b = newTestNode(t, append(opts, WithDataDir(dirB))...)
	pairByPIN(t, a, b)
	return a, b, dirA, dirB, opts
}

func numbered(i int) []byte { return fmt.Appendf(nil, "message %04d", i) }

func sendNumbered(t *testing.T, ch *Channel, from, to int) {
	t.Helper()
	ctx := testCtx(t)
	for i := from; i < to; i++ {
		if err := ch.Send(ctx, numbered(i)); err != nil {
			t.Fatalf("Send %d: %v", i, err)
		}
	}
}

// receiveNumbered receives exactly messages from..to-1, in order.
func receiveNumbered(t *testing.T, ch *Channel, from, to int) {
	t.Helper()
	ctx := testCtx(t)
	for i := from; i < to; i++ {
		m, err := ch.Receive(ctx)
		if err != nil {
			t.Fatalf("Receive %d: %v", i, err)
		}
		if string(m) != string(numbered(i)) {
			t.Fatalf("got %q, want %q", m, numbered(i))
		}
	}
}

func receiveEnd(t *testing.T, ch *Channel) {
	t.Helper()
	if m, err := ch.Receive(testCtx(t)); !errors.Is(err, io.EOF) {
		t.Fatalf("after the last message: %q, %v; want EOF", m, err)
	}
}

// acceptRestored returns the restored session Accept gives first.
func acceptRestored(t *testing.T, n *Node, peer PeerID) (*Session, *Channel) {
	t.Helper()
	ctx := testCtx(t)
	s, err := n.Accept(ctx)
	if err != nil {
		t.Fatalf("Accept: %v", err)
	}
	if !s.Restored() || s.Peer() != peer {
		t.Fatalf("Accept gave a session with %s, restored %v", s.Peer().Short(), s.Restored())
	}
	ch, err := s.AcceptChannel(ctx)
	if err != nil {
		t.Fatalf("AcceptChannel: %v", err)
	}
	if ch.Name() != "numbers" {
		t.Fatalf("restored channel %q", ch.Name())
	}
	return s, ch
}

// TestSessionPersistenceAcceptorRestart: the acceptor restarts with messages
// received and unread; the dialer keeps sending meanwhile; the restored
// session gets the rest exactly once, in order.
func TestSessionPersistenceAcceptorRestart(t *testing.T) {
	a, b, dirA, _, opts := persistentPair(t)
	ctx := testCtx(t)
	acc := acceptOne(t, a)
	sb, err := b.Connect(ctx, a.PeerID())
	if err != nil {
		t.Fatal(err)
	}
	out, err := sb.OpenChannel(ctx, "numbers")
	if err != nil {
		t.Fatal(err)
	}
	sendNumbered(t, out, 0, 40)
	_, in := acceptedChannel(t, ctx, acc)
	receiveNumbered(t, in, 0, 10)
	if err := sb.Flush(ctx); err != nil { // 10..39 held by A, unread
		t.Fatal(err)
	}
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	if a.Addr() == nil || sb.Err() != nil {
		t.Fatalf("the dialer's session ended: %v", sb.Err())
	}
	sendNumbered(t, out, 40, 60) // while A is down
	if err := out.CloseWrite(); err != nil {
		t.Fatal(err)
	}

	a2 := newTestNode(t, append(opts, WithDataDir(dirA))...)
	_, in2 := acceptRestored(t, a2, b.PeerID())
	receiveNumbered(t, in2, 10, 60)
	receiveEnd(t, in2)
	if err := sb.Err(); err != nil {
		t.Fatalf("dialer session: %v", err)
	}
	if _, err := a2.store.State(sessionIndexState); !errors.Is(err, store.ErrNoState) {
		t.Fatalf("the session index outlived the restore: %v", err)
	}
}

// TestSessionPersistenceDialerRestart: the dialer restarts; its restored
// session finds the peer again (at the direct address it was given) and
// every message accepted by Send before the restart arrives exactly once,
// both ways.
func TestSessionPersistenceDialerRestart(t *testing.T) {
	a, b, _, dirB, opts := persistentPair(t)
	ctx := testCtx(t)
	acc := acceptOne(t, a)
	sb, err := b.ConnectAddr(ctx, a.PeerID(), a.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	out, err := sb.OpenChannel(ctx, "numbers")
	if err != nil {
		t.Fatal(err)
	}
	sendNumbered(t, out, 0, 20)
	sa, in := acceptedChannel(t, ctx, acc)
	receiveNumbered(t, in, 0, 5)
	sendNumbered(t, in, 0, 10) // A to B
	if err := sa.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	receiveNumbered(t, out, 0, 3)
	sendNumbered(t, out, 20, 40) // some are still unacknowledged at Close
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	if err := out.Send(ctx, []byte("late")); err == nil {
		t.Fatal("a channel of the closed node still sends")
	}

	b2 := newTestNode(t, append(opts, WithDataDir(dirB))...)
	sb2, out2 := acceptRestored(t, b2, a.PeerID())
	sendNumbered(t, out2, 40, 50)
	if err := out2.CloseWrite(); err != nil {
		t.Fatal(err)
	}
	receiveNumbered(t, in, 5, 50)
	receiveEnd(t, in)
	receiveNumbered(t, out2, 3, 10)
	if err := in.CloseWrite(); err != nil {
		t.Fatal(err)
	}
	receiveEnd(t, out2)
	if err := errors.Join(sa.Err(), sb2.Err()); err != nil {
		t.Fatalf("sessions: %v", err)
	}
}

// TestSessionPersistenceUnpairedDropped: a saved session whose peer was
// unpaired before the restore is dropped, state and all.
func TestSessionPersistenceUnpairedDropped(t *testing.T) {
	a, b, dirA, _, opts := persistentPair(t)
	ctx := testCtx(t)
	acc := acceptOne(t, a)
	sb, err := b.Connect(ctx, a.PeerID())
	if err != nil {
		t.Fatal(err)
	}
	exchange(t, sb, acc)
	id := sb.s.ID()
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	// Without persistence a node neither restores nor touches saved
	// sessions: unpair while the state waits.
	a2 := newTestNode(t, WithDataDir(dirA))
	name := stateName(session.Acceptor, b.PeerID(), id)
	if _, err := a2.store.State(name); err != nil {
		t.Fatalf("no saved state %s: %v", name, err)
	}
	if err := a2.Unpair(ctx, b.PeerID()); err != nil {
		t.Fatal(err)
	}
	if err := a2.Close(); err != nil {
		t.Fatal(err)
	}

	a3 := newTestNode(t, append(opts, WithDataDir(dirA))...)
	actx, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
	defer cancel()
	if s, err := a3.Accept(actx); err == nil {
		t.Fatalf("Accept gave a session with the unpaired %s", s.Peer().Short())
	}
	for _, n := range []string{name, sessionIndexState} {
		if _, err := a3.store.State(n); !errors.Is(err, store.ErrNoState) {
			t.Fatalf("state %s: %v, want ErrNoState", n, err)
		}
	}
}

// FuzzDecodeSavedSession: a saved session is read back from disk, so its
// decoder must refuse anything malformed with a typed error and never panic;
// what decodes must encode back to the same bytes.
func FuzzDecodeSavedSession(f *testing.F) {
	id, err := identity.Generate(nil)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(encodeSavedSession(id.PeerID(), nil, []byte("state")))
	f.Add(encodeSavedSession(id.PeerID(), []string{"127.0.0.1:4000", "[::1]:4000"}, nil))
	f.Add([]byte{savedSessionVersion})
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		peer, addrs, state, err := decodeSavedSession(b)
		if err != nil {
			if !errors.Is(err, errBadSavedSession) {
				t.Fatalf("untyped error: %v", err)
			}
			return
		}
		if again := encodeSavedSession(peer, addrs, state); !bytes.Equal(again, b) {
			t.Fatalf("re-encoding differs:\n%x\n%x", again, b)
		}
	})
}
