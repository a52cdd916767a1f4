package relay

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"
)

// Option configures [Host] and [Join].
type Option func(*clientOptions)

type clientOptions struct {
	httpClient   *http.Client
	pingInterval time.Duration
	maxWait      time.Duration
	writeChunk   int
}

// WithHTTPClient makes the client dial through hc (for a custom TLS config
// or proxy). The default is a client on a clone of http.DefaultTransport
// with keep-alives off.
func WithHTTPClient(hc *http.Client) Option {
	return func(o *clientOptions) { o.httpClient = hc }
}

// WithKeepalive sets how often a waiting host pings the relay (default
// [DefaultPingInterval]; a negative interval disables pings) and for how long
// at most it does so while no data has arrived (default
// [DefaultClientMaxWait]). A relay drops a waiting host that sends nothing
// for its idle timeout, so a host that disables pings must expect that.
func WithKeepalive(interval, maxWait time.Duration) Option {
	return func(o *clientOptions) {
		o.pingInterval = interval
		if maxWait > 0 {
			o.maxWait = maxWait
		}
	}
}

// WithWriteChunk sets the largest WebSocket message the conn sends (default
// [DefaultWriteChunk]); keep it at or below the relay's MaxMessageSize.
func WithWriteChunk(n int) Option {
	return func(o *clientOptions) {
		if n > 0 {
			o.writeChunk = n
		}
	}
}

// Host reserves slot on the relay at relayURL (http, https, ws or wss, with
// an optional path prefix) and returns once the slot is reserved. Reads on the
// returned conn block until the joiner sends; data written before a joiner
// comes is held back by the relay (flow control) and delivered on pairing.
// While no data has arrived the conn pings the relay (see [WithKeepalive]).
//
// ctx bounds only the connection setup, as with net.Dialer.DialContext; the
// conn lives until Close, which also ends its goroutines. When the joiner
// closes, Read returns io.EOF; when the relay ends the pair for another
// reason, Read returns an error carrying the close code (Close* constants,
// see [websocket.CloseStatus]).
//
// Errors: [ErrSlotTaken], [ErrRateLimited], [ErrRelayUnavailable] (with the
// cause), [ErrBadRequest] for an invalid slot or URL, a [*StatusError] for any
// HTTP answer, or ctx's error.
func Host(ctx context.Context, relayURL, slot string, opts ...Option) (net.Conn, error) {
	return dial(ctx, relayURL, slot, ModeHost, opts)
}

// Join pairs with the host waiting on slot at relayURL and returns the piped
// conn. It fails with [ErrNoSuchSlot] if no host is waiting; other errors and
// the conn's lifetime are as for [Host].
func Join(ctx context.Context, relayURL, slot string, opts ...Option) (net.Conn, error) {
	return dial(ctx, relayURL, slot, ModeJoin, opts)
}

func dial(ctx context.Context, relayURL, slot, mode string, opts []Option) (net.Conn, error) {
	o := clientOptions{pingInterval: DefaultPingInterval, maxWait: DefaultClientMaxWait, writeChunk: DefaultWriteChunk}
	for _, opt := range opts {
		opt(&o)
	}
	u, err := slotURL(relayURL, slot, mode)
	if err != nil {
		return nil, err
	}
	hc := o.httpClient
	if hc == nil {
		// A clone of the default transport without keep-alives (a
		// WebSocket takes its connection over anyway); a program that
		// replaced http.DefaultTransport with another RoundTripper gets a
		// fresh one.
		tr, ok := http.DefaultTransport.(*http.Transport)
		if ok {
			tr = tr.Clone()
		} else {
			tr = &http.Transport{Proxy: http.ProxyFromEnvironment}
		}
		tr.DisableKeepAlives = true
		hc = &http.Client{Transport: tr}
		defer tr.CloseIdleConnections()
	}
	ws, resp, err := websocket.Dial(ctx, u, &websocket.DialOptions{
		HTTPClient:      hc,
		CompressionMode: websocket.CompressionDisabled,
	})
	host := relayHost(relayURL)
	if err != nil {
		if resp != nil && resp.StatusCode != http.StatusSwitchingProtocols {
			return nil, fmt.Errorf("relay: failed to %s slot: %w", mode, &StatusError{StatusCode: resp.StatusCode})
		}
		if ctx.Err() != nil {
			return nil, fmt.Errorf("relay: failed to connect to %s: %w: %w", host, ctx.Err(), err)
		}
		return nil, fmt.Errorf("relay: failed to connect to %s: %w: %w", host, ErrRelayUnavailable, err)
	}
	return newConn(ws, relayAddr(host), mode == ModeHost, o), nil
}

func relayHost(relayURL string) string {
	u, err := url.Parse(relayURL)
	if err != nil {
		return "relay"
	}
	return u.Host
}

// relayAddr is the RemoteAddr of a relayed conn: the relay's host:port.
type relayAddr string

