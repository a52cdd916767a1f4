package cairn

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cairn-dev/cairn/identity"
	"github.com/cairn-dev/cairn/internal/frame"
	"github.com/cairn-dev/cairn/internal/loadtest"
	"github.com/cairn-dev/cairn/internal/pairproto"
	"github.com/cairn-dev/cairn/internal/securelink"
	"github.com/cairn-dev/cairn/internal/wire"
	"github.com/cairn-dev/cairn/relay"
	"github.com/cairn-dev/cairn/relay/relaytest"
)

// Hostile-input tests: an attacker on the path of a live session, an
// attacker guessing a PIN, and an attacker flooding the relay.

// onceOn returns a policy that applies act to the first unit (after it is
// installed) for which match is true.
func onceOn(match func(loadtest.Unit) bool, act func(loadtest.Unit) loadtest.Action) loadtest.Policy {
	var done atomic.Bool
	return func(u loadtest.Unit) loadtest.Action {
		if match(u) && done.CompareAndSwap(false, true) {
			return act(u)
		}
		return forward
	}
}

func upRatchet(u loadtest.Unit) bool { return u.Dir == loadtest.Up && isRatchetFrame(u) }

// flip returns a copy of b with bit (0..7) of byte i inverted.
func flipBit(b []byte, i int, bit uint) []byte {
	c := append([]byte(nil), b...)
	c[i] ^= 1 << bit
	return c
}

func frameBytes(t frame.Type, body []byte) []byte {
	b, err := frame.AppendFrame(nil, t, body)
	if err != nil {
		panic(err)
	}
	return b
}

