// Package relaytest runs a real cairn relay server on loopback for tests and
// records what it relays.
package relaytest

import (
	"bytes"
	"context"
	"errors"
	"net"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/cairn-dev/cairn/relay"
)

// Start runs a relay server with cfg on 127.0.0.1 (a free port) and returns
// its base URL ("http://127.0.0.1:port") and the server. The server shuts
// down when the test ends; Start fails the test if the shutdown reports an
// error.
func Start(t testing.TB, cfg relay.Config) (url string, srv *relay.Server) {
	t.Helper()
	return StartAt(t, cfg, "127.0.0.1:0")
}

// StartAt is Start on a given loopback address, e.g. the address of a relay
// the test stopped, to restart it where its clients expect it.
func StartAt(t testing.TB, cfg relay.Config, addr string) (url string, srv *relay.Server) {
	t.Helper()
	srv, err := relay.NewServer(cfg)
	if err != nil {
		t.Fatalf("relaytest: %v", err)
	}
	var lc net.ListenConfig
	ln, err := lc.Listen(context.Background(), "tcp", addr)
	// A relay stopped a moment ago may still be releasing the port.
	for i := 0; err != nil && errors.Is(err, syscall.EADDRINUSE) && i < 100; i++ {
		time.Sleep(20 * time.Millisecond)
		ln, err = lc.Listen(context.Background(), "tcp", addr)
	}
	if err != nil {
		t.Fatalf("relaytest: failed to listen: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil && !errors.Is(err, relay.ErrServerClosed) {
			t.Errorf("relaytest: relay Serve: %v", err)
		}
	})
	return "http://" + ln.Addr().String(), srv
}

// Recorder records every byte a relay reads from its peers. Set
// Config.Tap = rec.Tap before Start. It keeps everything in memory, so use it
// only for small test transfers.
type Recorder struct {
	mu   sync.Mutex
	all  bytes.Buffer
	dirs map[dirKey]*bytes.Buffer
}

type dirKey struct {
	slot     string
	fromHost bool
}

// Tap is a relay.Config.Tap hook.
func (r *Recorder) Tap(slot string, fromHost bool, data []byte) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.dirs == nil {
		r.dirs = make(map[dirKey]*bytes.Buffer)
	}
	k := dirKey{slot, fromHost}
	if r.dirs[k] == nil {
		r.dirs[k] = new(bytes.Buffer)
	}
	r.dirs[k].Write(data)
	r.all.Write(data)
}

// Bytes returns a copy of everything recorded, all slots and directions in
// arrival order.
func (r *Recorder) Bytes() []byte {
	r.mu.Lock()
	defer r.mu.Unlock()
	return bytes.Clone(r.all.Bytes())
}

// Stream returns a copy of what was relayed on slot in one direction.
func (r *Recorder) Stream(slot string, fromHost bool) []byte {
	r.mu.Lock()
	defer r.mu.Unlock()
	if b := r.dirs[dirKey{slot, fromHost}]; b != nil {
		return bytes.Clone(b.Bytes())
	}
	return nil
}

// Contains reports whether secret occurs in any single relayed direction
// stream (so a secret split across two messages is still found).
func (r *Recorder) Contains(secret []byte) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, b := range r.dirs {
		if bytes.Contains(b.Bytes(), secret) {
			return true
		}
	}
	return false
}
