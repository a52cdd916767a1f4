package relay_test

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/cairn-dev/cairn/relay"
	"github.com/cairn-dev/cairn/relay/relaytest"
)

// pump writes n pseudo-random bytes (seeded) to w in uneven writes and
// returns their hash.
func pump(w io.Writer, n int, seed uint64) ([32]byte, error) {
	r := rand.New(rand.NewPCG(seed, seed))
	h := sha256.New()
	buf := make([]byte, 200_000)
	for n > 0 {
		k := min(n, 1+r.IntN(len(buf)))
		for i := range buf[:k] {
			buf[i] = byte(r.Uint32())
		}
		h.Write(buf[:k])
		if _, err := w.Write(buf[:k]); err != nil {
			return [32]byte{}, err
		}
		n -= k
	}
	return [32]byte(h.Sum(nil)), nil
}

func drain(r io.Reader, n int64) ([32]byte, error) {
	h := sha256.New()
	if _, err := io.CopyN(h, r, n); err != nil {
		return [32]byte{}, err
	}
	return [32]byte(h.Sum(nil)), nil
}

func TestPipeLargeBothWays(t *testing.T) {
	t.Parallel()
	url, srv := relaytest.Start(t, relay.Config{})
	h, j := pair(t, url, "big-slot")
	const size = 8 << 20

	type res struct {
		sent, got [32]byte
		err       error
	}
	run := func(w, r net.Conn, seed uint64) <-chan res {
		ch := make(chan res, 1)
		go func() {
			var out res
			var wg sync.WaitGroup
			var werr error
			wg.Go(func() { out.sent, werr = pump(w, size, seed) })
			out.got, out.err = drain(r, size)
			wg.Wait()
			if out.err == nil {
				out.err = werr
			}
			ch <- out
		}()
		return ch
	}
	a, b := run(h, j, 1), run(j, h, 2)
	for _, ch := range []<-chan res{a, b} {
		r := <-ch
		if r.err != nil {
			t.Fatal(r.err)
		}
		if r.sent != r.got {
			t.Fatal("relayed data differs from sent data")
		}
	}
	if st := srv.Stats(); st.BytesRelayed != 2*size || st.PairsTotal != 1 || st.PipedPairs != 1 {
		t.Fatalf("stats = %+v", st)
	}
	// Closing one side gives the other io.EOF.
	if err := h.Close(); err != nil {
		t.Fatal(err)
	}
	if err := readErr(t, j); !errors.Is(err, io.EOF) {
		t.Fatalf("joiner read after host close: %v, want io.EOF", err)
	}
	eventually(t, "pair to end", func() bool { return srv.Stats().PipedPairs == 0 })
}

func TestDoubleHost(t *testing.T) {
	t.Parallel()
	url, _ := relaytest.Start(t, relay.Config{})
	ctx := testCtx(t)
	h, err := relay.Host(ctx, url, "dup")
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	_, err = relay.Host(ctx, url, "dup")
	if !errors.Is(err, relay.ErrSlotTaken) {
		t.Fatalf("second Host: %v, want ErrSlotTaken", err)
	}
	var se *relay.StatusError
	if !errors.As(err, &se) || se.StatusCode != http.StatusConflict {
		t.Fatalf("second Host: %v, want StatusError 409", err)
	}
}

func TestJoinWithoutHost(t *testing.T) {
	t.Parallel()
	url, _ := relaytest.Start(t, relay.Config{})
	_, err := relay.Join(testCtx(t), url, "nobody-here")
	if !errors.Is(err, relay.ErrNoSuchSlot) {
		t.Fatalf("Join: %v, want ErrNoSuchSlot", err)
	}
}

func TestSlotFreeAfterPairing(t *testing.T) {
	t.Parallel()
	url, _ := relaytest.Start(t, relay.Config{})
	pair(t, url, "again")
	// The slot is free again: a second join finds nobody, a second host succeeds.
	if _, err := relay.Join(testCtx(t), url, "again"); !errors.Is(err, relay.ErrNoSuchSlot) {
		t.Fatalf("second Join: %v, want ErrNoSuchSlot", err)
	}
	h2, j2 := pair(t, url, "again")
	checkEcho(t, h2, j2, "second pair")
}

