package cairn

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cairn-dev/cairn/internal/frame"
	"github.com/cairn-dev/cairn/internal/loadtest"
	"github.com/cairn-dev/cairn/internal/session"
	"github.com/cairn-dev/cairn/relay"
	"github.com/cairn-dev/cairn/relay/relaytest"
)

// Fault tests. Each puts a fault between two live nodes (a frame-level
// proxy between the peers or between a peer and the relay, or kill -9 of a
// process) while one sends sequence-numbered messages that the other checks
// one by one: a lost, duplicated, reordered or altered message fails the
// test. Each case's comment says what the user sees.

// faultMsgs is how many messages a fault case sends (about 1 KiB each).
const faultMsgs = 300

// seqMsg returns message i of a test stream: its number and a payload
// derived from it, so that the receiver tells a lost, duplicated or altered
// message without sharing state with the sender.
func seqMsg(i int) []byte {
	b := make([]byte, 8+64+(i*7919)%2000)
	binary.BigEndian.PutUint64(b, uint64(i))
	var seed [32]byte
	binary.BigEndian.PutUint64(seed[:], uint64(i))
	_, _ = rand.NewChaCha8(seed).Read(b[8:])
	return b
}

// checkSeqMsg says how msg differs from message want, or nil.
func checkSeqMsg(msg []byte, want int) error {
	if len(msg) < 8 {
		return fmt.Errorf("message of %d bytes, want message %d", len(msg), want)
	}
	switch got := int(binary.BigEndian.Uint64(msg)); {
	case got < want:
		return fmt.Errorf("message %d again (duplicated), want %d", got, want)
	case got > want:
		return fmt.Errorf("message %d, want %d (lost or reordered)", got, want)
	case !bytes.Equal(msg, seqMsg(want)):
		return fmt.Errorf("message %d altered", want)
	}
	return nil
}

func sendSeq(ctx context.Context, ch *Channel, from, to int) error {
	for i := from; i < to; i++ {
		if err := ch.Send(ctx, seqMsg(i)); err != nil {
			return fmt.Errorf("send %d: %w", i, err)
		}
	}
	return nil
}

func recvSeq(ctx context.Context, ch *Channel, from, to int) error {
	for i := from; i < to; i++ {
		msg, err := ch.Receive(ctx)
		if err != nil {
			return fmt.Errorf("receive %d: %w", i, err)
		}
		if err := checkSeqMsg(msg, i); err != nil {
			return err
		}
	}
	return nil
}

// logCounter is a slog.Handler that counts log records by message, to see
// what a node did (for example "dropped bad frame").
type logCounter struct {
	mu     sync.Mutex
	counts map[string]int
}

func (c *logCounter) logger() *slog.Logger { return slog.New(c) }

func (c *logCounter) Enabled(context.Context, slog.Level) bool { return true }

func (c *logCounter) Handle(_ context.Context, r slog.Record) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.counts == nil {
		c.counts = make(map[string]int)
	}
	c.counts[r.Message]++
	return nil
}

func (c *logCounter) WithAttrs([]slog.Attr) slog.Handler { return c }
func (c *logCounter) WithGroup(string) slog.Handler      { return c }

func (c *logCounter) count(msg string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.counts[msg]
}

// Log messages the fault and hostile tests count.
const (
	logBadFrame = "dropped bad frame" // internal/securelink
)