// TestHostileLiveSession attacks a live session from the path between the
// peers (a proxy that records every frame and can alter and inject frames)
// and from the side (new connections to the acceptor). After each attack the
// session must still deliver sequence-numbered messages intact and once;
// what the attack costs is logged. No attack may make either side panic,
// deliver a forged or replayed message, or lose one.
func TestHostileLiveSession(t *testing.T) {
	a, b, la, lb := directPair(t)
	proxy := loadtest.NewProxy(t, a.Addr().String(), loadtest.CairnFrames(), nil)
	proxy.Record(true)
	s, sa, out, in := openStream(t, a, b, proxy.Addr())
	ctx := testCtx(t)
	next := 0
	// deliver sends the next 50 messages and checks them on the other side.
	deliver := func(what string) {
		t.Helper()
		sent := make(chan error, 1)
		go func() { sent <- sendSeq(ctx, out, next, next+50) }()
		if err := recvSeq(ctx, in, next, next+50); err != nil {
			t.Fatalf("after %s: %v", what, err)
		}
		if err := <-sent; err != nil {
			t.Fatalf("after %s: %v", what, err)
		}
		next += 50
		if err := s.Err(); err != nil {
			t.Fatalf("after %s the session ended: %v", what, err)
		}
	}
	// current returns the live connection through the proxy: the newest.
	current := func() int {
		c := -1
		for _, id := range proxy.Open() {
			c = max(c, id)
		}
		if c < 0 {
			t.Fatal("no connection through the proxy")
		}
		return c
	}
	report := func(what string, badBefore int, resumesBefore int) {
		t.Helper()
		t.Logf("%-44s a dropped %d bad frames; resumes %d; session intact", what+":",
			la.count(logBadFrame)-badBefore, s.s.Stats().Resumes-resumesBefore)
	}
	deliver("the start")
	captured := proxy.Units()

	t.Run("replay", func(t *testing.T) {
		// Every ratchet frame b sent so far, injected again into the live
		// connection: the ratchet refuses each (its key was used), counts
		// it, and the session goes on without a reconnect.
		bad, res := la.count(logBadFrame), s.s.Stats().Resumes
		conn := current()
		n := 0
		for _, u := range captured {
			if u.Conn == conn && upRatchet(u) && n < 20 {
				if err := proxy.Inject(conn, loadtest.Up, u.Data); err != nil {
					t.Fatal(err)
				}
				n++
			}
		}
		deliver("replay")
		if got := la.count(logBadFrame) - bad; got != n {
			t.Errorf("%d replayed frames, %d counted as bad", n, got)
		}
		if s.s.Stats().Resumes != res {
			t.Error("a replay made the session reconnect")
		}
		report(fmt.Sprintf("replay of %d captured frames", n), bad, res)
	})

	t.Run("reorder", func(t *testing.T) {
		// Older frames again, newest first: all refused, no reconnect.
		bad, res := la.count(logBadFrame), s.s.Stats().Resumes
		conn := current()
		var frames [][]byte
		for _, u := range captured {
			if u.Conn == conn && upRatchet(u) {
				frames = append(frames, u.Data)
			}
		}
		n := 0
		for i := len(frames) - 1; i >= 0 && n < 10; i -= 2 {
			if err := proxy.Inject(conn, loadtest.Up, frames[i]); err != nil {
				t.Fatal(err)
			}
			n++
		}
		deliver("reordered replay")
		if got := la.count(logBadFrame) - bad; got != n {
			t.Errorf("%d reordered frames, %d counted as bad", n, got)
		}
		report(fmt.Sprintf("%d captured frames in reverse order", n), bad, res)
	})

	for _, f := range []struct {
		name string
		at   func(u loadtest.Unit) []byte
	}{
		{"bit flip in the ciphertext", func(u loadtest.Unit) []byte { return flipBit(u.Data, len(u.Data)-20, 3) }},
		{"bit flip in the tag", func(u loadtest.Unit) []byte { return flipBit(u.Data, len(u.Data)-1, 0) }},
		{"bit flip in the ratchet header", func(u loadtest.Unit) []byte { return flipBit(u.Data, frame.HeaderSize+2, 5) }},
		{"bit flip in the frame length", func(u loadtest.Unit) []byte { return flipBit(u.Data, 0, 7) }},
		{"bit flip in the frame type", func(u loadtest.Unit) []byte { return flipBit(u.Data, frame.HeaderSize, 2) }},
	} {
		t.Run(f.name, func(t *testing.T) {
			// The altered frame is refused (or, for the length, the
			// stream loses sync); the frame it replaced is missing, so
			// the session replaces the connection and resends it.
			bad, res := la.count(logBadFrame), s.s.Stats().Resumes
			proxy.SetPolicy(onceOn(upRatchet, func(u loadtest.Unit) loadtest.Action {
				return loadtest.Action{Data: f.at(u)}
			}))
			deliver(f.name)
			proxy.SetPolicy(nil)
			waitResumed(t, s, res)
			report(f.name, bad, res)
		})
	}

	t.Run("forged frames in the stream", func(t *testing.T) {
		// Frames of other types, and random "ratchet" frames, injected
		// into the live connection: each is dropped and counted.
		bad, res := la.count(logBadFrame), s.s.Stats().Resumes
		conn := current()
		forged := [][]byte{
			frameBytes(frame.TypeHandshake, randBytes(32)), // a Noise message 1
			frameBytes(frame.TypeHandshake, randBytes(96)),
			frameBytes(frame.TypeHello, []byte("cairn1\x02\x04abcd")),
			frameBytes(frame.TypeClose, nil),
			frameBytes(frame.TypePakeA, randBytes(81)),
			frameBytes(frame.TypeRatchet, randBytes(56)),
			frameBytes(frame.TypeRatchet, randBytes(200)),
			frameBytes(frame.Type(0x7f), randBytes(10)),
		}
		for _, fb := range forged {
			if err := proxy.Inject(conn, loadtest.Up, fb); err != nil {
				t.Fatal(err)
			}
		}
		deliver("forged frames")
		if got := la.count(logBadFrame) - bad; got != len(forged) {
			t.Errorf("%d forged frames, %d counted as bad", len(forged), got)
		}
		report(fmt.Sprintf("%d forged frames", len(forged)), bad, res)
	})

	t.Run("forged reject", func(t *testing.T) {
		// Rejects are not authenticated (they only explain a refusal): a
		// forged one ends b's connection, and the session resumes.
		bad, res := la.count(logBadFrame), s.s.Stats().Resumes
		if err := proxy.Inject(current(), loadtest.Down, frameBytes(frame.TypeReject, wire.MarshalReject(wire.CodeUnknownPeer))); err != nil {
			t.Fatal(err)
		}
		deliver("a forged reject")
		waitResumed(t, s, res)
		report("forged Reject to the dialer", bad, res)
	})

	t.Run("flood of bad frames", func(t *testing.T) {
		// More than MaxBadFrames garbage frames on a fresh connection
		// (the forged Reject made the session replace it): the link
		// gives up on it at the 32nd (ErrTooManyBadFrames) and the
		// session resumes on a new one, with a fresh count.
		bad, res := la.count(logBadFrame), s.s.Stats().Resumes
		conn := current()
		for range securelink.MaxBadFrames + 8 {
			if err := proxy.Inject(conn, loadtest.Up, frameBytes(frame.TypeRatchet, randBytes(100))); err != nil {
				break // the link gave up and closed the connection
			}
		}
		deliver("a flood of bad frames")
		waitResumed(t, s, res)
		if got := la.count(logBadFrame) - bad; got != securelink.MaxBadFrames {
			t.Errorf("%d bad frames counted before the link gave up, want %d", got, securelink.MaxBadFrames)
		}
		report(fmt.Sprintf("%d garbage ratchet frames", securelink.MaxBadFrames+8), bad, res)
	})

	// Side attacks: new connections to the acceptor's listener.
	var hello []byte
	var handshake [][]byte
	for _, u := range captured {
		if u.Conn != 0 || u.Dir != loadtest.Up {
			continue
		}
		switch frame.Type(u.Data[frame.HeaderSize]) {
		case frame.TypeHello:
			hello = u.Data
		case frame.TypeHandshake:
			handshake = append(handshake, u.Data)
		}
	}
	if hello == nil || len(handshake) == 0 {
		t.Fatalf("no Hello or handshake captured (%d units)", len(captured))
	}
	accepted := make(chan *Session, 1)
	acceptCtx, stopAccept := context.WithCancel(ctx)
	var acceptWG sync.WaitGroup
	acceptWG.Go(func() {
		if s, err := a.Accept(acceptCtx); err == nil {
			accepted <- s
		}
	})
	defer func() {
		stopAccept()
		acceptWG.Wait()
		select {
		case s := <-accepted:
			s.Close()
			t.Error("an attacker's connection became a session")
		default:
		}
	}()
	for _, side := range []struct {
		name   string
		frames [][]byte
		want   string // what the acceptor answers before it closes
	}{
		{"replayed handshake", append([][]byte{hello}, handshake...), "a Reject after its message 2"},
		{"forged message 1 and 3", [][]byte{hello, frameBytes(frame.TypeHandshake, randBytes(32)), frameBytes(frame.TypeHandshake, randBytes(96))}, "a Reject after its message 2"},
		{"Hello for a tag nobody owns", [][]byte{frameBytes(frame.TypeHello, []byte("cairn1\x02\x20"+strings.Repeat("0", 32)))}, "Reject 7 (unknown peer)"},
		{"malformed Hello", [][]byte{frameBytes(frame.TypeHello, randBytes(40))}, "Reject 1 (protocol)"},
		{"no Hello", [][]byte{frameBytes(frame.TypeRatchet, randBytes(80))}, "nothing"},
	} {
		t.Run("side: "+side.name, func(t *testing.T) {
			// The acceptor answers (at most) a Reject and closes the
			// attacker's connection; the live session is not affected.
			conn, err := net.Dial("tcp", a.Addr().String())
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			for _, fb := range side.frames {
				if _, err := conn.Write(fb); err != nil {
					break
				}
			}
			_ = conn.SetReadDeadline(time.Now().Add(10 * time.Second))
			r := frame.NewReader(conn, frame.MaxFrameSize)
			var got []string
			for {
				typ, body, err := r.ReadFrame()
				if err != nil {
					var ne net.Error
					if errors.As(err, &ne) && ne.Timeout() {
						t.Fatalf("the acceptor kept the attacker's connection open (got %v)", got)
					}
					break
				}
				if typ == frame.TypeReject {
					rej, _ := wire.ParseReject(body)
					got = append(got, fmt.Sprintf("reject %d", rej.Code))
				} else {
					got = append(got, typ.String())
				}
			}
			t.Logf("side: %-28s the acceptor sent %v and closed (expected %s)", side.name+":", got, side.want)
			deliver(side.name)
		})
	}
	if t.Failed() {
		return
	}
	st, sta := s.s.Stats(), sa.s.Stats()
	t.Logf("end: %d messages delivered intact; dialer: %d resumes; acceptor: %d bad frames dropped, %d bad records, %d duplicates; dialer dropped %d bad frames",
		next, st.Resumes, la.count(logBadFrame), sta.BadRecords, sta.Duplicates, lb.count(logBadFrame))
}

