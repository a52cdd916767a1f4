package relay_test

import (
	"context"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/cairn-dev/cairn/relay"
)

const testTimeout = 30 * time.Second

func testCtx(t testing.TB) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	t.Cleanup(cancel)
	return ctx
}

// pair hosts and joins slot and registers both conns for closing.
func pair(t testing.TB, url, slot string, opts ...relay.Option) (h, j net.Conn) {
	t.Helper()
	ctx := testCtx(t)
	h, err := relay.Host(ctx, url, slot, opts...)
	if err != nil {
		t.Fatalf("Host: %v", err)
	}
	t.Cleanup(func() { h.Close() })
	j, err = relay.Join(ctx, url, slot, opts...)
	if err != nil {
		t.Fatalf("Join: %v", err)
	}
	t.Cleanup(func() { j.Close() })
	return h, j
}

// eventually polls cond every 10ms for at most 10s.
func eventually(t testing.TB, what string, cond func() bool) {
	t.Helper()
	for range 1000 {
		if cond() {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("timed out waiting for %s", what)
}

// readErr reads from c until an error, bounded by a deadline, and returns it.
func readErr(t testing.TB, c net.Conn) error {
	t.Helper()
	done := make(chan error, 1)
	go func() {
		buf := make([]byte, 4096)
		for {
			if _, err := c.Read(buf); err != nil {
				done <- err
				return
			}
		}
	}()
	select {
	case err := <-done:
		return err
	case <-time.After(testTimeout):
		c.Close()
		t.Fatal("read did not fail in time")
		return <-done
	}
}

// relaytestStartHandler serves srv.Handler() from a plain http.Server on
// loopback, closing the http.Server (not srv) at cleanup.
func relaytestStartHandler(t testing.TB, srv *relay.Server) (string, *http.Server) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	hs := &http.Server{Handler: srv.Handler(), ReadHeaderTimeout: time.Second}
	done := make(chan struct{})
	go func() { defer close(done); _ = hs.Serve(ln) }()
	t.Cleanup(func() {
		_ = srv.Close()
		_ = hs.Close()
		<-done
	})
	return "http://" + ln.Addr().String(), hs
}
