package relay_test

import (
	"context"
	"errors"
	"io"
	"net"
	"os"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/cairn-dev/cairn/relay"
	"github.com/cairn-dev/cairn/relay/relaytest"
)

func TestIdleTimeout(t *testing.T) {
	t.Parallel()
	url, srv := relaytest.Start(t, relay.Config{IdleTimeout: 300 * time.Millisecond})
	h, j := pair(t, url, "idle", relay.WithKeepalive(50*time.Millisecond, time.Minute))
	checkEcho(t, h, j, "some data")
	for _, c := range []net.Conn{h, j} {
		if st := websocket.CloseStatus(readErr(t, c)); st != relay.CloseIdle {
			t.Fatalf("closed with %v, want %v", st, relay.CloseIdle)
		}
	}
	eventually(t, "idle count", func() bool { return srv.Stats().Rejections["idle_timeout"] == 1 })
}

func TestWaitingHostNeedsPings(t *testing.T) {
	t.Parallel()
	url, srv := relaytest.Start(t, relay.Config{IdleTimeout: 300 * time.Millisecond})
	ctx := testCtx(t)

	// Without pings the relay drops the waiting host after the idle timeout.
	silent, err := relay.Host(ctx, url, "silent", relay.WithKeepalive(-1, 0))
	if err != nil {
		t.Fatal(err)
	}
	defer silent.Close()
	if st := websocket.CloseStatus(readErr(t, silent)); st != relay.CloseIdle {
		t.Fatalf("silent host closed with %v, want %v", st, relay.CloseIdle)
	}
	if srv.Stats().Rejections["host_idle"] != 1 {
		t.Fatalf("stats %+v", srv.Stats())
	}

	// With pings it stays, well past the idle timeout. The host must be
	// reading for pongs to arrive, which is the normal case.
	h, err := relay.Host(ctx, url, "pinging", relay.WithKeepalive(50*time.Millisecond, time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	got := make(chan string, 1)
	go func() {
		buf := make([]byte, 5)
		_, err := io.ReadFull(h, buf)
		if err != nil {
			got <- err.Error()
			return
		}
		got <- string(buf)
	}()
	time.Sleep(time.Second)
	j, err := relay.Join(ctx, url, "pinging")
	if err != nil {
		t.Fatalf("Join after 1s: %v", err)
	}
	defer j.Close()
	if _, err := j.Write([]byte("hello")); err != nil {
		t.Fatal(err)
	}
	if s := <-got; s != "hello" {
		t.Fatalf("host read %q", s)
	}
}

func TestMaxHostWait(t *testing.T) {
	t.Parallel()
	url, srv := relaytest.Start(t, relay.Config{MaxHostWait: 300 * time.Millisecond})
	ctx := testCtx(t)
	h, err := relay.Host(ctx, url, "wait", relay.WithKeepalive(50*time.Millisecond, time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	if st := websocket.CloseStatus(readErr(t, h)); st != relay.CloseWaitExpired {
		t.Fatalf("closed with %v, want %v", st, relay.CloseWaitExpired)
	}
	if _, err := relay.Join(ctx, url, "wait"); !errors.Is(err, relay.ErrNoSuchSlot) {
		t.Fatalf("Join after expiry: %v", err)
	}
	if srv.Stats().Rejections["wait_expired"] != 1 {
		t.Fatalf("stats %+v", srv.Stats())
	}
}

func TestHostLeavesBeforeJoin(t *testing.T) {
	t.Parallel()
	url, srv := relaytest.Start(t, relay.Config{})
	h, err := relay.Host(testCtx(t), url, "gone")
	if err != nil {
		t.Fatal(err)
	}
	if err := h.Close(); err != nil {
		t.Fatal(err)
	}
	eventually(t, "slot release", func() bool { return srv.Stats().WaitingSlots == 0 })
	if _, err := relay.Join(testCtx(t), url, "gone"); !errors.Is(err, relay.ErrNoSuchSlot) {
		t.Fatalf("Join: %v", err)
	}
}

func TestShutdownMidPipe(t *testing.T) {
	t.Parallel()
	srv, err := relay.NewServer(relay.Config{})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	url := "http://" + ln.Addr().String()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ctx, ln) }()

	h, j := pair(t, url, "mid")
	waiting, err := relay.Host(testCtx(t), url, "waiting")
	if err != nil {
		t.Fatal(err)
	}
	defer waiting.Close()
	checkEcho(t, h, j, "before shutdown")
	// Unread data in flight must not block the shutdown.
	if _, err := h.Write(make([]byte, 100_000)); err != nil {
		t.Fatal(err)
	}

	cancel()
	if err := <-served; err != nil {
		t.Fatalf("Serve: %v", err)
	}
	for _, c := range []net.Conn{h, j, waiting} {
		// io.EOF, or the 1001 close itself when it cut a message short.
		if err := readErr(t, c); !errors.Is(err, io.EOF) && websocket.CloseStatus(err) != relay.CloseGoingAway {
			t.Fatalf("read after shutdown: %v, want io.EOF or 1001", err)
		}
	}
	if st := srv.Stats(); st.PipedPairs != 0 || st.WaitingSlots != 0 {
		t.Fatalf("stats after shutdown %+v", st)
	}
	if _, err := relay.Host(testCtx(t), url, "after"); !errors.Is(err, relay.ErrRelayUnavailable) {
		t.Fatalf("Host after shutdown: %v", err)
	}
	if err := srv.Serve(context.Background(), ln); !errors.Is(err, relay.ErrServerClosed) {
		t.Fatalf("second Serve: %v", err)
	}
}

func TestCloseWithHandlerOnly(t *testing.T) {
	t.Parallel()
	srv, err := relay.NewServer(relay.Config{})
	if err != nil {
		t.Fatal(err)
	}
	// Mounted in someone else's http.Server: Close still ends every session.
	url, _ := relaytestStartHandler(t, srv)
	h, j := pair(t, url, "mounted")
	checkEcho(t, j, h, "x")
	if err := srv.Close(); err != nil {
		t.Fatal(err)
	}
	for _, c := range []net.Conn{h, j} {
		if err := readErr(t, c); !errors.Is(err, io.EOF) {
			t.Fatalf("read after Close: %v", err)
		}
	}
}

func TestHostContextCancelled(t *testing.T) {
	t.Parallel()
	url, _ := relaytest.Start(t, relay.Config{})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := relay.Host(ctx, url, "c")
	if !errors.Is(err, context.Canceled) || errors.Is(err, relay.ErrRelayUnavailable) {
		t.Fatalf("Host with a cancelled context: %v", err)
	}
}

func TestConnOutlivesDialContext(t *testing.T) {
	t.Parallel()
	url, _ := relaytest.Start(t, relay.Config{})
	ctx, cancel := context.WithCancel(context.Background())
	h, err := relay.Host(ctx, url, "outlive")
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	j, err := relay.Join(ctx, url, "outlive")
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	cancel()
	checkEcho(t, h, j, "still here")
}

func TestReadDeadline(t *testing.T) {
	t.Parallel()
	url, _ := relaytest.Start(t, relay.Config{})
	h, _ := pair(t, url, "deadline")
	h.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
	_, err := h.Read(make([]byte, 1))
	var ne net.Error
	if !errors.Is(err, os.ErrDeadlineExceeded) || !errors.As(err, &ne) || !ne.Timeout() {
		t.Fatalf("read past deadline: %v", err)
	}
}