func (a relayAddr) Network() string { return "cairn-relay" }
func (a relayAddr) String() string  { return string(a) }

// conn is the net.Conn returned by Host and Join: websocket.NetConn with
// binary messages, plus write chunking, the waiting host's keepalive and a
// Close that ends everything.
type conn struct {
	net.Conn
	ws     *websocket.Conn
	remote net.Addr
	chunk  int
	cancel context.CancelFunc

	readDeadline  atomic.Int64 // unix nanos; 0 = none
	writeDeadline atomic.Int64

	gotData     chan struct{} // closed on the first data read
	gotDataOnce sync.Once
	wg          sync.WaitGroup
	closeOnce   sync.Once
	closeErr    error
}

var _ net.Conn = (*conn)(nil)

func newConn(ws *websocket.Conn, remote net.Addr, keepalive bool, o clientOptions) *conn {
	ctx, cancel := context.WithCancel(context.Background())
	c := &conn{
		Conn:    websocket.NetConn(ctx, ws, websocket.MessageBinary),
		ws:      ws,
		remote:  remote,
		chunk:   o.writeChunk,
		cancel:  cancel,
		gotData: make(chan struct{}),
	}
	if keepalive && o.pingInterval > 0 {
		c.wg.Go(func() { c.keepalive(ctx, o.pingInterval, o.maxWait) })
	}
	return c
}

// keepalive pings the relay every interval until data arrives, the conn
// closes or maxWait passes: at most maxWait/interval pings. A pong is only
// read while someone reads the conn, so a missing pong is not an error.
func (c *conn) keepalive(ctx context.Context, interval, maxWait time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	deadline := time.NewTimer(maxWait)
	defer deadline.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-c.gotData:
			return
		case <-deadline.C:
			return
		case <-t.C:
		}
		pctx, cancel := context.WithTimeout(ctx, min(interval, pingTimeout))
		err := c.ws.Ping(pctx)
		cancel()
		if err != nil && !errors.Is(err, context.DeadlineExceeded) {
			return // closed
		}
	}
}

// Read reads relayed bytes.
func (c *conn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	if n > 0 {
		c.gotDataOnce.Do(func() { close(c.gotData) })
	}
	return n, timeoutErr(err, &c.readDeadline)
}

// SetDeadline sets both deadlines. As with websocket.NetConn, a deadline that
// passes during a Read or Write closes the whole conn.
func (c *conn) SetDeadline(t time.Time) error {
	_ = c.SetReadDeadline(t)
	return c.SetWriteDeadline(t)
}

// SetReadDeadline sets the read deadline (see SetDeadline).
func (c *conn) SetReadDeadline(t time.Time) error {
	c.readDeadline.Store(unixNano(t))
	return c.Conn.SetReadDeadline(t)
}

// SetWriteDeadline sets the write deadline (see SetDeadline).
func (c *conn) SetWriteDeadline(t time.Time) error {
	c.writeDeadline.Store(unixNano(t))
	return c.Conn.SetWriteDeadline(t)
}

func unixNano(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

// timeoutErr turns an error caused by a passed deadline into one that
// satisfies errors.Is(err, os.ErrDeadlineExceeded) and net.Error.Timeout, as
// TCP conns do.
func timeoutErr(err error, deadline *atomic.Int64) error {
	if err == nil || errors.Is(err, io.EOF) {
		return err
	}
	if d := deadline.Load(); d != 0 && time.Now().UnixNano() >= d {
		return &timeoutError{err: err}
	}
	return err
}

type timeoutError struct{ err error }

func (e *timeoutError) Error() string   { return "relay: i/o timeout: " + e.err.Error() }
func (e *timeoutError) Timeout() bool   { return true }
func (e *timeoutError) Temporary() bool { return true }
func (e *timeoutError) Unwrap() []error { return []error{os.ErrDeadlineExceeded, e.err} }

var _ net.Error = (*timeoutError)(nil)

// Write sends p, split into messages of at most the write chunk size.
func (c *conn) Write(p []byte) (int, error) {
	var n int
	for len(p) > 0 {
		k := min(len(p), c.chunk)
		m, err := c.Conn.Write(p[:k])
		n += m
		if err != nil {
			return n, timeoutErr(err, &c.writeDeadline)
		}
		p = p[k:]
	}
	return n, nil
}

// RemoteAddr returns the relay's address.
func (c *conn) RemoteAddr() net.Addr { return c.remote }

// Close closes the WebSocket (close code 1000, which the peer reads as
// io.EOF) and waits for the conn's goroutines. It is idempotent.
func (c *conn) Close() error {
	c.closeOnce.Do(func() {
		err := c.Conn.Close()
		c.cancel()
		c.wg.Wait()
		if err != nil && !errors.Is(err, net.ErrClosed) {
			c.closeErr = fmt.Errorf("relay: failed to close: %w", err)
		}
	})
	return c.closeErr
}