// directPair returns two nodes paired by a link over direct TCP, with
// neither relay nor mDNS: the only path between them is the one a test gives
// ConnectAddr. Their logs are counted.
func directPair(t *testing.T) (a, b *Node, la, lb *logCounter) {
	t.Helper()
	la, lb = &logCounter{}, &logCounter{}
	a = newTestNode(t, WithLogger(la.logger()))
	b = newTestNode(t, WithLogger(lb.logger()))
	ctx := testCtx(t)
	l, err := a.PairGenerateLink(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.PairFromLink(ctx, l.URI); err != nil {
		t.Fatal(err)
	}
	if _, err := l.Wait(ctx); err != nil {
		t.Fatal(err)
	}
	return a, b, la, lb
}

// openStream connects b to a at addr and returns the dialer's channel and
// the acceptor's side of it, after a first message went through.
func openStream(t *testing.T, a, b *Node, addrs ...string) (s, sa *Session, out, in *Channel) {
	t.Helper()
	ctx := testCtx(t)
	acc := acceptOne(t, a)
	var err error
	if len(addrs) > 0 {
		s, err = b.ConnectAddr(ctx, a.PeerID(), addrs...)
	} else {
		s, err = b.Connect(ctx, a.PeerID())
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	out, err = s.OpenChannel(ctx, "seq")
	if err != nil {
		t.Fatal(err)
	}
	if err := out.Send(ctx, []byte("start")); err != nil {
		t.Fatal(err)
	}
	sa, in = acceptedChannel(t, ctx, acc)
	t.Cleanup(func() { sa.Close() })
	if msg, err := in.Receive(ctx); err != nil || string(msg) != "start" {
		t.Fatalf("first message: %q, %v", msg, err)
	}
	return s, sa, out, in
}

// transfer sends faultMsgs messages on out and checks them on in.
func transfer(t *testing.T, out, in *Channel) {
	t.Helper()
	ctx := testCtx(t)
	sent := make(chan error, 1)
	go func() { sent <- sendSeq(ctx, out, 0, faultMsgs) }()
	if err := recvSeq(ctx, in, 0, faultMsgs); err != nil {
		t.Fatal(err)
	}
	if err := <-sent; err != nil {
		t.Fatal(err)
	}
}

var forward = loadtest.Action{}

// waitResumed waits until s has replaced its connection since it had
// resumed times (the fault may have hit the last frames of a transfer).
// faultTransfer moves faultMsgs messages through a faulty path and checks
// they arrive intact, that the session resumed if the fault must make it,
// and that at least bad frames were counted as bad.
func faultTransfer(t *testing.T, s *Session, la *logCounter, out, in *Channel, name string, resumed bool, bad int, sees string) {
	t.Helper()
	start := time.Now()
	transfer(t, out, in)
	elapsed := time.Since(start)
	if resumed {
		waitResumed(t, s, 0)
	}
	t.Logf("%s: %d messages intact in %v; %d resumes, %d frames dropped as bad; user sees %s",
		name, faultMsgs, elapsed.Round(time.Millisecond), s.s.Stats().Resumes, la.count(logBadFrame), sees)
	if got := la.count(logBadFrame); got < bad {
		t.Errorf("%d bad frames counted, want at least %d", got, bad)
	}
}

func waitResumed(t *testing.T, s *Session, resumed int) {
	t.Helper()
	for range 200 {
		if s.s.Stats().Resumes > resumed {
			return
		}
		time.Sleep(25 * time.Millisecond)
	}
	t.Error("the fault did not make the session reconnect: it did not hit")
}

func isRatchetFrame(u loadtest.Unit) bool {
	return len(u.Data) > frame.HeaderSize && frame.Type(u.Data[frame.HeaderSize]) == frame.TypeRatchet
}

// atRatchet returns a policy that applies act to the nth (from 1) ratchet
// frame going dir on the proxy's connection conn, and forwards the rest.
func atRatchet(conn int, dir loadtest.Dir, nth int, act loadtest.Action) loadtest.Policy {
	return everyRatchet(conn, dir, nth, 1, act)
}

// everyRatchet applies act to every ratchet frame going dir on connection
// conn whose number (from 1) is a multiple of every, times at most.
func everyRatchet(conn int, dir loadtest.Dir, every, times int, act loadtest.Action) loadtest.Policy {
	var seen, done atomic.Int64
	return func(u loadtest.Unit) loadtest.Action {
		if u.Conn != conn || u.Dir != dir || !isRatchetFrame(u) {
			return forward
		}
		if seen.Add(1)%int64(every) == 0 && done.Add(1) <= int64(times) {
			return act
		}
		return forward
	}
}

// firstOf combines policies: the first that does not forward decides.
func firstOf(ps ...loadtest.Policy) loadtest.Policy {
	return func(u loadtest.Unit) loadtest.Action {
		for _, p := range ps {
			if a := p(u); a.Verdict != loadtest.Forward || a.Data != nil {
				return a
			}
		}
		return forward
	}
}

// TestFaultFramesDirect runs a session through a proxy that faults one
// frame (or one connection) of it, between the peers.
func TestFaultFramesDirect(t *testing.T) {
	up, down := loadtest.Up, loadtest.Down
	for _, c := range []struct {
		name string
		// sees is what the user sees; in every case no message is lost,
		// duplicated, reordered or altered.
		sees    string
		policy  loadtest.Policy
		resumed bool // the session must have replaced its connection
		bad     int  // frames the receiver must have dropped as bad, at least
	}{{
		name:    "cut",
		sees:    "nothing: the dialer reconnects and the session resumes",
		policy:  atRatchet(0, up, 40, loadtest.Action{Verdict: loadtest.Cut}),
		resumed: true,
	}, {
		name:    "cut-on-ack",
		sees:    "nothing: the acceptor's first Ack (after 16 records) cuts the connection; the session resumes",
		policy:  atRatchet(0, down, 1, loadtest.Action{Verdict: loadtest.Cut}),
		resumed: true,
	}, {
		name:    "truncate",
		sees:    "nothing: half a frame then a cut (frame.ErrTruncated inside); the session resumes",
		policy:  atRatchet(0, up, 60, loadtest.Action{Verdict: loadtest.Truncate}),
		resumed: true,
	}, {
		name:    "drop",
		sees:    "nothing: the gap in sequence numbers makes the acceptor replace the connection",
		policy:  atRatchet(0, up, 25, loadtest.Action{Verdict: loadtest.Drop}),
		resumed: true,
	}, {
		name:    "reorder",
		sees:    "nothing: two frames swapped; the ratchet opens both but the session sees a gap and resumes",
		policy:  atRatchet(0, up, 50, loadtest.Action{Verdict: loadtest.Hold}),
		resumed: true,
	}, {
		name:   "duplicate",
		sees:   "nothing: every 25th frame arrives twice; the ratchet refuses the copies (counted), no reconnect",
		policy: everyRatchet(0, up, 25, 10, loadtest.Action{Verdict: loadtest.Duplicate}),
		bad:    10,
	}, {
		name: "delay",
		sees: "a slower transfer: every frame both ways waits 2 ms",
		policy: func(loadtest.Unit) loadtest.Action {
			return loadtest.Action{Verdict: loadtest.Delay, Delay: 2 * time.Millisecond}
		},
	}, {
		name:    "stall",
		sees:    "a pause of about DeadAfter (2 s here, 6 s by default): the link stops without closing; the heartbeat declares it dead and the session resumes on a new connection",
		policy:  atRatchet(0, up, 100, loadtest.Action{Verdict: loadtest.Stall}),
		resumed: true,
	}, {
		name: "cut-then-handshake-cut",
		sees: "nothing: the connection is cut, and the reconnect's Noise handshake is truncated too; the next reconnect resumes",
		policy: firstOf(
			atRatchet(0, up, 30, loadtest.Action{Verdict: loadtest.Cut}),
			func(u loadtest.Unit) loadtest.Action {
				if u.Conn == 1 && u.Dir == down && u.Index == 0 {
					return loadtest.Action{Verdict: loadtest.Truncate}
				}
				return forward
			}),
		resumed: true,
	}} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			a, b, la, _ := directPair(t)
			proxy := loadtest.NewProxy(t, a.Addr().String(), loadtest.CairnFrames(), nil)
			s, _, out, in := openStream(t, a, b, proxy.Addr())
			proxy.SetPolicy(c.policy)
			faultTransfer(t, s, la, out, in, c.name, c.resumed, c.bad, c.sees)
		})
	}
}

