package relay

import (
	"time"

	"github.com/coder/websocket"
)

// Protocol constants. They are part of the wire protocol (docs/PROTOCOL.md (section 10))
// and change only with a new path version.
const (
	// SlotPath is the path prefix of the slot endpoint: GET SlotPath+{slot}?mode=host|join.
	SlotPath = "/v1/slot/"
	// HealthPath answers 200 "ok" while the server runs.
	HealthPath = "/healthz"
	// MetricsPath serves Prometheus text exposition.
	MetricsPath = "/metrics"

	// ModeHost reserves a slot and waits for a joiner.
	ModeHost = "host"
	// ModeJoin pairs with the host waiting on a slot.
	ModeJoin = "join"

	// MaxSlotLen is the longest valid slot name, in bytes.
	MaxSlotLen = 128
)

// WebSocket close codes the relay sends. Codes 1000 and 1001 read as io.EOF on
// a [net.Conn] returned by [Host] or [Join]; the others surface as errors whose
// code [websocket.CloseStatus] reports.
const (
	// CloseNormal: the other peer closed its side normally.
	CloseNormal = websocket.StatusNormalClosure
	// CloseGoingAway: the relay is shutting down.
	CloseGoingAway = websocket.StatusGoingAway
	// ClosePolicy: a peer sent a text message (only binary messages are relayed).
	ClosePolicy = websocket.StatusPolicyViolation
	// CloseTooBig: a peer sent a message larger than the relay's limit.
	CloseTooBig = websocket.StatusMessageTooBig
	// CloseIdle: a piped pair carried no data for the idle timeout, or a
	// waiting host sent nothing at all (not even a ping) for that long.
	CloseIdle websocket.StatusCode = 4000
	// ClosePeerLost: the other peer's connection failed or broke a rule.
	ClosePeerLost websocket.StatusCode = 4001
	// CloseWaitExpired: a host waited the maximum time without a joiner.
	CloseWaitExpired websocket.StatusCode = 4002
	// CloseNoHost: the host disappeared between a joiner's upgrade and its
	// pairing (a narrow race; treat like [ErrNoSuchSlot]).
	CloseNoHost websocket.StatusCode = 4004
)

// Server defaults, used for zero fields of [Config].
const (
	DefaultMaxWaitingSlots   = 10000
	DefaultMaxConnsPerIP     = 64
	DefaultMaxConns          = 50000
	DefaultLookupRate        = 20.0 // slot requests per second per source IP
	DefaultLookupBurst       = 40
	DefaultMaxMessageSize    = 1 << 20
	DefaultIdleTimeout       = 2 * time.Minute
	DefaultMaxHostWait       = 10 * time.Minute
	DefaultReadHeaderTimeout = 10 * time.Second
	DefaultShutdownTimeout   = 5 * time.Second
	DefaultCloseGrace        = time.Second
	// DefaultMaxLimiterEntries bounds the per-IP rate limiter table. When it
	// is full, entries whose bucket has refilled are dropped; if none has,
	// requests from new source IPs are refused with 429 until one has.
	DefaultMaxLimiterEntries = 65536
)

// Client defaults.
const (
	// DefaultPingInterval is how often a waiting host pings the relay. It must
	// stay well below the server's idle timeout.
	DefaultPingInterval = 30 * time.Second
	// DefaultClientMaxWait bounds how long a host keeps pinging while no data
	// has arrived; it matches the server's DefaultMaxHostWait.
	DefaultClientMaxWait = DefaultMaxHostWait
	// DefaultWriteChunk is the largest WebSocket message the client sends;
	// longer writes are split (the byte stream is unchanged).
	DefaultWriteChunk = 64 << 10

	pingTimeout = 10 * time.Second
)

// Implementation constants.
const (
	copyBufSize     = 32 << 10
	limiterSweepGap = time.Second
)
