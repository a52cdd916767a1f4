package discovery

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"sync"

	"github.com/libp2p/zeroconf/v2"
)

// Advertisement is a service being answered for on the LAN. Stop it with
// Close, or by cancelling the context given to Advertise.
type Advertisement struct {
	servers []*zeroconf.Server // one per interface, each with its own addresses
	log     *slog.Logger

	stopOnce sync.Once
	stop     chan struct{} // closed by Close
	wg       sync.WaitGroup
}

// Advertise starts answering mDNS queries for svc on the chosen interfaces
// (Options.Interfaces, else DefaultInterfaces) and announces it. It runs
// until ctx is done or Close is called; then it multicasts a goodbye (the
// records with TTL 0) so browsers forget it. The SRV record points to a
// random host name, never the machine's own.
//
// Errors: ErrInvalidService and ErrInvalidTXT (a *TXTError) for bad input,
// checked before any socket is opened; ErrNoInterfaces, ErrNoAddresses.
func Advertise(ctx context.Context, svc Service, opts Options) (*Advertisement, error) {
	txt, err := validateService(svc)
	if err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	ifaces, err := resolveInterfaces(opts)
	if err != nil {
		return nil, err
	}
	for _, ip := range svc.IPs {
		if ip.To16() == nil || ip.IsUnspecified() || ip.IsMulticast() {
			return nil, fmt.Errorf("%w: cannot advertise address %v", ErrInvalidService, ip)
		}
	}
	host, err := randomHost(opts.Rand)
	if err != nil {
		return nil, err
	}
	a := &Advertisement{log: opts.logger(), stop: make(chan struct{})}
	// One responder per interface, announcing that interface's own
	// addresses: a single responder would send every interface's addresses
	// (a VPN's, a container bridge's) on each link.
	for _, ifc := range ifaces {
		ips := svc.IPs
		if len(ips) == 0 {
			if ips, err = interfaceIPs([]net.Interface{ifc}); errors.Is(err, ErrNoAddresses) {
				continue
			} else if err != nil {
				a.shutdown()
				return nil, err
			}
		}
		ipStrs := make([]string, 0, len(ips))
		for _, ip := range ips {
			ipStrs = append(ipStrs, ip.String())
		}
		server, err := zeroconf.RegisterProxy(svc.Instance, svc.Type, "local.", svc.Port, host, ipStrs, txt,
			[]net.Interface{ifc}, zeroconf.TTL(recordTTL))
		if err != nil {
			a.shutdown()
			return nil, fmt.Errorf("failed to start the mDNS responder on %s: %w", ifc.Name, err)
		}
		a.servers = append(a.servers, server)
		a.log.Debug("mdns: advertising", "type", svc.Type, "instance", svc.Instance, "port", svc.Port,
			"interface", ifc.Name, "addrs", ipStrs)
	}
	if len(a.servers) == 0 {
		return nil, ErrNoAddresses
	}
	a.wg.Add(1)
	go a.run(ctx)
	return a, nil
}

// run shuts the responder down when ctx is done or Close is called.
func (a *Advertisement) run(ctx context.Context) {
	defer a.wg.Done()
	select {
	case <-ctx.Done():
	case <-a.stop:
	}
	a.shutdown()
	a.log.Debug("mdns: advertisement stopped")
}

// shutdown stops every responder: each sends its goodbye, closes its sockets
// and waits for its goroutines.
func (a *Advertisement) shutdown() {
	for _, s := range a.servers {
		s.Shutdown()
	}
}

// Close stops answering, sends the goodbye and waits until the responder's
// goroutines and sockets are gone. It is idempotent and always returns nil.
func (a *Advertisement) Close() error {
	a.stopOnce.Do(func() { close(a.stop) })
	a.wg.Wait()
	return nil
}

// randomHost returns "cairn-<16 hex>", the host name in the SRV record.
func randomHost(r io.Reader) (string, error) {
	if r == nil {
		r = rand.Reader
	}
	var b [hostLabelBytes]byte
	if _, err := io.ReadFull(r, b[:]); err != nil {
		return "", fmt.Errorf("failed to read random bytes: %w", err)
	}
	return "cairn-" + hex.EncodeToString(b[:]), nil
}
