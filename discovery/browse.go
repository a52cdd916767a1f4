package discovery

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"slices"

	"github.com/libp2p/zeroconf/v2"
)

// Browse looks for instances of serviceType (e.g. PairServiceType) on the
// chosen interfaces (Options.Interfaces, else DefaultInterfaces) and calls
// found, from the calling goroutine, once for each new instance that has a
// port, at least one address and a valid TXT record. Instances with an
// invalid TXT record are skipped.
//
// Queries are multicast at once, then with exponential backoff (about 4 s,
// growing to at most 60 s apart). Browse returns nil as soon as found returns
// false, or ctx.Err() when ctx is done; it never runs longer than
// MaxBrowseDuration (then it returns context.DeadlineExceeded). At most
// maxEntries (256) distinct instances are reported per call.
//
// Each call queries afresh: nothing is cached between calls, so an instance
// that has stopped advertising is not reported by a later Browse.
func Browse(ctx context.Context, serviceType string, opts Options, found func(Entry) bool) error {
	if err := validateServiceType(serviceType); err != nil {
		return err
	}
	if found == nil {
		return errors.New("discovery: Browse needs a found function")
	}
	ifaces, err := resolveInterfaces(opts)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, MaxBrowseDuration)
	defer cancel()
	b := &browser{
		ifaces: ifaces,
		found:  found,
		log:    opts.logger(),
		seen:   make(map[string]bool),
	}
	if len(ifaces) == 1 {
		b.zone = ifaces[0].Name
	}
	b.loopback = !slices.ContainsFunc(ifaces, func(i net.Interface) bool { return i.Flags&net.FlagLoopback == 0 })
	// The library fails to start unless it can join the group in every
	// address family it was asked for; fall back to one family.
	var errs []error
	for _, ipType := range []zeroconf.IPType{zeroconf.IPv4AndIPv6, zeroconf.IPv4, zeroconf.IPv6} {
		stopped, err := b.run(ctx, serviceType, ipType)
		switch {
		case stopped:
			return nil
		case err == nil:
			return ctx.Err()
		case ctx.Err() != nil:
			return ctx.Err()
		}
		b.log.Debug("mdns: browse could not start", "family", ipType, "err", err)
		errs = append(errs, err)
	}
	return fmt.Errorf("failed to start the mDNS browser: %w", errors.Join(errs...))
}

// browser holds the state of one Browse call.
type browser struct {
	ifaces []net.Interface
	zone   string
	// loopback: every interface browsed is a loopback one, so loopback
	// addresses are genuine; from a LAN they would point a dialer at a
	// service of its own machine.
	loopback bool
	found    func(Entry) bool
	log      *slog.Logger
	seen     map[string]bool // instance names reported, at most maxEntries
}

// run browses until found returns false (stopped), ctx is done (nil), or the
// library fails to start (its error).
func (b *browser) run(ctx context.Context, serviceType string, ipType zeroconf.IPType) (stopped bool, err error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	// Unbuffered: the library sends each entry and blocks until we take it,
	// so the loop below keeps receiving until zeroconf.Browse has returned.
	entries := make(chan *zeroconf.ServiceEntry)
	errc := make(chan error, 1)
	go func() {
		errc <- zeroconf.Browse(ctx, serviceType, "local.", entries,
			zeroconf.SelectIfaces(b.ifaces), zeroconf.SelectIPTraffic(ipType))
	}()
	for {
		select {
		case err := <-errc:
			return stopped, err
		case e, ok := <-entries:
			if !ok {
				entries = nil // closed by the library on shutdown; wait for errc
				continue
			}
			if stopped || ctx.Err() != nil {
				continue // draining
			}
			if entry, ok := b.convert(e); ok && !b.found(entry) {
				stopped = true
				cancel()
			}
		}
	}
}

// convert checks and converts a library entry, and deduplicates it by
// instance name.
func (b *browser) convert(e *zeroconf.ServiceEntry) (Entry, bool) {
	if e == nil || e.Instance == "" || e.Port < 1 || e.Port > 65535 {
		return Entry{}, false
	}
	if b.seen[e.Instance] {
		return Entry{}, false
	}
	text, err := decodeTXTRecord(e.Text)
	if err != nil {
		b.log.Debug("mdns: skipping instance with a bad TXT record", "instance", e.Instance, "err", err)
		return Entry{}, false
	}
	addrs := entryAddrs(append(append([]net.IP(nil), e.AddrIPv4...), e.AddrIPv6...), e.Port, b.zone, b.loopback)
	if len(addrs) == 0 {
		return Entry{}, false
	}
	if len(b.seen) >= maxEntries {
		b.log.Warn("mdns: too many instances, dropping", "instance", e.Instance, "max", maxEntries)
		return Entry{}, false
	}
	b.seen[e.Instance] = true
	return Entry{Instance: e.Instance, Addrs: addrs, Text: text}, true
}