// TestFaultHandshakeDirect truncates the acceptor's first Noise message.
// The user sees Connect fail with an error that wraps frame.ErrTruncated
// (no session existed yet, so nothing is retried); a second Connect works.
func TestFaultHandshakeDirect(t *testing.T) {
	a, b, _, _ := directPair(t)
	proxy := loadtest.NewProxy(t, a.Addr().String(), loadtest.CairnFrames(), func(u loadtest.Unit) loadtest.Action {
		if u.Conn == 0 && u.Dir == loadtest.Down && u.Index == 0 {
			return loadtest.Action{Verdict: loadtest.Truncate}
		}
		return forward
	})
	ctx := testCtx(t)
	if s, err := b.ConnectAddr(ctx, a.PeerID(), proxy.Addr()); !errors.Is(err, frame.ErrTruncated) {
		if s != nil {
			s.Close()
		}
		t.Fatalf("Connect with its handshake truncated = %v, want an error wrapping frame.ErrTruncated", err)
	}
	_, _, out, in := openStream(t, a, b, proxy.Addr())
	transfer(t, out, in)
}

// relayFaults is the policy of a proxy in front of a relay: it learns each
// connection's role (host or join, and the slot) from its HTTP request, and
// applies a fault set later.
type relayFaults struct {
	roles sync.Map // conn -> slotRole
	fault atomic.Pointer[loadtest.Policy]
}

type slotRole struct {
	mode, slot string
}

func (r *relayFaults) policy(u loadtest.Unit) loadtest.Action {
	if u.Dir == loadtest.Up && u.Index == 0 {
		r.roles.Store(u.Conn, parseSlotRequest(u.Data))
	}
	if f := r.fault.Load(); f != nil {
		return (*f)(u)
	}
	return forward
}