func checkEcho(t *testing.T, a, b net.Conn, msg string) {
	t.Helper()
	if _, err := a.Write([]byte(msg)); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, len(msg))
	if _, err := io.ReadFull(b, buf); err != nil {
		t.Fatal(err)
	}
	if string(buf) != msg {
		t.Fatalf("got %q, want %q", buf, msg)
	}
}

func TestSlotsDoNotCross(t *testing.T) {
	t.Parallel()
	url, _ := relaytest.Start(t, relay.Config{})
	const n = 8
	hosts := make([]net.Conn, n)
	joins := make([]net.Conn, n)
	for i := range n {
		hosts[i], joins[i] = pair(t, url, fmt.Sprintf("slot-%d", i))
	}
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			fmt.Fprintf(hosts[i], "host %02d", i)
			fmt.Fprintf(joins[i], "join %02d", i)
		})
	}
	wg.Wait()
	for i := range n {
		buf := make([]byte, 7)
		if _, err := io.ReadFull(joins[i], buf); err != nil || string(buf) != fmt.Sprintf("host %02d", i) {
			t.Fatalf("joiner %d got %q, %v", i, buf, err)
		}
		if _, err := io.ReadFull(hosts[i], buf); err != nil || string(buf) != fmt.Sprintf("join %02d", i) {
			t.Fatalf("host %d got %q, %v", i, buf, err)
		}
	}
}

func TestHostEarlyData(t *testing.T) {
	t.Parallel()
	url, _ := relaytest.Start(t, relay.Config{})
	ctx := testCtx(t)
	h, err := relay.Host(ctx, url, "early")
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	// Written before anyone joined: the relay holds it back until pairing.
	if _, err := h.Write([]byte("first")); err != nil {
		t.Fatal(err)
	}
	j, err := relay.Join(ctx, url, "early")
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	buf := make([]byte, 5)
	if _, err := io.ReadFull(j, buf); err != nil || string(buf) != "first" {
		t.Fatalf("got %q, %v", buf, err)
	}
	checkEcho(t, j, h, "reply")
}

func TestTapSeesEveryByte(t *testing.T) {
	t.Parallel()
	var rec relaytest.Recorder
	url, _ := relaytest.Start(t, relay.Config{Tap: rec.Tap})
	h, j := pair(t, url, "tapped")
	checkEcho(t, h, j, "from the host")
	checkEcho(t, j, h, "from the joiner")
	if got := string(rec.Stream("tapped", true)); got != "from the host" {
		t.Fatalf("host stream %q", got)
	}
	if got := string(rec.Stream("tapped", false)); got != "from the joiner" {
		t.Fatalf("joiner stream %q", got)
	}
	if !rec.Contains([]byte("joiner")) || rec.Contains([]byte("never sent")) {
		t.Fatal("Contains is wrong")
	}
}

func TestRateLimit(t *testing.T) {
	t.Parallel()
	// A tiny refill rate so the bucket does not refill during the test.
	url, srv := relaytest.Start(t, relay.Config{LookupRate: 0.001, LookupBurst: 3})
	ctx := testCtx(t)
	for i := range 3 {
		if _, err := relay.Join(ctx, url, "rl"); !errors.Is(err, relay.ErrNoSuchSlot) {
			t.Fatalf("request %d: %v, want ErrNoSuchSlot", i, err)
		}
	}
	_, err := relay.Join(ctx, url, "rl")
	var se *relay.StatusError
	if !errors.Is(err, relay.ErrRateLimited) || !errors.As(err, &se) || se.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("4th request: %v, want 429 ErrRateLimited", err)
	}
	if srv.Stats().Rejections["rate_limited"] != 1 {
		t.Fatalf("stats %+v", srv.Stats())
	}
}

