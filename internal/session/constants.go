package session

import "time"

// Wire limits. They are part of the protocol: both peers must agree on them.
const (
	// Version is the session protocol version carried in Hello and Welcome.
	Version = 1
	// MaxPayload is the most channel data one Data record carries.
	MaxPayload = 64 << 10
	// MaxRecord bounds the plaintext of every session record: MaxPayload plus
	// a small header. A Transport must carry records of this size.
	MaxRecord = MaxPayload + 64
	// MaxMessage is the largest message Channel.Send accepts and
	// Channel.Receive returns. Messages are split into Data records of at
	// most MaxPayload bytes and reassembled by the receiver.
	MaxMessage = 1 << 20
	// MaxChannelName is the longest channel name, in bytes.
	MaxChannelName = 255
	// MaxBadRecords is how many bad records (malformed, for an unknown
	// channel, beyond the flow-control credit, ...) a session tolerates from
	// its peer. The next one fails the session with ErrProtocol.
	MaxBadRecords = 100
	// DataCost is what each Data record costs in flow-control credit on top
	// of its payload bytes, so that a flood of tiny records cannot make the
	// receiver hold more than its window in per-record overhead.
	DataCost = 64
	// MaxCloseReason is the longest reason text in a Close record.
	MaxCloseReason = 255
)

// Defaults for the Config fields left zero.
const (
	DefaultHeartbeatInterval = 2 * time.Second
	DefaultDeadAfter         = 6 * time.Second
	DefaultResumeTimeout     = 2 * time.Minute
	DefaultSendWindow        = 4 << 20
	DefaultRecvBuffer        = 1 << 20
	DefaultMaxChannels       = 256
	DefaultReconnectMin      = 100 * time.Millisecond
	DefaultReconnectMax      = 5 * time.Second
)

// Implementation limits: not visible on the wire, free to change.
const (
	// ackEvery: a receiver acknowledges at the latest after this many
	// sequenced records ...
	ackEvery = 16
	// ackDelay: ... or this long after the first unacknowledged one.
	ackDelay = 20 * time.Millisecond
	// maxCtrlQueue bounds the control records (Ping, Pong) waiting for the
	// writer of one transport; past it new ones are dropped (a peer flooding
	// Pings gets fewer Pongs).
	maxCtrlQueue = 64
	// eventBuffer bounds the session's event queue; past it the oldest event
	// is dropped and counted.
	eventBuffer = 64
	// closeLinger bounds how long Close waits for the Close record to leave.
	closeLinger = time.Second
	// minRecvBuffer and maxRecvBuffer bound Config.RecvBuffer (the window is
	// a uint32 on the wire).
	minRecvBuffer = 4 << 10
	maxRecvBuffer = 1 << 30
	// maxPendingRefusals bounds the channel refusals the peer has not yet
	// acknowledged; one more fails the session.
	maxPendingRefusals = 256
	// minChunk: a sender waits for window room rather than send a Data
	// record smaller than this (unless the data itself is smaller).
	minChunk = 4 << 10
)