// set installs the fault policy; nil removes it.
func (r *relayFaults) set(p loadtest.Policy) {
	if p == nil {
		r.fault.Store(nil)
		return
	}
	r.fault.Store(&p)
}

// parseSlotRequest reads mode and slot from "GET /v1/slot/{slot}?mode=...".
func parseSlotRequest(req []byte) slotRole {
	line, _, _ := bytes.Cut(req, []byte("\r\n"))
	f := strings.Fields(string(line))
	if len(f) < 2 {
		return slotRole{}
	}
	u, err := url.Parse(f[1])
	if err != nil {
		return slotRole{}
	}
	return slotRole{mode: u.Query().Get("mode"), slot: strings.TrimPrefix(u.Path, relay.SlotPath)}
}

// sessionConns returns the proxy connections of the session b opened with a
// through the relay: b's join and a's host connection that it was piped to
// (the latest host connection on that slot opened before the join).
func (r *relayFaults) sessionConns(t *testing.T, proxy *loadtest.Proxy) (join, host int) {
	t.Helper()
	join, host = -1, -1
	open := proxy.Open()
	roles := map[int]slotRole{}
	for _, c := range open {
		if v, ok := r.roles.Load(c); ok {
			roles[c] = v.(slotRole)
		}
	}
	for c, role := range roles {
		if role.mode == relay.ModeJoin && strings.HasPrefix(role.slot, sessionSlotPrefix) && (join < 0 || c < join) {
			join = c
		}
	}
	if join < 0 {
		t.Fatal("no session join connection through the proxy")
	}
	for c, role := range roles {
		if role.mode == relay.ModeHost && role.slot == roles[join].slot && c < join && c > host {
			host = c
		}
	}
	if host < 0 {
		t.Fatal("no host connection piped to the session's join")
	}
	return join, host
}

func isWSData(u loadtest.Unit) bool {
	op := loadtest.WSOpcode(u.Data)
	return u.Index > 0 && (op == loadtest.WSBinary || op == loadtest.WSContinuation)
}

// atWSData applies act to the nth (from 1) WebSocket data frame going dir on
// connection conn.
func atWSData(conn int, dir loadtest.Dir, nth int, act loadtest.Action) loadtest.Policy {
	var seen atomic.Int64
	return func(u loadtest.Unit) loadtest.Action {
		if u.Conn != conn || u.Dir != dir || !isWSData(u) {
			return forward
		}
		if seen.Add(1) == int64(nth) {
			return act
		}
		return forward
	}
}

// TestFaultFramesRelay runs a session through a relay behind a proxy that
// faults one WebSocket frame or one connection between a peer and the
// relay. Both nodes reach the relay only through the proxy.
func TestFaultFramesRelay(t *testing.T) {
	up, down := loadtest.Up, loadtest.Down
	for _, c := range []struct {
		name    string
		sees    string
		fault   func(join, host int) loadtest.Policy
		resumed bool
		bad     int
	}{{
		name: "cut-joiner",
		sees: "nothing: the relay closes the acceptor's side too (4001); the dialer rejoins, the acceptor re-hosts, the session resumes",
		fault: func(join, _ int) loadtest.Policy {
			return atWSData(join, up, 40, loadtest.Action{Verdict: loadtest.Cut})
		},
		resumed: true,
	}, {
		name: "cut-host",
		sees: "nothing: the acceptor's relay connection drops; the session resumes",
		fault: func(_, host int) loadtest.Policy {
			return atWSData(host, down, 40, loadtest.Action{Verdict: loadtest.Cut})
		},
		resumed: true,
	}, {
		name: "truncate",
		sees: "nothing: half a WebSocket frame, then a cut; the relay ends the pair and the session resumes",
		fault: func(join, _ int) loadtest.Policy {
			return atWSData(join, up, 60, loadtest.Action{Verdict: loadtest.Truncate})
		},
		resumed: true,
	}, {
		name: "duplicate",
		sees: "nothing: a WebSocket frame relayed twice puts a copy of a ratchet frame in the stream; it is refused (counted), no reconnect",
		fault: func(join, _ int) loadtest.Policy {
			return atWSData(join, up, 50, loadtest.Action{Verdict: loadtest.Duplicate})
		},
		bad: 1,
	}, {
		name: "stall",
		sees: "a pause of about DeadAfter: the path to the relay stops without closing; the session resumes on a new one",
		fault: func(join, _ int) loadtest.Policy {
			return atWSData(join, up, 80, loadtest.Action{Verdict: loadtest.Stall})
		},
		resumed: true,
	}, {
		name: "delay",
		sees: "a slower transfer: every WebSocket frame through the proxy waits 2 ms",
		fault: func(int, int) loadtest.Policy {
			return func(u loadtest.Unit) loadtest.Action {
				return loadtest.Action{Verdict: loadtest.Delay, Delay: 2 * time.Millisecond}
			}
		},
	}} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			relayURL, _ := relaytest.Start(t, relay.Config{})
			rf := &relayFaults{}
			proxy := loadtest.NewProxy(t, strings.TrimPrefix(relayURL, "http://"), loadtest.WebSocketFrames(), rf.policy)
			la := &logCounter{}
			a := newTestNode(t, WithRelay(proxy.URL()), WithLogger(la.logger()))
			b := newTestNode(t, WithRelay(proxy.URL()))
			pairByPIN(t, a, b)
			s, _, out, in := openStream(t, a, b)
			join, host := rf.sessionConns(t, proxy)
			rf.set(c.fault(join, host))
			faultTransfer(t, s, la, out, in, c.name, c.resumed, c.bad, c.sees)
		})
	}
}