func TestConnLimitPerIP(t *testing.T) {
	t.Parallel()
	url, srv := relaytest.Start(t, relay.Config{MaxConnsPerIP: 2})
	ctx := testCtx(t)
	a, err := relay.Host(ctx, url, "a")
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	b, err := relay.Host(ctx, url, "b")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := relay.Host(ctx, url, "c"); !errors.Is(err, relay.ErrRateLimited) {
		t.Fatalf("third conn: %v, want ErrRateLimited", err)
	}
	if srv.Stats().Rejections["too_many_conns"] != 1 {
		t.Fatalf("stats %+v", srv.Stats())
	}
	b.Close()
	eventually(t, "the slot to be released", func() bool { return srv.Stats().WaitingSlots == 1 })
	var c net.Conn
	eventually(t, "a connection to be allowed", func() bool {
		c, err = relay.Host(ctx, url, "c")
		return err == nil
	})
	c.Close()
}

func TestMaxWaitingSlots(t *testing.T) {
	t.Parallel()
	url, _ := relaytest.Start(t, relay.Config{MaxWaitingSlots: 1})
	ctx := testCtx(t)
	a, err := relay.Host(ctx, url, "a")
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	_, err = relay.Host(ctx, url, "b")
	var se *relay.StatusError
	if !errors.Is(err, relay.ErrRelayUnavailable) || !errors.As(err, &se) || se.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("second host: %v, want 503", err)
	}
}

func TestMessageSizeLimit(t *testing.T) {
	t.Parallel()
	url, srv := relaytest.Start(t, relay.Config{MaxMessageSize: 1024})
	ctx := testCtx(t)
	h, err := relay.Host(ctx, url, "small", relay.WithWriteChunk(1024))
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	// A raw WebSocket joiner, so it can send one oversized message.
	ws, _, err := websocket.Dial(ctx, url+"/v1/slot/small?mode=join", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ws.CloseNow()
	if err := ws.Write(ctx, websocket.MessageBinary, make([]byte, 1024)); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 1024)
	if _, err := io.ReadFull(h, buf); err != nil {
		t.Fatalf("a message at the limit must pass: %v", err)
	}
	// The chunking client never exceeds the limit either.
	if _, err := h.Write(make([]byte, 5000)); err != nil {
		t.Fatal(err)
	}
	for got := 0; got < 5000; {
		_, m, err := ws.Read(ctx)
		if err != nil {
			t.Fatal(err)
		}
		got += len(m)
	}
	_ = ws.Write(ctx, websocket.MessageBinary, make([]byte, 1025))
	_, _, err = ws.Read(ctx)
	if st := websocket.CloseStatus(err); st != relay.CloseTooBig {
		t.Fatalf("sender closed with %v (%v), want %v", st, err, relay.CloseTooBig)
	}
	if st := websocket.CloseStatus(readErr(t, h)); st != relay.ClosePeerLost {
		t.Fatalf("host closed with %v, want %v", st, relay.ClosePeerLost)
	}
	eventually(t, "rejection to count", func() bool { return srv.Stats().Rejections["message_too_big"] == 1 })
}

