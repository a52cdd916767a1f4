package relay

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"testing"
	"time"
)

// TestIdleConnsHoldNoCopyBuffer: most of a busy relay's connections are
// hosts waiting for a joiner (every paired cairn node keeps one per peer)
// and pairs with nothing to relay. Neither may hold a copy buffer: at 32 KiB
// each that was half of a waiting host's memory in the load test. Buffers
// are taken per message from a pool, so pairs relaying one after another
// share a few.
//
// Not parallel: it counts the package's buffer allocations.
func TestIdleConnsHoldNoCopyBuffer(t *testing.T) {
	srv, err := NewServer(Config{MaxConnsPerIP: 1000, LookupRate: 1e6, LookupBurst: 1000})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ctx, ln) }()
	defer func() {
		cancel()
		if err := <-served; err != nil && !errors.Is(err, ErrServerClosed) {
			t.Error(err)
		}
	}()
	url := "http://" + ln.Addr().String()

	const k = 50
	before := copyBufAllocs.Load()
	var conns []net.Conn
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	hosts := make([]net.Conn, k)
	for i := range hosts {
		hosts[i], err = Host(ctx, url, fmt.Sprintf("idle-%d", i))
		if err != nil {
			t.Fatal(err)
		}
		conns = append(conns, hosts[i])
	}
	for srv.Stats().WaitingSlots < k && ctx.Err() == nil {
		time.Sleep(10 * time.Millisecond)
	}
	if got := copyBufAllocs.Load() - before; got != 0 {
		t.Fatalf("%d waiting hosts allocated %d copy buffers, want 0", k, got)
	}
	buf := make([]byte, 1)
	for i, h := range hosts {
		j, err := Join(ctx, url, fmt.Sprintf("idle-%d", i))
		if err != nil {
			t.Fatal(err)
		}
		conns = append(conns, j)
		for _, p := range [][2]net.Conn{{j, h}, {h, j}} {
			if _, err := p[0].Write([]byte{byte(i)}); err != nil {
				t.Fatal(err)
			}
			if _, err := io.ReadFull(p[1], buf); err != nil || buf[0] != byte(i) {
				t.Fatalf("pair %d: read %v, %v", i, buf, err)
			}
		}
	}
	// Each pair relayed a message each way and now idles. With a buffer per
	// direction that was 2k buffers, all still held. A pool may allocate
	// again after a GC cycle, and under the race detector sync.Pool drops a
	// quarter of what is put back, so the bound is loose.
	if got := copyBufAllocs.Load() - before; got >= k {
		t.Fatalf("%d pairs relaying one after another allocated %d copy buffers, want far fewer than %d", k, got, 2*k)
	}
}
