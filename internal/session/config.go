package session

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"
)

// Role says which side of the session this is.
type Role int

const (
	// Dialer is the side that connects: it picks the session id, sends the
	// Hello first on every transport and reconnects after a drop.
	Dialer Role = iota + 1
	// Acceptor is the side that accepted the connection: it answers Hellos and
	// waits for the dialer to come back after a drop.
	Acceptor
)

func (r Role) String() string {
	switch r {
	case Dialer:
		return "dialer"
	case Acceptor:
		return "acceptor"
	default:
		return fmt.Sprintf("role(%d)", int(r))
	}
}

// Config configures a Session. Zero fields take the defaults.
type Config struct {
	// Role is Dialer or Acceptor. Required.
	Role Role
	// Redial makes a new, authenticated transport to the same peer after the
	// current one dropped (dialer only). The session sends the resume Hello
	// itself. Redial must return when ctx ends (the session is closing or
	// ResumeTimeout passed). Nil means no reconnect: a drop fails the session.
	Redial func(ctx context.Context) (Transport, error)
	// HeartbeatInterval is how often a Ping is sent (default 2s).
	HeartbeatInterval time.Duration
	// DeadAfter: a transport that delivered no record for this long is
	// considered dead and dropped (default 6s).
	DeadAfter time.Duration
	// ResumeTimeout: how long after a drop the session waits for a new
	// transport before it fails (default 2 min).
	ResumeTimeout time.Duration
	// SendWindow bounds the bytes of sent records not yet acknowledged by
	// the peer (default 4 MiB). Send blocks while it is full.
	SendWindow int
	// RecvBuffer bounds the bytes received on one channel and not yet read
	// by the application (default 1 MiB). It is the flow-control credit the
	// peer gets per channel: a channel nobody reads stalls its sender, and
	// only it.
	RecvBuffer int
	// MaxChannels bounds the open channels (default 256).
	MaxChannels int
	// ReconnectMin and ReconnectMax bound the dialer's exponential backoff
	// between Redial attempts (defaults 100ms and 5s; jittered).
	ReconnectMin, ReconnectMax time.Duration
	// Logger receives debug and warning logs. Nil discards them.
	Logger *slog.Logger
}

// withDefaults validates c and fills in the defaults.
func (c Config) withDefaults() (Config, error) {
	if c.Role != Dialer && c.Role != Acceptor {
		return c, errors.New("session: Config.Role must be Dialer or Acceptor")
	}
	def := func(d *time.Duration, v time.Duration) {
		if *d == 0 {
			*d = v
		}
	}
	defInt := func(d *int, v int) {
		if *d == 0 {
			*d = v
		}
	}
	def(&c.HeartbeatInterval, DefaultHeartbeatInterval)
	def(&c.DeadAfter, DefaultDeadAfter)
	def(&c.ResumeTimeout, DefaultResumeTimeout)
	def(&c.ReconnectMin, DefaultReconnectMin)
	def(&c.ReconnectMax, DefaultReconnectMax)
	defInt(&c.SendWindow, DefaultSendWindow)
	defInt(&c.RecvBuffer, DefaultRecvBuffer)
	defInt(&c.MaxChannels, DefaultMaxChannels)
	switch {
	case c.HeartbeatInterval < 0 || c.DeadAfter < 0 || c.ResumeTimeout < 0 || c.ReconnectMin < 0 || c.ReconnectMax < 0:
		return c, errors.New("session: negative duration in Config")
	case c.DeadAfter <= c.HeartbeatInterval:
		return c, errors.New("session: Config.DeadAfter must exceed HeartbeatInterval")
	case c.ReconnectMax < c.ReconnectMin:
		return c, errors.New("session: Config.ReconnectMax is below ReconnectMin")
	case c.SendWindow < MaxRecord:
		return c, fmt.Errorf("session: Config.SendWindow must be at least %d", MaxRecord)
	case c.RecvBuffer < minRecvBuffer || c.RecvBuffer > maxRecvBuffer:
		return c, fmt.Errorf("session: Config.RecvBuffer must be in [%d, %d]", minRecvBuffer, maxRecvBuffer)
	case c.MaxChannels < 0:
		return c, errors.New("session: negative Config.MaxChannels")
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return c, nil
}