// TestFaultKillRelayDuringTransfer kills the relay process (kill -9) in the
// middle of a relayed transfer and starts a new one on the same address.
// The user sees a pause of a few seconds (the nodes retry with backoff) and
// then the transfer completes: nothing lost or duplicated.
func TestFaultKillRelayDuringTransfer(t *testing.T) {
	proc, relayURL := startRelayProcess(t, "127.0.0.1:0", "")
	a := newTestNode(t, WithRelay(relayURL))
	b := newTestNode(t, WithRelay(relayURL))
	pairByPIN(t, a, b)
	s, _, out, in := openStream(t, a, b)
	ctx := testCtx(t)
	const half = faultMsgs / 2
	if err := sendSeq(ctx, out, 0, half); err != nil {
		t.Fatal(err)
	}
	// The first half is sent, not necessarily delivered: kill now.
	proc.Kill()
	killed := time.Now()
	go func() {
		time.Sleep(500 * time.Millisecond)
		startRelayProcess(t, strings.TrimPrefix(relayURL, "http://"), "")
	}()
	sent := make(chan error, 1)
	go func() { sent <- sendSeq(ctx, out, half, faultMsgs) }()
	if err := recvSeq(ctx, in, 0, faultMsgs); err != nil {
		t.Fatal(err)
	}
	if err := <-sent; err != nil {
		t.Fatal(err)
	}
	if st := s.s.Stats(); st.Resumes == 0 {
		t.Error("no resume after the relay was killed")
	}
	t.Logf("%d messages intact; the transfer completed %v after the relay was killed", faultMsgs, time.Since(killed).Round(time.Millisecond))
}

// stallAtPairing returns a relay-proxy policy that stalls the pairing
// responder's connection from its n-th WebSocket data frame on (1 Hello,
// 2 PakeB, 3 Confirm) and closes stalled when it does.
func stallAtPairing(nth int, stalled chan struct{}) func(rf *relayFaults) loadtest.Policy {
	return func(rf *relayFaults) loadtest.Policy {
		var seen atomic.Int64
		var once sync.Once
		return func(u loadtest.Unit) loadtest.Action {
			v, _ := rf.roles.Load(u.Conn)
			role, _ := v.(slotRole)
			if u.Dir != loadtest.Up || role.mode != relay.ModeJoin || !strings.HasPrefix(role.slot, pinSlotPrefix) || !isWSData(u) {
				return forward
			}
			if seen.Add(1) >= int64(nth) {
				once.Do(func() { close(stalled) })
				return loadtest.Action{Verdict: loadtest.Stall}
			}
			return forward
		}
	}
}

