package discovery

import (
	"context"
	"crypto/rand"
	"encoding/hex"
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
	server *zeroconf.Server
	log    *slog.Logger

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
	ips := svc.IPs
	if len(ips) == 0 {
		if ips, err = interfaceIPs(ifaces); err != nil {
			return nil, err
		}
	}
	ipStrs := make([]string, 0, len(ips))
	for _, ip := range ips {
		if ip.To16() == nil || ip.IsUnspecified() || ip.IsMulticast() {
			return nil, fmt.Errorf("%w: cannot advertise address %v", ErrInvalidService, ip)
		}
		ipStrs = append(ipStrs, ip.String())
	}
	host, err := randomHost(opts.Rand)
	if err != nil {
		return nil, err
	}
	server, err := zeroconf.RegisterProxy(svc.Instance, svc.Type, "local.", svc.Port, host, ipStrs, txt, ifaces,
		zeroconf.TTL(recordTTL))
	if err != nil {
		return nil, fmt.Errorf("failed to start the mDNS responder: %w", err)
	}
	a := &Advertisement{server: server, log: opts.logger(), stop: make(chan struct{})}
	a.log.Debug("mdns: advertising", "type", svc.Type, "instance", svc.Instance, "port", svc.Port,
		"interfaces", ifaceNames(ifaces), "addrs", ipStrs)
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
	a.server.Shutdown() // sends the goodbye, closes sockets, waits for its goroutines
	a.log.Debug("mdns: advertisement stopped")
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

func ifaceNames(ifaces []net.Interface) []string {
	names := make([]string, len(ifaces))
	for i, ifc := range ifaces {
		names[i] = ifc.Name
	}
	return names
}
