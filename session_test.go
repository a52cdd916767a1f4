package cairn

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"net"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cairn-dev/cairn/internal/frame"
	"github.com/cairn-dev/cairn/internal/handshake"
	"github.com/cairn-dev/cairn/internal/wire"
	"github.com/cairn-dev/cairn/relay"
	"github.com/cairn-dev/cairn/relay/relaytest"
	"github.com/flynn/noise"
)

// pairedNodes returns two nodes paired through a relay.
func pairedNodes(t testing.TB, opts ...Option) (a, b *Node, relayURL string) {
	t.Helper()
	a, b, relayURL = relayNodes(t, opts...)
	pairByPIN(t, a, b)
	return a, b, relayURL
}

// relayNodes starts a relay and two nodes that use it (not paired).
func relayNodes(t testing.TB, opts ...Option) (a, b *Node, relayURL string) {
	t.Helper()
	relayURL, _ = relaytest.Start(t, relay.Config{})
	opts = append([]Option{WithRelay(relayURL)}, opts...)
	return newTestNode(t, opts...), newTestNode(t, opts...), relayURL
}

func acceptOne(t testing.TB, n *Node) <-chan *Session {
	out := make(chan *Session, 1)
	go func() {
		s, err := n.Accept(testCtx(t))
		if err != nil {
			// A node closed at the end of a test that did not need the
			// session is no failure; a test that did fails reading out.
			if !errors.Is(err, ErrClosed) {
				t.Errorf("Accept: %v", err)
			}
			close(out)
			return
		}
		out <- s
	}()
	return out
}