// TestFaultKillRelayDuringPairing kills the relay process (kill -9) while a
// PIN pairing runs through it: the responder's key confirmation is held
// back, so the initiator has spent one of its 5 attempts. The user typing
// the PIN sees the pairing fail with ErrPeerGone (or ErrProtocol, see
// below); nobody is half paired; once a relay runs again on the same
// address, entering the same PIN again pairs.
func TestFaultKillRelayDuringPairing(t *testing.T) {
	proc, relayURL := startRelayProcess(t, "127.0.0.1:0", "")
	rf := &relayFaults{}
	stalled := make(chan struct{})
	rf.set(stallAtPairing(3, stalled)(rf))
	proxy := loadtest.NewProxy(t, strings.TrimPrefix(relayURL, "http://"), loadtest.WebSocketFrames(), rf.policy)
	a := newTestNode(t, WithRelay(relayURL))
	b := newTestNode(t, WithRelay(proxy.URL()))
	ctx := testCtx(t)
	p, err := a.PairGeneratePin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	entered := make(chan error, 1)
	go func() {
		_, err := b.PairEnterPin(ctx, p.Pin)
		entered <- err
	}()
	select {
	case <-stalled:
	case err := <-entered:
		t.Fatalf("pairing ended before the fault: %v", err)
	}
	proc.Kill()
	err = <-entered
	t.Logf("responder, relay killed mid-pairing: %v", err)
	checkPairingCut(t, err)
	if isPaired(t, a, b.PeerID()) || isPaired(t, b, a.PeerID()) {
		t.Fatal("half pairing after the relay died")
	}
	rf.set(nil)
	startRelayProcess(t, strings.TrimPrefix(relayURL, "http://"), "")
	retryPairing(t, a, b, p)
}

// checkPairingCut checks the responder's error when the connection died
// mid-pairing: ErrPeerGone while waiting for the initiator's SPAKE2
// message, ErrProtocol once the Noise handshake started (pairproto maps
// every handshake failure to ErrProtocol; see the report in BENCHMARKS.md).
func checkPairingCut(t *testing.T, err error) {
	t.Helper()
	if !errors.Is(err, ErrPeerGone) {
		t.Fatalf("pairing cut mid-way: %v, want ErrPeerGone", err)
	}
}

// retryPairing enters p's PIN on b until it pairs (the initiator re-hosts
// its slot with backoff after the relay came back), at most 5 times.
func retryPairing(t *testing.T, a, b *Node, p *PinPairing) {
	t.Helper()
	ctx := testCtx(t)
	var errs []error
	for range 5 {
		got, err := b.PairEnterPin(ctx, p.Pin)
		if err == nil {
			if got != a.PeerID() {
				t.Fatalf("paired with %v", got)
			}
			if peer, err := p.Wait(ctx); err != nil || peer != b.PeerID() {
				t.Fatalf("initiator: %v, %v", peer, err)
			}
			t.Logf("the same PIN paired after %d failed retries: %v", len(errs), errs)
			return
		}
		errs = append(errs, err)
		if !errors.Is(err, ErrNoSuchPairing) {
			t.Fatalf("retry with the same PIN: %v", err)
		}
	}
	t.Fatalf("the PIN did not pair again: %v", errs)
}

// Environment of a peer child process (TestFaultChildPeer).
const (
	rolePeer      = "peer"
	envPeerDir    = "CAIRN_FAULT_DIR"
	envPeerRelay  = "CAIRN_FAULT_RELAY"
	envPeerMode   = "CAIRN_FAULT_MODE" // "pair": show a PIN first; "serve": only receive
	envPeerLog    = "CAIRN_FAULT_LOG"
	peerChildLife = 2 * time.Minute
)