func TestTextMessageRejected(t *testing.T) {
	t.Parallel()
	url, _ := relaytest.Start(t, relay.Config{})
	ctx := testCtx(t)
	h, err := relay.Host(ctx, url, "txt")
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	ws, _, err := websocket.Dial(ctx, url+"/v1/slot/txt?mode=join", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ws.CloseNow()
	if err := ws.Write(ctx, websocket.MessageText, []byte("hi")); err != nil {
		t.Fatal(err)
	}
	if _, _, err := ws.Read(ctx); websocket.CloseStatus(err) != relay.ClosePolicy {
		t.Fatalf("text sender: %v, want %v", err, relay.ClosePolicy)
	}
	if st := websocket.CloseStatus(readErr(t, h)); st != relay.ClosePeerLost {
		t.Fatalf("host closed with %v, want %v", st, relay.ClosePeerLost)
	}
}

func TestBadRequests(t *testing.T) {
	t.Parallel()
	url, srv := relaytest.Start(t, relay.Config{})
	cases := []struct {
		method, path string
		want         int
	}{
		{"GET", "/v1/slot/ok?mode=nope", 400},
		{"GET", "/v1/slot/ok", 400},
		{"GET", "/v1/slot/ok?mode=host&mode=join", 400},
		{"GET", "/v1/slot/bad%2Fslot?mode=host", 400},
		{"GET", "/v1/slot/" + strings.Repeat("a", 129) + "?mode=host", 400},
		{"GET", "/v1/slot/?mode=host", 400},
		{"GET", "/v1/slot/sp%20ace?mode=join", 400},
		{"POST", "/v1/slot/ok?mode=host", 405},
		{"GET", "/v1/slot/not-websocket?mode=host", 426},
		{"GET", "/v1/slot/not-websocket?mode=join", 426},
	}
	tr := &http.Transport{DisableKeepAlives: true}
	defer tr.CloseIdleConnections()
	hc := &http.Client{Transport: tr}
	for _, c := range cases {
		req, err := http.NewRequestWithContext(testCtx(t), c.method, url+c.path, nil)
		if err != nil {
			t.Fatal(err)
		}
		resp, err := hc.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != c.want {
			t.Errorf("%s %s: %d, want %d", c.method, c.path, resp.StatusCode, c.want)
		}
	}
	// A failed upgrade frees the slot.
	eventually(t, "slot release", func() bool { return srv.Stats().WaitingSlots == 0 })
	// The client validates before sending.
	if _, err := relay.Host(testCtx(t), url, "bad/slot"); !errors.Is(err, relay.ErrBadRequest) {
		t.Fatalf("Host with a bad slot: %v", err)
	}
	var re *relay.RequestError
	if _, err := relay.Join(testCtx(t), "ftp://x", "ok"); !errors.As(err, &re) {
		t.Fatalf("Join with a bad URL: %v", err)
	}
}

func TestHealthzAndMetrics(t *testing.T) {
	t.Parallel()
	url, _ := relaytest.Start(t, relay.Config{})
	h, j := pair(t, url, "m")
	checkEcho(t, h, j, "12345")
	get := func(path string) string {
		tr := &http.Transport{DisableKeepAlives: true}
		defer tr.CloseIdleConnections()
		req, _ := http.NewRequestWithContext(testCtx(t), "GET", url+path, nil)
		resp, err := (&http.Client{Transport: tr}).Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != 200 {
			t.Fatalf("%s: %d", path, resp.StatusCode)
		}
		return string(b)
	}
	if got := get("/healthz"); got != "ok" {
		t.Fatalf("healthz %q", got)
	}
	m := get("/metrics")
	for _, want := range []string{
		"# TYPE cairn_relay_waiting_slots gauge",
		"cairn_relay_piped_pairs 1\n",
		"cairn_relay_pairs_total 1\n",
		`cairn_relay_bytes_relayed_total{direction="host_to_join"} 5` + "\n",
		`cairn_relay_rejections_total{reason="rate_limited"} 0` + "\n",
	} {
		if !strings.Contains(m, want) {
			t.Errorf("metrics lack %q:\n%s", want, m)
		}
	}
}

func TestRelayUnavailable(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	_, err = relay.Host(testCtx(t), "http://"+addr, "x")
	if !errors.Is(err, relay.ErrRelayUnavailable) || !errors.Is(err, syscall.ECONNREFUSED) {
		t.Fatalf("Host on a closed port: %v", err)
	}
}

func TestRemoteAddr(t *testing.T) {
	t.Parallel()
	url, _ := relaytest.Start(t, relay.Config{})
	h, _ := pair(t, url, "addr")
	if got := h.RemoteAddr().String(); !strings.HasPrefix(url, "http://"+got) {
		t.Fatalf("RemoteAddr %q, url %q", got, url)
	}
}

// rawRequest sends req on a new TCP connection to the relay at url and
// returns the connection and the status line of the answer (if any).
func rawRequest(t *testing.T, url, req string) (net.Conn, string) {
	t.Helper()
	c, err := net.Dial("tcp", strings.TrimPrefix(url, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	if _, err := io.WriteString(c, req); err != nil {
		t.Fatal(err)
	}
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	buf := make([]byte, 512)
	n, _ := c.Read(buf)
	status, _, _ := strings.Cut(string(buf[:n]), "\r\n")
	return c, status
}

// TestPlainHTTPBounded: a kept-alive connection and a request whose body
// never comes are closed after ReadHeaderTimeout; no per-IP limit counts them,
// so nothing else would.
func TestPlainHTTPBounded(t *testing.T) {
	t.Parallel()
	url, _ := relaytest.Start(t, relay.Config{ReadHeaderTimeout: 200 * time.Millisecond})
	for name, req := range map[string]string{
		"kept alive":   "GET /healthz HTTP/1.1\r\nHost: relay\r\n\r\n",
		"missing body": "GET /v1/slot/abc?mode=join HTTP/1.1\r\nHost: relay\r\nContent-Length: 100\r\n\r\n",
	} {
		c, _ := rawRequest(t, url, req)
		start := time.Now()
		_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
		_, err := io.Copy(io.Discard, c)
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			t.Errorf("%s: connection still open after %v", name, time.Since(start).Round(time.Millisecond))
		}
	}
}

// TestBadUpgradeLeavesHostWaiting: a join that asks for a WebSocket but whose
// handshake the upgrade would refuse is turned away before it claims the
// slot, so the waiting host stays and a proper joiner still pairs.
func TestBadUpgradeLeavesHostWaiting(t *testing.T) {
	t.Parallel()
	url, _ := relaytest.Start(t, relay.Config{})
	h, err := relay.Host(testCtx(t), url, "target")
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	for name, req := range map[string]string{
		"no key":      "GET /v1/slot/target?mode=join HTTP/1.1\r\nHost: relay\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\n\r\n",
		"bad version": "GET /v1/slot/target?mode=join HTTP/1.1\r\nHost: relay\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 8\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n",
		"HTTP/1.0":    "GET /v1/slot/target?mode=join HTTP/1.0\r\nHost: relay\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n",
	} {
		if _, status := rawRequest(t, url, req); !strings.Contains(status, " 426 ") {
			t.Errorf("%s: got %q, want 426", name, status)
		}
	}
	j, err := relay.Join(testCtx(t), url, "target")
	if err != nil {
		t.Fatalf("Join after the bad ones: %v", err)
	}
	defer j.Close()
	checkEcho(t, h, j, "still here")
}

func TestDotSlotsRefused(t *testing.T) {
	t.Parallel()
	for _, s := range []string{".", ".."} {
		if relay.ValidSlot(s) {
			t.Errorf("ValidSlot(%q) = true", s)
		}
	}
	if !relay.ValidSlot("...") || !relay.ValidSlot(".a") {
		t.Error("dotted names refused")
	}
}

// TestMaxConns: past the relay's total connection bound a request gets 503
// (ErrRelayUnavailable), whatever its source; a freed place is usable again.
func TestMaxConns(t *testing.T) {
	t.Parallel()
	url, _ := relaytest.Start(t, relay.Config{MaxConns: 1})
	h, err := relay.Host(testCtx(t), url, "first")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := relay.Host(testCtx(t), url, "second"); !errors.Is(err, relay.ErrRelayUnavailable) {
		t.Fatalf("second host past MaxConns: %v, want ErrRelayUnavailable", err)
	}
	h.Close()
	var h2 net.Conn
	eventually(t, "a free place", func() bool {
		h2, err = relay.Host(testCtx(t), url, "second")
		return err == nil
	})
	h2.Close()
}