// acceptedChannel waits for the session acceptOne delivers and for the first
// channel the peer opens on it.
func acceptedChannel(t testing.TB, ctx context.Context, acc <-chan *Session) (*Session, *Channel) {
	t.Helper()
	s, ok := <-acc
	if !ok {
		t.FailNow()
	}
	in, err := s.AcceptChannel(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return s, in
}

// exchange checks messages flow both ways on a fresh channel.
func exchange(t testing.TB, dialer *Session, acceptor <-chan *Session) *Session {
	t.Helper()
	ctx := testCtx(t)
	ch, err := dialer.OpenChannel(ctx, "chat")
	if err != nil {
		t.Fatal(err)
	}
	if err := ch.Send(ctx, []byte("hello")); err != nil {
		t.Fatal(err)
	}
	s, in := acceptedChannel(t, ctx, acceptor)
	if in.Name() != "chat" {
		t.Fatalf("channel name %q", in.Name())
	}
	if msg, err := in.Receive(ctx); err != nil || string(msg) != "hello" {
		t.Fatalf("Receive = %q, %v", msg, err)
	}
	if err := in.Send(ctx, []byte("hi back")); err != nil {
		t.Fatal(err)
	}
	if msg, err := ch.Receive(ctx); err != nil || string(msg) != "hi back" {
		t.Fatalf("reply = %q, %v", msg, err)
	}
	return s
}

func TestConnectThroughRelay(t *testing.T) {
	a, b, _ := pairedNodes(t)
	acc := acceptOne(t, a)
	s, err := b.Connect(testCtx(t), a.PeerID())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if s.Peer() != a.PeerID() {
		t.Fatalf("session with %v", s.Peer())
	}
	sa := exchange(t, s, acc)
	if sa.Peer() != b.PeerID() {
		t.Fatalf("accepted session with %v", sa.Peer())
	}
}

func TestConnectDirect(t *testing.T) {
	a, b, _ := pairedNodes(t)
	acc := acceptOne(t, a)
	s, err := b.ConnectAddr(testCtx(t), a.PeerID(), a.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	exchange(t, s, acc)
}

func TestConnectUnknownPeer(t *testing.T) {
	a, _, url := pairedNodes(t)
	stranger := newTestNode(t, WithRelay(url))
	if _, err := a.Connect(testCtx(t), stranger.PeerID()); !errors.Is(err, ErrUnknownPeer) {
		t.Fatalf("Connect to an unpaired peer = %v, want ErrUnknownPeer", err)
	}
}

// TestPinnedKeyRefused dials the right peer expecting another key under
// its PeerID (the trust store itself refuses to hold such an entry): the
// handshake must refuse the peer although its PeerID string matches.
func TestPinnedKeyRefused(t *testing.T) {
	a, b, _ := pairedNodes(t)
	entry, err := b.peer(a.PeerID())
	if err != nil {
		t.Fatal(err)
	}
	other, _, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	entry.PublicKey = other
	_, _, err = b.dialPeer(testCtx(t), entry, wire.PurposeSession, []string{a.Addr().String()})
	if !errors.Is(err, handshake.ErrPeerMismatch) {
		t.Fatalf("dial with another pinned key = %v, want handshake.ErrPeerMismatch", err)
	}
}

func TestChannelsInterleaved(t *testing.T) {
	a, b, _ := pairedNodes(t)
	acc := acceptOne(t, a)
	ctx := testCtx(t)
	s, err := b.ConnectAddr(ctx, a.PeerID(), a.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	const chans, msgs = 4, 200
	var wg sync.WaitGroup
	for c := range chans {
		ch, err := s.OpenChannel(ctx, fmt.Sprintf("c%d", c))
		if err != nil {
			t.Fatal(err)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range msgs {
				if err := ch.Send(ctx, fmt.Appendf(nil, "%s/%d", ch.Name(), i)); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	sa, ok := <-acc
	if !ok {
		t.FailNow()
	}
	for range chans {
		in, err := sa.AcceptChannel(ctx)
		if err != nil {
			t.Fatal(err)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range msgs {
				msg, err := in.Receive(ctx)
				if err != nil {
					t.Error(err)
					return
				}
				if want := fmt.Sprintf("%s/%d", in.Name(), i); string(msg) != want {
					t.Errorf("got %q, want %q", msg, want)
					return
				}
			}
		}()
	}
	wg.Wait()
}

// TestStreamSurvivesCuts copies 64 MiB through a proxy that cuts the
// connection repeatedly; the hash must match and nothing may be lost or
// duplicated.
func TestStreamSurvivesCuts(t *testing.T) {
	size := 64 << 20
	if testing.Short() {
		size = 8 << 20
	}
	a, b, _ := pairedNodes(t)
	proxy := newFaultProxy(t, a.Addr().String())
	acc := acceptOne(t, a)
	ctx := testCtx(t)
	s, err := b.ConnectAddr(ctx, a.PeerID(), proxy.addr())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ch, err := s.OpenChannel(ctx, "bulk")
	if err != nil {
		t.Fatal(err)
	}
	sent := sha256.New()
	go func() {
		src := io.TeeReader(io.LimitReader(rand.Reader, int64(size)), sent)
		if _, err := io.Copy(ch, src); err != nil {
			t.Errorf("copy: %v", err)
		}
		ch.CloseWrite()
	}()
	_, in := acceptedChannel(t, ctx, acc)
	got := sha256.New()
	stopCuts := make(chan struct{})
	cutsDone := make(chan int)
	go func() {
		cuts := 0
		tick := time.NewTicker(150 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-stopCuts:
				cutsDone <- cuts
				return
			case <-tick.C:
				if cuts < 20 {
					cuts += min(proxy.cut(), 1)
				}
			}
		}
	}()
	n, err := io.Copy(got, in)
	close(stopCuts)
	cuts := <-cutsDone
	if err != nil {
		t.Fatalf("receive after %d bytes: %v", n, err)
	}
	if n != int64(size) || !bytes.Equal(got.Sum(nil), sent.Sum(nil)) {
		t.Fatalf("received %d bytes, want %d; hashes equal: %v", n, size, bytes.Equal(got.Sum(nil), sent.Sum(nil)))
	}
	t.Logf("%d MiB intact across %d cuts", size>>20, cuts)
	if cuts == 0 {
		t.Log("the transfer finished before the first cut")
	}
}

func TestRelayRestartMidSession(t *testing.T) {
	url, srv := relaytest.Start(t, relay.Config{})
	a := newTestNode(t, WithRelay(url))
	b := newTestNode(t, WithRelay(url))
	pairByPIN(t, a, b)
	acc := acceptOne(t, a)
	ctx := testCtx(t)
	s, err := b.Connect(ctx, a.PeerID())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	sa := exchange(t, s, acc)
	srv.Close()
	relaytest.StartAt(t, relay.Config{}, strings.TrimPrefix(url, "http://"))

	ch, err := s.OpenChannel(ctx, "after-restart")
	if err != nil {
		t.Fatal(err)
	}
	if err := ch.Send(ctx, []byte("still here")); err != nil {
		t.Fatal(err)
	}
	in, err := sa.AcceptChannel(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if msg, err := in.Receive(ctx); err != nil || string(msg) != "still here" {
		t.Fatalf("after the relay restart: %q, %v", msg, err)
	}
}

func TestUnpairSeenByPeer(t *testing.T) {
	a, b, _ := pairedNodes(t)
	if err := b.Unpair(testCtx(t), a.PeerID()); err != nil {
		t.Fatal(err)
	}
	if isPaired(t, b, a.PeerID()) {
		t.Fatal("b still has a")
	}
	ev := waitEvent(t, a, EventUnpaired)
	if ev.Peer != b.PeerID() {
		t.Fatalf("unpair event for %v", ev.Peer)
	}
	if isPaired(t, a, b.PeerID()) {
		t.Fatal("a still has b after the notice")
	}
	if _, err := b.Connect(testCtx(t), a.PeerID()); !errors.Is(err, ErrUnknownPeer) {
		t.Fatalf("Connect after Unpair = %v, want ErrUnknownPeer", err)
	}
}

func TestSendAfterClose(t *testing.T) {
	a, b, _ := pairedNodes(t)
	acceptOne(t, a)
	ctx := testCtx(t)
	s, err := b.ConnectAddr(ctx, a.PeerID(), a.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	ch, err := s.OpenChannel(ctx, "x")
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	if err := ch.Send(ctx, []byte("late")); !errors.Is(err, ErrSessionClosed) {
		t.Fatalf("Send after Close = %v, want ErrSessionClosed", err)
	}
	if _, err := s.OpenChannel(ctx, "y"); !errors.Is(err, ErrSessionClosed) {
		t.Fatalf("OpenChannel after Close = %v, want ErrSessionClosed", err)
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := b.ConnectAddr(cctx, a.PeerID(), a.Addr().String()); !errors.Is(err, context.Canceled) {
		t.Fatalf("Connect with a cancelled context = %v", err)
	}
}

// TestStrangerLearnsNoIdentity plays a relay operator who knows a session
// tag but not the pairing secret: it reaches the acceptor and starts a Noise
// XX handshake, and must not be able to read the acceptor's identity from
// message 2.
func TestStrangerLearnsNoIdentity(t *testing.T) {
	a, b, _ := pairedNodes(t)
	entry, err := a.peer(b.PeerID())
	if err != nil {
		t.Fatal(err)
	}
	tag := peerTags(entry.PairingSecret, a.PeerID(), time.Now())[0]
	conn, err := net.Dial("tcp", a.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	hello, err := wire.Hello{Purpose: wire.PurposeSession, Slot: tag}.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	w := frame.NewWriter(conn)
	if err := w.WriteFrame(frame.TypeHello, hello); err != nil {
		t.Fatal(err)
	}
	// The stranger gets the prologue: that stands for what a real attacker
	// does, decrypt message 2 without checking its tag (ChaCha20 is a stream
	// cipher; the prologue only enters the tag). So the Noise layer hides
	// nothing from it here, and only the payload sealing can.
	hs, err := noise.NewHandshakeState(noise.Config{
		CipherSuite: noise.NewCipherSuite(noise.DH25519, noise.CipherChaChaPoly, noise.HashSHA256),
		Random:      rand.Reader,
		Pattern:     noise.HandshakeXX,
		Initiator:   true,
		Prologue:    prologueFor(wire.PurposeSession, entry.PairingSecret),
	})
	if err != nil {
		t.Fatal(err)
	}
	m1, _, _, err := hs.WriteMessage(nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.WriteFrame(frame.TypeHandshake, m1); err != nil {
		t.Fatal(err)
	}
	_ = conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	typ, m2, err := frame.NewReader(conn, 0).ReadFrame()
	if err != nil || typ != frame.TypeHandshake {
		t.Fatalf("message 2: %v %v", typ, err)
	}
	plain, _, _, err := hs.ReadMessage(nil, m2)
	if err != nil {
		t.Fatalf("the stranger's Noise layer: %v", err)
	}
	if bytes.Contains(plain, a.id.PublicKey()) {
		t.Fatal("the stranger read the acceptor's identity key in message 2")
	}
}

// TestOversizedHelloDropped: a connection whose first frame claims more than
// a Hello can hold is dropped at once, before the node buffers anything for
// it (it used to wait, with a buffer of the claimed size, for the body).
func TestOversizedHelloDropped(t *testing.T) {
	a := newTestNode(t)
	conn, err := net.Dial("tcp", a.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.Write([]byte{0, 0x10, 0, 0, byte(frame.TypeHello)}); err != nil { // 1 MiB
		t.Fatal(err)
	}
	_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second)) // well below the Hello timeout
	_, err = io.Copy(io.Discard, conn)
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		t.Fatal("the node kept the connection, waiting for a 1 MiB Hello")
	}
}

// TestImpostorPathLosesRace: a direct address that connects but cannot
// authenticate as the peer (here another node, as a host copying the peer's
// LAN advert would be) does not end the race: the relay path, slower but
// genuine, wins.
func TestImpostorPathLosesRace(t *testing.T) {
	a, b, _ := pairedNodes(t)
	impostor := newTestNode(t)
	acc := acceptOne(t, a)
	s, err := b.ConnectAddr(testCtx(t), a.PeerID(), impostor.Addr().String())
	if err != nil {
		t.Fatalf("Connect with an impostor's address first: %v", err)
	}
	defer s.Close()
	exchange(t, s, acc)
}

// TestUnpairByDirectAddress: a peer reachable only at the address the
// application gave (no relay, no LAN discovery) still gets the unpair notice.
func TestUnpairByDirectAddress(t *testing.T) {
	a, b, _, _ := directPair(t) // no relay, mDNS off
	ctx := testCtx(t)
	acc := acceptOne(t, a)
	s, err := b.ConnectAddr(ctx, a.PeerID(), a.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	<-acc
	if err := b.Unpair(ctx, a.PeerID()); err != nil {
		t.Fatal(err)
	}
	if ev := waitEvent(t, a, EventUnpaired); ev.Peer != b.PeerID() {
		t.Fatalf("unpair event for %v", ev.Peer)
	}
}

// TestSessionRefusedAfterUnpair: a session whose handshake finished after
// its peer was unpaired (forget already listed and closed the peer's
// sessions) is closed instead of living on without a trust entry.
func TestSessionRefusedAfterUnpair(t *testing.T) {
	a, b, _ := pairedNodes(t)
	acceptOne(t, a)
	s, err := b.ConnectAddr(testCtx(t), a.PeerID(), a.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	if err := b.store.DeletePeer(a.PeerID()); err != nil { // forget's first step
		t.Fatal(err)
	}
	late := &Session{n: b, peer: a.PeerID(), s: s.s} // a handshake that completes now
	if err := b.addSession(late, nil); !errors.Is(err, ErrUnknownPeer) {
		t.Fatalf("addSession after the unpairing = %v, want ErrUnknownPeer", err)
	}
	if slices.Contains(b.sessions.ofPeer(a.PeerID()), late) {
		t.Fatal("the late session stayed in the table")
	}
	if err := s.s.Err(); err == nil {
		t.Fatal("the late session was not closed")
	}
}