// TestFaultChildPeer is a node in a child process: with mode "pair" it
// shows a PIN and waits for a responder; then it receives sequence-numbered
// messages on every session and appends each number to the log file (one
// write per line), so that what it received survives its kill -9.
func TestFaultChildPeer(t *testing.T) {
	loadtest.ChildOnly(t, rolePeer)
	ctx, cancel := context.WithTimeout(t.Context(), peerChildLife)
	defer cancel()
	n, err := New(WithDataDir(os.Getenv(envPeerDir)), WithListenAddr("127.0.0.1:0"), WithMDNS(false),
		WithRelay(os.Getenv(envPeerRelay)), WithHeartbeat(200*time.Millisecond, 2*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	defer n.Close()
	peers, err := n.Peers()
	if err != nil {
		t.Fatal(err)
	}
	loadtest.Signal("peers", strconv.Itoa(len(peers)))
	if os.Getenv(envPeerMode) == "pair" {
		p, err := n.PairGeneratePin(ctx)
		if err != nil {
			t.Fatal(err)
		}
		loadtest.Signal("pin", p.Pin)
		peer, err := p.Wait(ctx)
		if err != nil {
			t.Fatal(err)
		}
		loadtest.Signal("paired", peer.String())
	}
	served := make(chan error, 1)
	go func() { served <- serveSeqLog(ctx, n, os.Getenv(envPeerLog)) }()
	loadtest.Signal("ready", "1")
	if err := loadtest.WaitForParent(ctx); err != nil {
		t.Error(err)
	}
	cancel()
	if err := <-served; err != nil {
		t.Error(err)
	}
}

// serveSeqLog accepts sessions one after another until ctx ends. On each,
// the dialer asks "next?" on a channel and gets the number of messages in
// the log; then it sends messages from that number on, which are checked
// and logged.
func serveSeqLog(ctx context.Context, n *Node, path string) error {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return err
	}
	defer f.Close()
	for {
		s, err := n.Accept(ctx)
		if err != nil {
			return nil
		}
		err = receiveIntoLog(ctx, s, f, path)
		s.Close()
		if err != nil {
			return err
		}
	}
}

func receiveIntoLog(ctx context.Context, s *Session, f *os.File, path string) error {
	ch, err := s.AcceptChannel(ctx)
	if err != nil {
		return nil
	}
	if msg, err := ch.Receive(ctx); err != nil || string(msg) != "next?" {
		return nil
	}
	logged, err := readSeqLog(path)
	if err != nil {
		return err
	}
	next := len(logged)
	if err := ch.Send(ctx, []byte(strconv.Itoa(next))); err != nil {
		return nil
	}
	for {
		msg, err := ch.Receive(ctx)
		if err != nil {
			return nil // the session ended; the dialer resumes in a new one
		}
		if err := checkSeqMsg(msg, next); err != nil {
			_, _ = fmt.Fprintf(f, "bad: %v\n", err)
			return err
		}
		if _, err := fmt.Fprintf(f, "%d\n", next); err != nil {
			return err
		}
		next++
	}
}

// readSeqLog returns the lines of a receiver's log.
func readSeqLog(path string) ([]string, error) {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var lines []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		lines = append(lines, sc.Text())
	}
	return lines, sc.Err()
}

// startPeerProcess runs TestFaultChildPeer with data dir dir and returns it
// once it signalled how many peers it has.
func startPeerProcess(t *testing.T, dir, relayURL, mode, logPath string) (*loadtest.Child, int) {
	t.Helper()
	c := loadtest.Start(t, "TestFaultChildPeer", rolePeer, map[string]string{
		envPeerDir: dir, envPeerRelay: relayURL, envPeerMode: mode, envPeerLog: logPath,
	}, peerChildLife)
	v, err := c.WaitSignal(testCtx(t), "peers")
	if err != nil {
		t.Fatal(err)
	}
	peers, _ := strconv.Atoi(v)
	return c, peers
}

// TestFaultKillPeerDuringPairing kills the initiator's process (kill -9)
// in the middle of a PIN pairing, after it sent its SPAKE2 message and while
// the responder's key confirmation is held back. The user typing the PIN
// sees the pairing fail (ErrPeerGone or ErrProtocol); neither device keeps
// a half pairing; the restarted initiator has the same identity, shows a new
// PIN, and that one pairs.
func TestFaultKillPeerDuringPairing(t *testing.T) {
	relayURL, _ := relaytest.Start(t, relay.Config{})
	rf := &relayFaults{}
	stalled := make(chan struct{})
	rf.set(stallAtPairing(3, stalled)(rf))
	proxy := loadtest.NewProxy(t, strings.TrimPrefix(relayURL, "http://"), loadtest.WebSocketFrames(), rf.policy)
	dir, logPath := t.TempDir(), filepath.Join(t.TempDir(), "log")
	b := newTestNode(t, WithRelay(proxy.URL()))
	ctx := testCtx(t)

	child, _ := startPeerProcess(t, dir, relayURL, "pair", logPath)
	pin, err := child.WaitSignal(ctx, "pin")
	if err != nil {
		t.Fatal(err)
	}
	entered := make(chan error, 1)
	go func() {
		_, err := b.PairEnterPin(ctx, pin)
		entered <- err
	}()
	select {
	case <-stalled:
	case err := <-entered:
		t.Fatalf("pairing ended before the fault: %v", err)
	}
	child.Kill()
	err = <-entered
	t.Logf("responder, initiator killed mid-pairing: %v", err)
	checkPairingCut(t, err)
	if peers, _ := b.Peers(); len(peers) != 0 {
		t.Fatalf("the responder kept a half pairing: %v", peers)
	}

	rf.set(nil)
	child, peers := startPeerProcess(t, dir, relayURL, "pair", logPath)
	if peers != 0 {
		t.Fatalf("the killed initiator kept a half pairing: %d peers", peers)
	}
	pin, err = child.WaitSignal(ctx, "pin")
	if err != nil {
		t.Fatal(err)
	}
	got, err := b.PairEnterPin(ctx, pin)
	if err != nil {
		t.Fatalf("pairing with the restarted initiator: %v", err)
	}
	if v, err := child.WaitSignal(ctx, "paired"); err != nil || v != b.PeerID().String() {
		t.Fatalf("initiator paired with %q, %v", v, err)
	}
	if err := child.Stop(); err != nil {
		t.Fatalf("%v\n%s", err, child.Output())
	}
	t.Logf("paired with the restarted initiator %s", got.Short())
}