func randBytes(n int) []byte {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return b
}

// spentCounter counts the initiator's failed pairing attempts that spent a
// guess (log "pairing attempt failed" with spent=true) and those that did
// not.
type spentCounter struct {
	spent, free atomic.Int64
}

func (c *spentCounter) Enabled(context.Context, slog.Level) bool { return true }
func (c *spentCounter) WithAttrs([]slog.Attr) slog.Handler       { return c }
func (c *spentCounter) WithGroup(string) slog.Handler            { return c }
func (c *spentCounter) Handle(_ context.Context, r slog.Record) error {
	if r.Message != "pairing attempt failed" {
		return nil
	}
	spent := false
	r.Attrs(func(a slog.Attr) bool {
		if a.Key == "spent" {
			spent = a.Value.Bool()
		}
		return true
	})
	if spent {
		c.spent.Add(1)
	} else {
		c.free.Add(1)
	}
	return nil
}

// TestHostilePINBruteForce: attackers who know a PIN's public slot (the
// first 3 symbols, which the relay sees) guess the other 5 as fast as they
// can, 8 at once through the relay (from another address than the user's)
// and 4 at once straight at the initiator's listener. The initiator runs one attempt at a time (others get Reject 5,
// busy, which costs no guess) and invalidates the PIN after 5 wrong
// guesses: the attackers get exactly 5 guesses at 2^-25 each, and the
// initiator's Wait returns ErrTooManyAttempts. The user who then types the
// right PIN is told so too (ErrTooManyAttempts): the initiator keeps
// answering the used-up PIN's slot with Reject 4 until it would expire.
func TestHostilePINBruteForce(t *testing.T) {
	url, _ := relaytest.Start(t, relay.Config{})
	sc := &spentCounter{}
	a := newTestNode(t, WithRelay(url), WithLogger(slog.New(sc)))
	ctx := testCtx(t)
	p, err := a.PairGeneratePin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	slot := pinSlotPrefix + strings.ReplaceAll(p.Pin, "-", "")[:3]
	const viaRelay, direct = 8, 4
	var (
		mu       sync.Mutex
		outcomes = map[string]int{}
		tries    atomic.Int64
	)
	record := func(err error) {
		var rej *wire.RejectError
		k := "other: " + fmt.Sprint(err)
		switch {
		case errors.Is(err, ErrWrongSecret):
			k = "wrong secret (a guess spent)"
		case errors.As(err, &rej):
			k = "reject: " + rej.Code.String()
		case errors.Is(err, ErrNoSuchPairing):
			k = "slot gone (ErrNoSuchPairing)"
		case errors.Is(err, relay.ErrNoSuchSlot):
			k = "relay: no host on the slot (between attempts, or gone)"
		case errors.Is(err, relay.ErrRateLimited):
			k = "relay: rate limited (429)"
		case errors.Is(err, ErrExpired), errors.Is(err, ErrTooManyAttempts):
			k = "pairing over"
		case errors.Is(err, ErrPeerGone):
			k = "connection ended (the PIN died mid-attempt)"
		}
		mu.Lock()
		outcomes[k]++
		mu.Unlock()
	}
	start := time.Now()
	invalidated := make(chan time.Duration, 1)
	go func() {
		_, _ = p.Wait(ctx)
		invalidated <- time.Since(start)
	}()
	attackCtx, stop := context.WithTimeout(ctx, 20*time.Second)
	defer stop()
	var wg sync.WaitGroup
	// guess runs one attempt with a wrong PIN on conn, which reaches the
	// initiator; it reports whether the slot is gone.
	guess := func(conn net.Conn, n int) bool {
		tries.Add(1)
		pw := strings.ReplaceAll(wrongPIN(p.Pin, n%31), "-", "")
		_, err := pairproto.Respond(attackCtx, conn, slot, pairproto.Config{Password: []byte(pw), Identity: attackerID(t)})
		conn.Close()
		var rej *wire.RejectError
		if errors.As(err, &rej) && (rej.Code == wire.CodeUnknownSlot || rej.Code == wire.CodeExpired || rej.Code == wire.CodeTooManyAttempts) {
			record(ErrNoSuchPairing)
			return true
		}
		record(err)
		return false
	}
	// Through the relay, from 127.0.0.2 (so that the relay's per-address
	// limits, which such a loop soon hits, do not also hit the user).
	for i := range viaRelay {
		wg.Go(func() {
			for k := 0; attackCtx.Err() == nil && k < 50; k++ {
				conn, err := relay.Join(attackCtx, url, slot, fromAddr("127.0.0.2"))
				if err != nil {
					record(err)
					if errors.Is(err, relay.ErrNoSuchSlot) {
						if p.in.ctx.Err() != nil {
							return // the slot is gone for good
						}
						time.Sleep(50 * time.Millisecond) // the initiator re-hosts between attempts
					}
					continue
				}
				if guess(conn, i*50+k) {
					return
				}
			}
		})
	}
	// Straight at the listener (as an attacker on the LAN would, after
	// reading the slot from an mDNS advert).
	for i := range direct {
		wg.Go(func() {
			for k := 0; attackCtx.Err() == nil && k < 50; k++ {
				conn, err := net.Dial("tcp", a.Addr().String())
				if err != nil {
					record(err)
					return
				}
				if guess(conn, i*50+k+400) {
					return
				}
			}
		})
	}
	wg.Wait()
	if _, err := p.Wait(ctx); !errors.Is(err, ErrTooManyAttempts) {
		t.Fatalf("Wait = %v, want ErrTooManyAttempts", err)
	}
	if got := sc.spent.Load(); got != MaxPairingFailures {
		t.Errorf("the attackers got %d guesses, want exactly %d", got, MaxPairingFailures)
	}
	t.Logf("%d attempts by %d attackers; %d guesses spent (each 2^-25, so a %.1e chance in all), %d attempts that got no guess; PIN invalidated after %v",
		tries.Load(), viaRelay+direct, sc.spent.Load(), float64(sc.spent.Load())/float64(1<<25), sc.free.Load(), (<-invalidated).Round(time.Millisecond))
	t.Logf("attacker outcomes: %v", outcomes)
	b := newTestNode(t, WithRelay(url))
	sctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if _, err := b.PairEnterPin(sctx, p.Pin); !errors.Is(err, ErrTooManyAttempts) {
		t.Fatalf("the right PIN after invalidation: %v, want ErrTooManyAttempts", err)
	}
	if peers, _ := a.Peers(); len(peers) != 0 {
		t.Fatalf("the initiator paired with %v", peers)
	}
}

