package discovery

import (
	"io"
	"log/slog"
	"net"
)

// Options configures Advertise and Browse. The zero value is usable.
type Options struct {
	// Interfaces restricts mDNS to these interfaces; each must be up and
	// multicast-capable. If empty, DefaultInterfaces is used (up,
	// multicast, not loopback).
	Interfaces []net.Interface
	// Logger receives debug and warning messages; nil discards them.
	// Values of TXT records are never logged.
	Logger *slog.Logger
	// Rand is the source of the random host name Advertise puts in its
	// SRV record; nil means crypto/rand.
	Rand io.Reader
}

func (o Options) logger() *slog.Logger {
	if o.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return o.Logger
}
