package relay

import (
	"fmt"
	"log/slog"
	"time"
)

// Config configures a [Server]. The zero value is usable: every zero field
// takes the matching Default constant. Negative values are an error.
type Config struct {
	// MaxWaitingSlots bounds the hosts waiting at once; beyond it a host
	// gets 503 (the client's ErrRelayUnavailable).
	MaxWaitingSlots int
	// MaxConnsPerIP bounds concurrent slot connections (waiting, piped or
	// upgrading) per source IP (IPv6 per /64); beyond it 429.
	MaxConnsPerIP int
	// MaxConns bounds concurrent slot connections in all, whatever their
	// source (many addresses can each stay under MaxConnsPerIP); beyond it
	// 503 (the client's ErrRelayUnavailable).
	MaxConns int
	// LookupRate and LookupBurst define the per-source-IP token bucket that
	// every slot request (host or join) draws from; when empty, 429.
	LookupRate  float64
	LookupBurst int
	// MaxLimiterEntries bounds the rate limiter's table of source IPs.
	MaxLimiterEntries int
	// MaxMessageSize is the largest WebSocket message accepted from a peer
	// (SetReadLimit); a larger one closes the sender with 1009 and its peer
	// with ClosePeerLost.
	MaxMessageSize int64
	// IdleTimeout closes a piped pair after this long with no data either
	// way, and drops a waiting host that has sent nothing, not even a
	// WebSocket ping, for this long. Both get CloseIdle.
	IdleTimeout time.Duration
	// MaxHostWait is the longest a host may wait for a joiner, pings or not;
	// then it gets CloseWaitExpired and may host again.
	MaxHostWait time.Duration
	// ReadHeaderTimeout bounds, in Serve, reading a request (headers and
	// body), writing a plain HTTP response, and a kept-alive connection's
	// wait for its next request (http.Server's ReadHeaderTimeout,
	// ReadTimeout, WriteTimeout, IdleTimeout). A server of your own that
	// mounts Handler should set the same.
	ReadHeaderTimeout time.Duration
	// ShutdownTimeout bounds the graceful part of Serve's shutdown.
	ShutdownTimeout time.Duration
	// CloseGrace is how long the relay waits for a peer to answer its
	// WebSocket close frame before dropping the TCP connection.
	CloseGrace time.Duration

	// Logger receives modest logs (source IP, reason, counts; slot names
	// only at debug level). Nil discards.
	Logger *slog.Logger

	// Tap, if set, is called with every chunk of relayed data the server
	// read, in order per direction; fromHost tells the direction. data is
	// only valid during the call. Tap runs on the relaying goroutine, so it
	// must be fast. Meant for tests that check what a relay can observe.
	Tap func(slot string, fromHost bool, data []byte)
}

func (c Config) withDefaults() (Config, error) {
	if c.MaxWaitingSlots < 0 || c.MaxConnsPerIP < 0 || c.MaxConns < 0 || c.LookupRate < 0 || c.LookupBurst < 0 ||
		c.MaxLimiterEntries < 0 || c.MaxMessageSize < 0 || c.IdleTimeout < 0 || c.MaxHostWait < 0 ||
		c.ReadHeaderTimeout < 0 || c.ShutdownTimeout < 0 || c.CloseGrace < 0 {
		return c, fmt.Errorf("relay: invalid config: negative limit")
	}
	setDefault(&c.MaxWaitingSlots, DefaultMaxWaitingSlots)
	setDefault(&c.MaxConnsPerIP, DefaultMaxConnsPerIP)
	setDefault(&c.MaxConns, DefaultMaxConns)
	setDefault(&c.LookupRate, DefaultLookupRate)
	setDefault(&c.LookupBurst, DefaultLookupBurst)
	setDefault(&c.MaxLimiterEntries, DefaultMaxLimiterEntries)
	setDefault(&c.MaxMessageSize, DefaultMaxMessageSize)
	setDefault(&c.IdleTimeout, DefaultIdleTimeout)
	setDefault(&c.MaxHostWait, DefaultMaxHostWait)
	setDefault(&c.ReadHeaderTimeout, DefaultReadHeaderTimeout)
	setDefault(&c.ShutdownTimeout, DefaultShutdownTimeout)
	setDefault(&c.CloseGrace, DefaultCloseGrace)
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return c, nil
}

func setDefault[T comparable](p *T, def T) {
	var zero T
	if *p == zero {
		*p = def
	}
}