var (
	attackerOnce sync.Once
	attacker     *identity.Identity
)

func attackerID(t *testing.T) *identity.Identity {
	attackerOnce.Do(func() {
		var err error
		attacker, err = identity.Generate(rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
	})
	return attacker
}

// fromAddr returns relay client options that dial from the loopback address
// ip, so that a test can play clients at several source addresses.
func fromAddr(ip string) relay.Option {
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}, Timeout: 5 * time.Second}
	tr := &http.Transport{DialContext: d.DialContext, DisableKeepAlives: true}
	return relay.WithHTTPClient(&http.Client{Transport: tr})
}

// TestHostileRelayFlood floods a relay with its default limits from one
// source address (127.0.0.2) while an honest user pairs and talks from
// another (127.0.0.1, every node's default).
func TestHostileRelayFlood(t *testing.T) {
	url, srv := relaytest.Start(t, relay.Config{ReadHeaderTimeout: time.Second})
	host := strings.TrimPrefix(url, "http://")
	ctx := testCtx(t)
	var held []net.Conn
	defer func() {
		for _, c := range held {
			c.Close()
		}
	}()

	// 1. Many slots from one address, as fast as it can: the token bucket
	// (burst 40, 20/s) and the connection cap (64) hold; every refusal is
	// a 429 (relay.ErrRateLimited).
	var ok, limited, other int
	var otherErr error
	floodStart := time.Now()
	for i := 0; i < 400 && time.Since(floodStart) < 5*time.Second; i++ {
		c, err := relay.Host(ctx, url, fmt.Sprintf("flood-%d", i), fromAddr("127.0.0.2"), relay.WithKeepalive(-1, 0))
		switch {
		case err == nil:
			ok++
			held = append(held, c)
		case errors.Is(err, relay.ErrRateLimited):
			limited++
		default:
			other++
			otherErr = err
		}
		if i%40 == 39 {
			time.Sleep(300 * time.Millisecond) // let the bucket refill: reach the connection cap
		}
	}
	st := srv.Stats()
	t.Logf("slot flood from 127.0.0.2: %d requests in %v: %d hosted, %d refused with 429 (rate_limited %d, too_many_conns %d), %d other (%v); relay holds %d waiting slots",
		ok+limited+other, time.Since(floodStart).Round(time.Millisecond), ok, limited,
		st.Rejections["rate_limited"], st.Rejections["too_many_conns"], other, otherErr, st.WaitingSlots)
	if ok > relay.DefaultMaxConnsPerIP {
		t.Errorf("one address holds %d slots, over the cap of %d", ok, relay.DefaultMaxConnsPerIP)
	}
	if limited == 0 || st.Rejections["rate_limited"] == 0 || st.Rejections["too_many_conns"] == 0 {
		t.Errorf("the flood was not limited both by rate and by connections: %v", st.Rejections)
	}

	// 2. Many idle TCP connections from the same address that never send a
	// request: the relay's HTTP server drops them after ReadHeaderTimeout
	// (1 s here, 10 s by default). They are not counted per address.
	const idle = 200
	for range idle {
		c, err := (&net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP("127.0.0.2")}}).DialContext(ctx, "tcp", host)
		if err != nil {
			t.Fatalf("idle connection: %v", err)
		}
		_, _ = c.Write([]byte("GET /v1/slot/x?mode=host HTTP/1.1\r\n")) // and never finish
		held = append(held, c)
	}

	// 3. Meanwhile the honest user pairs by PIN and talks through the relay.
	a := newTestNode(t, WithRelay(url))
	b := newTestNode(t, WithRelay(url))
	honest := time.Now()
	pairByPIN(t, a, b)
	acc := acceptOne(t, a)
	s, err := b.Connect(ctx, a.PeerID())
	if err != nil {
		t.Fatalf("honest Connect during the flood: %v", err)
	}
	defer s.Close()
	exchange(t, s, acc)
	t.Logf("honest user from 127.0.0.1 paired and exchanged messages in %v during the flood", time.Since(honest).Round(time.Millisecond))

	// The idle connections are gone after ReadHeaderTimeout.
	closed := 0
	buf := make([]byte, 1)
	for _, c := range held[len(held)-idle:] {
		_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
		if _, err := c.Read(buf); err != nil {
			var ne net.Error
			if !errors.As(err, &ne) || !ne.Timeout() {
				closed++
			}
		}
	}
	if closed != idle {
		t.Errorf("%d of %d idle connections were closed by the relay", closed, idle)
	}
	t.Logf("%d idle connections from 127.0.0.2 closed by the relay after its ReadHeaderTimeout", closed)
}

