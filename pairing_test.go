package cairn

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"io"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cairn-dev/cairn/internal/pairing"
	"github.com/cairn-dev/cairn/relay"
	"github.com/cairn-dev/cairn/relay/relaytest"
)

func TestPairPINThroughRelay(t *testing.T) {
	url, _ := relaytest.Start(t, relay.Config{})
	a := newTestNode(t, WithRelay(url), WithName("alice"))
	b := newTestNode(t, WithRelay(url), WithName("bob"))
	ctx := testCtx(t)

	p, err := a.PairGeneratePin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := b.PairEnterPin(ctx, strings.ToLower(p.Pin)); err != nil || got != a.PeerID() {
		t.Fatalf("PairEnterPin = %v, %v; want %v", got, err, a.PeerID())
	}
	res, err := p.Result(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if res.Peer != b.PeerID() || res.Name != "bob" {
		t.Fatalf("initiator paired with %v (%q)", res.Peer, res.Name)
	}
	sasA, err := a.SAS(b.PeerID())
	if err != nil {
		t.Fatal(err)
	}
	sasB, err := b.SAS(a.PeerID())
	if err != nil {
		t.Fatal(err)
	}
	if sasA.Numeric != sasB.Numeric || len(sasA.Numeric) != 6 || strings.Join(sasA.Emoji, ",") != strings.Join(sasB.Emoji, ",") {
		t.Fatalf("SAS differ: %+v vs %+v", sasA, sasB)
	}
	peers, err := b.Peers()
	if err != nil || len(peers) != 1 || peers[0].Name != "alice" {
		t.Fatalf("b.Peers() = %+v, %v", peers, err)
	}
}

// TestRelaySeesNoSecret captures every byte the relay receives during a PIN
// pairing and a session, and looks for the secret part of the PIN, the
// normalised PIN and the long-term pairing secret.
func TestRelaySeesNoSecret(t *testing.T) {
	rec := &relaytest.Recorder{}
	url, _ := relaytest.Start(t, relay.Config{Tap: rec.Tap})
	a := newTestNode(t, WithRelay(url))
	b := newTestNode(t, WithRelay(url))
	ctx := testCtx(t)
	p, err := a.PairGeneratePin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.PairEnterPin(ctx, p.Pin); err != nil {
		t.Fatal(err)
	}
	if _, err := p.Wait(ctx); err != nil {
		t.Fatal(err)
	}
	s, err := b.Connect(ctx, a.PeerID())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ch, err := s.OpenChannel(ctx, "secret-test")
	if err != nil {
		t.Fatal(err)
	}
	plaintext := []byte("the plaintext of a message the relay must not see")
	if err := ch.Send(ctx, plaintext); err != nil {
		t.Fatal(err)
	}
	if err := s.Flush(ctx); err != nil {
		t.Fatal(err)
	}

	if len(rec.Bytes()) == 0 {
		t.Fatal("the recorder saw nothing: the test would prove nothing")
	}
	normalised := strings.ReplaceAll(p.Pin, "-", "")
	entry, err := a.peer(b.PeerID())
	if err != nil {
		t.Fatal(err)
	}
	for name, secret := range map[string][]byte{
		"PIN secret part": []byte(normalised[3:]),
		"PIN":             []byte(normalised),
		"formatted PIN":   []byte(p.Pin),
		"pairing secret":  entry.PairingSecret[:],
		"plaintext":       plaintext,
		"a's seed":        a.id.UnsafeSeed(),
		"b's seed":        b.id.UnsafeSeed(),
		// Noise encrypts the static keys and identity payloads, so even
		// the public identity keys must not appear in the clear.
		"a's identity key": a.id.PublicKey(),
		"b's identity key": b.id.PublicKey(),
	} {
		if rec.Contains(secret) {
			t.Errorf("the relay received the %s", name)
		}
	}
	// The slot name (first 3 symbols) is all it learns of the PIN, and it
	// does not travel in the relayed bytes either: check that the capture
	// is not trivially blind by finding something it must contain.
	if !bytes.Contains(rec.Bytes(), []byte("cairn1")) {
		t.Error("the capture lacks the Hello magic; is the tap working?")
	}
}

func TestPairLinkDirect(t *testing.T) {
	a := newTestNode(t)
	b := newTestNode(t)
	ctx := testCtx(t)
	l, err := a.PairGenerateLink(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(l.URI, "cairn://") {
		t.Fatalf("link %q", l.URI)
	}
	if got, err := b.PairFromLink(ctx, l.URI); err != nil || got != a.PeerID() {
		t.Fatalf("PairFromLink = %v, %v", got, err)
	}
	if got, err := l.Wait(ctx); err != nil || got != b.PeerID() {
		t.Fatalf("Wait = %v, %v", got, err)
	}
}

func TestPairQR(t *testing.T) {
	url, _ := relaytest.Start(t, relay.Config{})
	for _, tc := range []struct {
		name string
		opts []Option
	}{
		{"direct", nil},
		{"relay", []Option{WithRelay(url)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := newTestNode(t, tc.opts...)
			b := newTestNode(t, tc.opts...)
			if tc.name == "relay" {
				// Make the direct hints useless, so only the relay can work.
				a.ln.Close()
			}
			ctx := testCtx(t)
			q, err := a.PairGenerateQR(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if got, err := b.PairScanQR(ctx, q.Data); err != nil || got != a.PeerID() {
				t.Fatalf("PairScanQR = %v, %v", got, err)
			}
			if got, err := q.Wait(ctx); err != nil || got != b.PeerID() {
				t.Fatalf("Wait = %v, %v", got, err)
			}
		})
	}
}

func TestWrongPINFailsBothSides(t *testing.T) {
	a, b, _ := relayNodes(t)
	ctx := testCtx(t)
	p, err := a.PairGeneratePin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	_, err = b.PairEnterPin(ctx, wrongPIN(p.Pin, 0))
	if !errors.Is(err, ErrWrongSecret) {
		t.Fatalf("wrong PIN: got %v, want ErrWrongSecret", err)
	}
	t.Logf("wrong PIN reported after %v", time.Since(start))
	ev := waitEvent(t, a, EventPairingFailed)
	if !errors.Is(ev.Err, ErrWrongSecret) {
		t.Errorf("initiator's event error = %v, want ErrWrongSecret", ev.Err)
	}
	if isPaired(t, a, b.PeerID()) || isPaired(t, b, a.PeerID()) {
		t.Fatal("a failed pairing left a trust entry")
	}
	// The PIN survives one wrong guess: the right one still pairs.
	if _, err := b.PairEnterPin(ctx, p.Pin); err != nil {
		t.Fatalf("right PIN after a wrong one: %v", err)
	}
	if _, err := p.Wait(ctx); err != nil {
		t.Fatal(err)
	}
}

func waitEvent(t testing.TB, n *Node, kind EventKind) Event {
	t.Helper()
	timeout := time.After(testTimeout)
	for {
		select {
		case ev := <-n.Events():
			if ev.Kind == kind {
				return ev
			}
		case <-timeout:
			t.Fatalf("no %v event", kind)
		}
	}
}

func TestFiveWrongAttemptsInvalidatePIN(t *testing.T) {
	a, b, _ := relayNodes(t)
	ctx := testCtx(t)
	p, err := a.PairGeneratePin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for i := range MaxPairingFailures {
		if _, err := b.PairEnterPin(ctx, wrongPIN(p.Pin, i)); !errors.Is(err, ErrWrongSecret) {
			t.Fatalf("attempt %d: got %v, want ErrWrongSecret", i+1, err)
		}
	}
	if _, err := p.Wait(ctx); !errors.Is(err, ErrTooManyAttempts) {
		t.Fatalf("Wait after %d failures = %v, want ErrTooManyAttempts", MaxPairingFailures, err)
	}
	// Even the right PIN is refused now, and the responder is told why.
	if _, err := b.PairEnterPin(ctx, p.Pin); !errors.Is(err, ErrTooManyAttempts) {
		t.Fatalf("the right PIN after invalidation = %v, want ErrTooManyAttempts", err)
	}
	if isPaired(t, a, b.PeerID()) || isPaired(t, b, a.PeerID()) {
		t.Fatal("trust entry after failures")
	}
}

func TestPairingExpires(t *testing.T) {
	a := newTestNode(t, WithPairingTTL(300*time.Millisecond))
	b := newTestNode(t)
	ctx := testCtx(t)
	l, err := a.PairGenerateLink(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := l.Wait(ctx); !errors.Is(err, ErrExpired) {
		t.Fatalf("Wait = %v, want ErrExpired", err)
	}
	if _, err := b.PairFromLink(ctx, l.URI); !errors.Is(err, ErrExpired) {
		t.Fatalf("expired link: got %v, want ErrExpired", err)
	}
}

func TestPairingCancel(t *testing.T) {
	a, b, _ := relayNodes(t)
	ctx := testCtx(t)
	p, err := a.PairGeneratePin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	p.Cancel()
	if _, err := p.Wait(ctx); !errors.Is(err, ErrCanceled) {
		t.Fatalf("Wait after Cancel = %v, want ErrCanceled", err)
	}
	// Usually the slot is gone (ErrNoSuchPairing); a join that reaches the
	// relay while it is still closing the initiator's side gets ErrPeerGone.
	if _, err := b.PairEnterPin(ctx, p.Pin); !errors.Is(err, ErrNoSuchPairing) && !errors.Is(err, ErrPeerGone) {
		t.Fatalf("PairEnterPin of a cancelled PIN = %v, want ErrNoSuchPairing or ErrPeerGone", err)
	}
	// The responder's own context ends its search for a PIN nobody shows.
	cctx, cancel := context.WithCancel(ctx)
	time.AfterFunc(200*time.Millisecond, cancel)
	if _, err := b.PairEnterPin(cctx, "7777-7777"); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled PairEnterPin = %v, want context.Canceled", err)
	}
}

func TestBadCodes(t *testing.T) {
	b := newTestNode(t)
	ctx := testCtx(t)
	for _, pin := range []string{"", "ABCD", "ABCD-EFG!", "ABCD-EFGH-IJ", "ÄBCD-EFGH"} {
		if _, err := b.PairEnterPin(ctx, pin); !errors.Is(err, ErrInvalidCode) {
			t.Errorf("PIN %q: got %v, want ErrInvalidCode", pin, err)
		}
	}
	for _, link := range []string{"", "https://example.com/", "cairn://pair#", "cairn://pair/v1#zzzz"} {
		if _, err := b.PairFromLink(ctx, link); !errors.Is(err, ErrInvalidCode) {
			t.Errorf("link %q: got %v, want ErrInvalidCode", link, err)
		}
	}
	a := newTestNode(t)
	l, err := a.PairGenerateLink(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Cancel()
	tampered := l.URI[:len(l.URI)-2] + flip(l.URI[len(l.URI)-2:])
	if _, err := b.PairFromLink(ctx, tampered); !errors.Is(err, ErrInvalidCode) {
		t.Errorf("tampered link: got %v, want ErrInvalidCode", err)
	}
	if _, err := a.PairFromLink(ctx, l.URI); !errors.Is(err, ErrProtocol) {
		t.Errorf("own link: got %v, want ErrProtocol", err)
	}
}

func flip(s string) string {
	b := []byte(s)
	if b[0] == 'A' {
		b[0] = 'B'
	} else {
		b[0] = 'A'
	}
	return string(b)
}

func TestRelayDown(t *testing.T) {
	url, srv := relaytest.Start(t, relay.Config{})
	srv.Close()
	a := newTestNode(t, WithRelay(url))
	if _, err := a.PairGeneratePin(testCtx(t)); !errors.Is(err, relay.ErrRelayUnavailable) {
		t.Fatalf("PairGeneratePin with the relay down = %v, want relay.ErrRelayUnavailable", err)
	}
}

func TestSimultaneousPairingsDoNotCross(t *testing.T) {
	url, _ := relaytest.Start(t, relay.Config{})
	const pairs = 4
	var wg sync.WaitGroup
	for i := range pairs {
		a := newTestNode(t, WithRelay(url))
		b := newTestNode(t, WithRelay(url))
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx := testCtx(t)
			p, err := a.PairGeneratePin(ctx)
			if err != nil {
				t.Errorf("pair %d: %v", i, err)
				return
			}
			got, err := b.PairEnterPin(ctx, p.Pin)
			if err != nil || got != a.PeerID() {
				t.Errorf("pair %d: responder got %v, %v", i, got, err)
				return
			}
			if peer, err := p.Wait(ctx); err != nil || peer != b.PeerID() {
				t.Errorf("pair %d: initiator got %v, %v", i, peer, err)
			}
		}()
	}
	wg.Wait()
}

func TestClosedNode(t *testing.T) {
	a := newTestNode(t)
	ctx := testCtx(t)
	l, err := a.PairGenerateLink(ctx)
	if err != nil {
		t.Fatal(err)
	}
	a.Close()
	if _, err := l.Wait(ctx); !errors.Is(err, ErrClosed) {
		t.Fatalf("Wait after Close = %v, want ErrClosed", err)
	}
	if _, err := a.PairGenerateLink(ctx); !errors.Is(err, ErrClosed) {
		t.Fatalf("PairGenerateLink after Close = %v, want ErrClosed", err)
	}
}

// TestCloseWhileBusy closes a node while other goroutines pair, connect and
// are connected to: every call returns, nothing races (run with -race), and
// no goroutine outlives Close (goleak in TestMain).
func TestCloseWhileBusy(t *testing.T) {
	a, b, _ := relayNodes(t)
	pairByPIN(t, a, b)
	ctx := testCtx(t)
	var (
		wg    sync.WaitGroup
		calls atomic.Int64
	)
	loop := func(call func() error) {
		wg.Go(func() {
			for range 200 {
				calls.Add(1)
				if err := call(); errors.Is(err, ErrClosed) {
					return
				}
			}
		})
	}
	loop(func() error {
		p, err := a.PairGeneratePin(ctx)
		if err == nil {
			p.Cancel()
		}
		return err
	})
	loop(func() error {
		s, err := a.ConnectAddr(ctx, b.PeerID(), b.Addr().String())
		if err == nil {
			s.Close()
		}
		return err
	})
	loop(func() error {
		s, err := b.ConnectAddr(ctx, a.PeerID(), a.Addr().String())
		if err == nil {
			s.Close()
		}
		if a.ctx.Err() != nil {
			return ErrClosed // a is gone: b's calls now only fail
		}
		return err
	})
	for i := 0; i < 400 && calls.Load() < 20; i++ { // at most 2 s
		time.Sleep(5 * time.Millisecond)
	}
	if err := a.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	wg.Wait()
	if _, err := a.PairGeneratePin(ctx); !errors.Is(err, ErrClosed) {
		t.Fatalf("PairGeneratePin after Close = %v, want ErrClosed", err)
	}
}

// TestPINSlotCollision makes the first PIN a node would draw collide with a
// slot someone else already hosts at the relay: the node must draw a fresh
// PIN before showing it, and that PIN must pair.
func TestPINSlotCollision(t *testing.T) {
	url, _ := relaytest.Start(t, relay.Config{})
	ctx := testCtx(t)
	// The node's randomness: a first PIN we know in advance, then real
	// randomness for everything after.
	first := []byte{0x5a, 0x17, 0xc3, 0x08, 0x99}
	taken, err := pairing.GeneratePIN(bytes.NewReader(first))
	if err != nil {
		t.Fatal(err)
	}
	// Without a collision, that randomness shows exactly that PIN.
	c := newTestNode(t, WithRelay(url), WithRand(io.MultiReader(bytes.NewReader(first), rand.Reader)))
	if p, err := c.PairGeneratePin(ctx); err != nil || p.Pin != taken.String() {
		t.Fatalf("control: PIN %v, %v; want %s", p, err, taken)
	} else {
		p.Cancel()
	}
	c.Close()
	squatter, err := hostWhenFree(ctx, url, pinSlotPrefix+taken.Slot())
	if err != nil {
		t.Fatal(err)
	}
	defer squatter.Close()

	a := newTestNode(t, WithRelay(url), WithRand(io.MultiReader(bytes.NewReader(first), rand.Reader)))
	b := newTestNode(t, WithRelay(url))
	p, err := a.PairGeneratePin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if p.Pin == taken.String() || strings.HasPrefix(p.Pin, taken.Slot()) {
		t.Fatalf("the node showed PIN %s, whose slot %s was taken", p.Pin, taken.Slot())
	}
	if _, err := b.PairEnterPin(ctx, p.Pin); err != nil {
		t.Fatal(err)
	}
	if _, err := p.Wait(ctx); err != nil {
		t.Fatal(err)
	}
}

// hostWhenFree hosts slot, retrying while a host that just left still holds it.
func hostWhenFree(ctx context.Context, url, slot string) (net.Conn, error) {
	for {
		conn, err := relay.Host(ctx, url, slot)
		if !errors.Is(err, relay.ErrSlotTaken) {
			return conn, err
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(100 * time.Millisecond): // under the relay's lookup rate
		}
	}
}

// TestPassphraseSealing: a passphrase seals a new identity key; given for a
// key created without one, it does not, and IdentitySealed says so.
func TestPassphraseSealing(t *testing.T) {
	open := func(dir string, opts ...Option) *Node {
		t.Helper()
		n, err := New(append([]Option{WithDataDir(dir), WithListenAddr("127.0.0.1:0"), WithMDNS(false)}, opts...)...)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	sealedDir := t.TempDir()
	n := open(sealedDir, WithPassphrase([]byte("correct horse")))
	id := n.PeerID()
	if !n.IdentitySealed() {
		t.Error("new identity with a passphrase is not sealed")
	}
	n.Close()
	if _, err := New(WithDataDir(sealedDir), WithListenAddr("127.0.0.1:0"), WithMDNS(false), WithPassphrase([]byte("wrong"))); err == nil {
		t.Error("sealed identity opened with the wrong passphrase")
	}
	n = open(sealedDir, WithPassphrase([]byte("correct horse")))
	if n.PeerID() != id {
		t.Error("sealed identity reopened as another")
	}
	n.Close()

	plainDir := t.TempDir()
	open(plainDir).Close()
	n = open(plainDir, WithPassphrase([]byte("too late")))
	if n.IdentitySealed() {
		t.Error("plain identity reported sealed")
	}
	n.Close()
}
