package cairn

import (
	"fmt"
	"io"
	"log/slog"
	"net"
	"time"
)

// Defaults of a Node's options.
const (
	// DefaultPairingTTL is how long pairing material (PIN, QR code, link) stays valid.
	DefaultPairingTTL = 5 * time.Minute
	// MaxPairingFailures is how many wrong guesses a PIN survives.
	MaxPairingFailures = 5
	// DefaultListenAddr accepts direct connections on every interface, on a
	// port the system picks.
	DefaultListenAddr = ":0"
)

// Option configures a Node.
type Option func(*config) error

type config struct {
	dataDir     string
	passphrase  []byte
	listenAddr  string
	relayURL    string
	logger      *slog.Logger
	name        string
	pairingTTL  time.Duration
	mdns        bool
	mdnsIfaces  []net.Interface
	rand        io.Reader
	heartbeat   time.Duration
	deadAfter   time.Duration
	resumeAfter time.Duration
	// persistSessions: Close saves the live sessions, New restores them.
	persistSessions bool
}

func defaultConfig() config {
	return config{
		listenAddr: DefaultListenAddr,
		pairingTTL: DefaultPairingTTL,
		mdns:       true,
		logger:     slog.New(slog.DiscardHandler),
	}
}

// WithDataDir sets the directory holding the identity and the trust store.
// It is required.
func WithDataDir(dir string) Option {
	return func(c *config) error {
		if dir == "" {
			return fmt.Errorf("empty data directory")
		}
		c.dataDir = dir
		return nil
	}
}

// WithPassphrase seals the identity key with a passphrase (argon2id).
func WithPassphrase(p []byte) Option {
	return func(c *config) error { c.passphrase = append([]byte(nil), p...); return nil }
}

// WithListenAddr sets the TCP address for direct connections from peers,
// e.g. "127.0.0.1:0" to stay on loopback. The default is ":0".
func WithListenAddr(addr string) Option {
	return func(c *config) error { c.listenAddr = addr; return nil }
}

// WithRelay sets the URL of a cairn relay (http:// or https://) used to pair
// and connect across networks.
func WithRelay(url string) Option {
	return func(c *config) error { c.relayURL = url; return nil }
}

// WithLogger sets the logger. The default discards everything.
func WithLogger(l *slog.Logger) Option {
	return func(c *config) error {
		if l != nil {
			c.logger = l
		}
		return nil
	}
}

// WithName sets the display name this node sends when it pairs.
func WithName(name string) Option {
	return func(c *config) error { c.name = name; return nil }
}

// WithPairingTTL sets how long a PIN, QR code or link stays valid.
func WithPairingTTL(d time.Duration) Option {
	return func(c *config) error {
		if d <= 0 {
			return fmt.Errorf("pairing TTL must be positive, got %v", d)
		}
		c.pairingTTL = d
		return nil
	}
}

// WithMDNS turns LAN discovery on or off (on by default).
func WithMDNS(enabled bool) Option {
	return func(c *config) error { c.mdns = enabled; return nil }
}

// WithMDNSInterfaces restricts LAN discovery to the given interfaces.
func WithMDNSInterfaces(ifaces ...net.Interface) Option {
	return func(c *config) error { c.mdnsIfaces = ifaces; return nil }
}

// WithHeartbeat sets how often an idle session pings its peer and after how
// long without any record the connection is declared dead and replaced.
func WithHeartbeat(interval, deadAfter time.Duration) Option {
	return func(c *config) error {
		if interval <= 0 || deadAfter <= interval {
			return fmt.Errorf("heartbeat: need 0 < interval < deadAfter")
		}
		c.heartbeat, c.deadAfter = interval, deadAfter
		return nil
	}
}

// WithResumeTimeout sets how long a session tries to reconnect before it
// fails the messages it still holds.
func WithResumeTimeout(d time.Duration) Option {
	return func(c *config) error { c.resumeAfter = d; return nil }
}

// WithRand replaces crypto/rand, for deterministic tests only.
func WithRand(r io.Reader) Option {
	return func(c *config) error { c.rand = r; return nil }
}

// WithSessionPersistence makes sessions survive a restart of the node. On
// Close, every live session is suspended without telling the peer (which sees
// a dropped connection and waits for the resume) and its state is stored in
// the data directory: the records the peer has not acknowledged and, per
// open channel, the data received but not yet read. New then restores them:
// a restored session comes from Accept with Restored true, its open channels
// come back from AcceptChannel (also the ones this side opened), the dialing
// side reconnects at once, and every message Send accepted before the
// restart is delivered exactly once.
//
// Close lets a message Send in progress finish queueing (for at most 5 s);
// later Sends fail. Only a graceful Close saves sessions: after a crash or kill -9 nothing is
// saved, and the peer's session fails after its resume timeout
// (WithResumeTimeout). The restart must also happen within the peer's resume
// timeout. A session whose peer was unpaired meanwhile is dropped. The saved
// state holds message data, with the same file protection as the keys.
func WithSessionPersistence(enabled bool) Option {
	return func(c *config) error { c.persistSessions = enabled; return nil }
}