// TestHostileRelayFloodManyAddresses fills a relay's table of waiting slots
// from 10 source addresses (each within its own limits). The global cap
// holds (MaxWaitingSlots, 100 here): further hosts, the honest user's PIN
// included, get 503 and PairGeneratePin fails with
// relay.ErrRelayUnavailable, which is what the user sees while the flood
// lasts. The relay stays up, and the honest user pairs once the flood ends.
func TestHostileRelayFloodManyAddresses(t *testing.T) {
	const maxSlots = 100
	url, srv := relaytest.Start(t, relay.Config{MaxWaitingSlots: maxSlots})
	ctx := testCtx(t)
	var held []net.Conn
	release := func() {
		for _, c := range held {
			c.Close()
		}
		held = nil
	}
	defer release()
	full := 0
	for ip := 2; ip <= 11; ip++ {
		from := fromAddr(fmt.Sprintf("127.0.0.%d", ip))
		for k := range 15 {
			c, err := relay.Host(ctx, url, fmt.Sprintf("many-%d-%d", ip, k), from, relay.WithKeepalive(-1, 0))
			if err != nil {
				if !errors.Is(err, relay.ErrRelayUnavailable) {
					t.Fatalf("flood host: %v", err)
				}
				full++
				continue
			}
			held = append(held, c)
		}
	}
	st := srv.Stats()
	t.Logf("150 hosts from 10 addresses: %d waiting (cap %d), %d refused with 503", st.WaitingSlots, maxSlots, full)
	if st.WaitingSlots != maxSlots || full != 150-maxSlots {
		t.Fatalf("waiting slots %d, refused %d: the cap did not hold", st.WaitingSlots, full)
	}
	a := newTestNode(t, WithRelay(url))
	b := newTestNode(t, WithRelay(url))
	if _, err := a.PairGeneratePin(ctx); !errors.Is(err, relay.ErrRelayUnavailable) {
		t.Fatalf("PairGeneratePin with the relay full = %v, want relay.ErrRelayUnavailable", err)
	}
	release()
	for srv.Stats().WaitingSlots > 0 && ctx.Err() == nil {
		time.Sleep(10 * time.Millisecond)
	}
	pairByPIN(t, a, b)
	t.Log("the honest user paired once the flood ended")
}

// TestListenerFlood opens more idle connections to a node than it keeps
// pending: the extra ones are closed at once (the node does not run out of
// descriptors), and once the flood ends the node pairs as usual.
func TestListenerFlood(t *testing.T) {
	a := newTestNode(t)
	b := newTestNode(t)
	var conns []net.Conn
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	for range maxPendingConns {
		c, err := net.Dial("tcp", a.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		conns = append(conns, c)
	}
	dropped := 0
	for range 20 {
		c, err := net.Dial("tcp", a.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
		if _, err := c.Read(make([]byte, 1)); errors.Is(err, io.EOF) {
			dropped++
		}
		c.Close()
	}
	if dropped != 20 {
		t.Fatalf("%d of 20 connections over the limit were closed at once, want 20", dropped)
	}
	for _, c := range conns {
		c.Close()
	}
	conns = nil
	ctx := testCtx(t)
	l, err := a.PairGenerateLink(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// The pending slots free up as the node sees the closed sockets.
	var got PeerID
	for range 50 {
		if got, err = b.PairFromLink(ctx, l.URI); err == nil {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err != nil || got != a.PeerID() {
		t.Fatalf("pairing after the flood: %v, %v", got, err)
	}
}