// TestFaultKillPeerDuringTransfer kills the receiving peer's process (kill
// -9) in the middle of a transfer and restarts it. Sessions live in memory,
// so the restarted peer refuses to resume: the sender's session fails with
// ErrSessionFailed (wrapping the session layer's ErrUnknownSession), which
// is what the user sees. The application then opens a new session, asks
// the receiver where its log ends and sends the rest: the log holds every
// message exactly once, in order.
func TestFaultKillPeerDuringTransfer(t *testing.T) {
	relayURL, _ := relaytest.Start(t, relay.Config{})
	dir, logPath := t.TempDir(), filepath.Join(t.TempDir(), "log")
	b := newTestNode(t, WithRelay(relayURL))
	ctx := testCtx(t)
	child, _ := startPeerProcess(t, dir, relayURL, "pair", logPath)
	pin, err := child.WaitSignal(ctx, "pin")
	if err != nil {
		t.Fatal(err)
	}
	peer, err := b.PairEnterPin(ctx, pin)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := child.WaitSignal(ctx, "ready"); err != nil {
		t.Fatal(err)
	}

	const total, killAt = 3000, 600
	var restarted atomic.Pointer[loadtest.Child]
	kill := func() {
		child.Kill()
		go func() {
			time.Sleep(300 * time.Millisecond)
			c, _ := startPeerProcess(t, dir, relayURL, "serve", logPath)
			restarted.Store(c)
		}()
	}
	var failures []error
	done := false
	for attempt := 0; attempt < 5 && !done; attempt++ {
		err := sendFromLog(ctx, b, peer, total, func(i int) {
			if attempt == 0 && i == killAt {
				kill()
			}
		})
		if err == nil {
			done = true
			break
		}
		t.Logf("session %d: %v", attempt+1, err)
		failures = append(failures, err)
	}
	if !done {
		t.Fatalf("transfer did not complete: %v", failures)
	}
	if len(failures) == 0 {
		t.Fatal("the kill did not interrupt the transfer")
	}
	if !errors.Is(failures[0], ErrSessionFailed) || !errors.Is(failures[0], session.ErrUnknownSession) {
		t.Errorf("the session with the killed peer ended with %v, want ErrSessionFailed wrapping ErrUnknownSession", failures[0])
	}
	// Flush returned: the receiver's session acknowledged everything; its
	// log may lag a moment behind.
	var lines []string
	for range 100 {
		if lines, err = readSeqLog(logPath); err != nil || len(lines) >= total {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err != nil {
		t.Fatal(err)
	}
	if len(lines) != total {
		t.Fatalf("the receiver logged %d messages, want %d", len(lines), total)
	}
	for i, l := range lines {
		if l != strconv.Itoa(i) {
			t.Fatalf("log line %d is %q", i, l)
		}
	}
	if c := restarted.Load(); c != nil {
		if err := c.Stop(); err != nil {
			t.Fatalf("%v\n%s", err, c.Output())
		}
	}
	t.Logf("%d messages logged exactly once, in order, across the kill; sessions that failed: %d", total, len(failures))
}

// sendFromLog opens a session to peer, asks where the receiver's log ends,
// sends messages from there to total and waits until the receiver's session
// has them all. sent(i) is called after message i was queued.
func sendFromLog(ctx context.Context, b *Node, peer PeerID, total int, sent func(i int)) error {
	s, err := b.Connect(ctx, peer)
	if err != nil {
		return err
	}
	defer s.Close()
	ch, err := s.OpenChannel(ctx, "seq")
	if err != nil {
		return err
	}
	if err := ch.Send(ctx, []byte("next?")); err != nil {
		return err
	}
	reply, err := ch.Receive(ctx)
	if err != nil {
		return err
	}
	next, err := strconv.Atoi(string(reply))
	if err != nil {
		return fmt.Errorf("bad reply %q", reply)
	}
	for i := next; i < total; i++ {
		if err := ch.Send(ctx, seqMsg(i)); err != nil {
			return err
		}
		sent(i)
	}
	return s.Flush(ctx)
}
