package cairn

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"sync"
	"time"

	"github.com/cairn-dev/cairn/discovery"
	"github.com/cairn-dev/cairn/internal/frame"
	"github.com/cairn-dev/cairn/internal/wire"
	"github.com/cairn-dev/cairn/relay"
)

// mDNS service types: one for pending pairings, one for paired peers.
const (
	pairService    = "_cairn-pair._tcp"
	sessionService = "_cairn._tcp"
)

const (
	// directDialTimeout bounds one TCP connection attempt to a peer.
	directDialTimeout = 3 * time.Second
	// relayHeadStart delays the relay path so a LAN path, when there is one,
	// wins the race (happy eyeballs, preferring direct).
	relayHeadStart = 300 * time.Millisecond
	// joinRetry and joinWindow: between two attempts an initiator re-hosts its
	// slot, so a join that finds no host is retried for a short while.
	joinRetry  = 250 * time.Millisecond
	joinWindow = 4 * time.Second
	// findTimeout bounds the search for a peer when ctx has no deadline.
	findTimeout = 20 * time.Second
	// rehostBackoffMax caps the wait between attempts to re-host a slot.
	rehostBackoffMax = 5 * time.Second
)

var errSlotTaken = errors.New("pairing slot taken")

// dialHints are connection hints from a QR code or link.
type dialHints struct {
	addrs    []string
	relayURL string
}

// directAddrs lists the listener's addresses for QR codes and links.
func (n *Node) directAddrs() []string {
	port := n.ln.Addr().(*net.TCPAddr).Port
	host := n.ln.Addr().(*net.TCPAddr).IP
	if !host.IsUnspecified() {
		return []string{net.JoinHostPort(host.String(), strconv.Itoa(port))}
	}
	ifaddrs, err := net.InterfaceAddrs()
	if err != nil {
		return nil
	}
	const maxAddrs = 4
	var out []string
	for _, a := range ifaddrs {
		ipn, ok := a.(*net.IPNet)
		if !ok || ipn.IP.IsLoopback() || ipn.IP.IsLinkLocalUnicast() {
			continue
		}
		out = append(out, net.JoinHostPort(ipn.IP.String(), strconv.Itoa(port)))
		if len(out) == maxAddrs {
			break
		}
	}
	return out
}

func (n *Node) mdnsOptions() discovery.Options {
	return discovery.Options{Interfaces: n.cfg.mdnsIfaces, Logger: n.log}
}

// startReachability makes a pending pairing findable: hosted at the relay
// and advertised on the LAN. Direct TCP needs nothing: the listener routes by
// slot.
func (in *initiator) startReachability(ctx context.Context) error {
	n := in.n
	isPIN := len(in.slot) > len(pinSlotPrefix) && in.slot[:len(pinSlotPrefix)] == pinSlotPrefix
	if isPIN && n.cfg.relayURL == "" && !n.cfg.mdns {
		return ErrNoTransport
	}
	if n.cfg.relayURL != "" {
		conn, err := relay.Host(ctx, n.cfg.relayURL, in.slot)
		if errors.Is(err, relay.ErrSlotTaken) {
			return errSlotTaken
		}
		if err != nil {
			return fmt.Errorf("failed to register the pairing at the relay: %w", err)
		}
		if !n.goRun(func() { n.hostLoop(in.ctx, in.slot, conn, in.serveRelay) }) {
			conn.Close()
			return ErrClosed
		}
	}
	if n.cfg.mdns {
		instance, err := discovery.NewInstanceName(n.cfg.rand)
		if err != nil {
			return err
		}
		adv, err := discovery.Advertise(in.ctx, discovery.Service{
			Type:     pairService,
			Instance: instance,
			Port:     n.ln.Addr().(*net.TCPAddr).Port,
			Text:     map[string]string{"s": in.slot},
		}, n.mdnsOptions())
		if err != nil {
			if n.cfg.relayURL == "" && isPIN {
				return fmt.Errorf("failed to advertise on the LAN: %w", err)
			}
			n.log.Warn("LAN advertising failed; relying on the relay", "err", err)
		} else if !n.goRun(func() {
			<-in.ctx.Done()
			adv.Close()
		}) {
			adv.Close()
			return ErrClosed
		}
	}
	return nil
}

// hostLoop keeps slot hosted at the relay until ctx ends: it waits, as long
// as it takes, for a joiner's first frame, hands the connection to serve
// and hosts again. first, if not nil, is a connection already hosted. When
// hosting fails (the relay is down or restarting) it backs off from
// joinRetry to rehostBackoffMax.
func (n *Node) hostLoop(ctx context.Context, slot string, first net.Conn, serve func(conn net.Conn, r *frame.Reader, typ frame.Type, body []byte)) {
	backoff := joinRetry
	conn := first
	defer func() {
		if conn != nil { // first, when ctx ended before it was served
			conn.Close()
		}
	}()
	for ctx.Err() == nil {
		var err error
		if conn == nil {
			conn, err = relay.Host(ctx, n.cfg.relayURL, slot)
		}
		if err == nil {
			hosted := conn // the closure must not read conn, which the loop resets
			stop := context.AfterFunc(ctx, func() { hosted.Close() })
			r := frame.NewReader(conn, wire.MaxHelloFrame) // the first frame is a Hello
			var (
				typ  frame.Type
				body []byte
			)
			typ, body, err = r.ReadFrame()
			stop()
			r.SetMaxSize(frame.MaxFrameSize)
			if err == nil {
				backoff = joinRetry
				serve(conn, r, typ, body)
				conn = nil
				continue
			}
			conn.Close()
			conn = nil
		}
		if ctx.Err() != nil {
			return
		}
		n.log.Debug("hosting a slot at the relay failed; retrying", "err", err, "retry_in", backoff)
		if !sleepCtx(ctx, backoff) {
			return
		}
		backoff = min(backoff*2, rehostBackoffMax)
	}
}

// serveRelay runs an attempt that arrived through the relay.
func (in *initiator) serveRelay(conn net.Conn, r *frame.Reader, typ frame.Type, body []byte) {
	hello, err := wire.ParseHello(body)
	if typ != frame.TypeHello || err != nil || hello.Purpose != wire.PurposePair || hello.Slot != in.slot {
		conn.Close()
		return
	}
	in.attempt(conn, r, "relay")
}

func sleepCtx(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

type dialResult struct {
	conn net.Conn
	path string
	err  error
}

// race runs the dialers at once and returns the first connection; later ones
// are closed. It returns ErrPeerNotFound, wrapping what went wrong, when none
// connects.
func (n *Node) race(ctx context.Context, dialers map[string]func(context.Context) (net.Conn, error)) (net.Conn, string, error) {
	if len(dialers) == 0 {
		return nil, "", ErrNoTransport
	}
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, findTimeout)
		defer cancel()
	}
	rctx, cancel := context.WithCancel(ctx)
	defer cancel()
	results := make(chan dialResult, len(dialers))
	var wg sync.WaitGroup
	for path, dial := range dialers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			conn, err := dial(rctx)
			results <- dialResult{conn, path, err}
		}()
	}
	var errs []error
	for range dialers {
		res := <-results
		if res.err == nil {
			cancel()
			// Close whatever else connects; wait so no goroutine outlives us.
			go func() {
				wg.Wait()
				close(results)
				for late := range results {
					if late.conn != nil {
						late.conn.Close()
					}
				}
			}()
			return res.conn, res.path, nil
		}
		errs = append(errs, fmt.Errorf("%s: %w", res.path, res.err))
	}
	wg.Wait()
	if err := context.Cause(ctx); err != nil && errors.Is(err, context.Canceled) {
		return nil, "", err
	}
	return nil, "", fmt.Errorf("%w: %w", ErrPeerNotFound, errors.Join(errs...))
}

// dialPairing finds the initiator of a pairing slot: by connection hints, on
// the LAN by mDNS, and at the relay, whichever connects first.
func (n *Node) dialPairing(ctx context.Context, slot string, hints *dialHints) (net.Conn, string, error) {
	if n.ctx.Err() != nil {
		return nil, "", ErrClosed
	}
	dialers := map[string]func(context.Context) (net.Conn, error){}
	direct := false
	if hints != nil && len(hints.addrs) > 0 {
		direct = true
		dialers["direct"] = func(ctx context.Context) (net.Conn, error) { return dialFirst(ctx, hints.addrs) }
	}
	if n.cfg.mdns {
		direct = true
		dialers["lan"] = func(ctx context.Context) (net.Conn, error) {
			return n.dialMDNS(ctx, pairService, func(txt map[string]string) bool { return txt["s"] == slot })
		}
	}
	relayURL := n.cfg.relayURL
	if hints != nil && hints.relayURL != "" {
		relayURL = hints.relayURL
	}
	if relayURL != "" {
		dialers["relay"] = func(ctx context.Context) (net.Conn, error) {
			if direct && !sleepCtx(ctx, relayHeadStart) {
				return nil, ctx.Err()
			}
			conn, _, err := joinFirst(ctx, relayURL, []string{slot}, joinWindow)
			return conn, err
		}
	}
	return n.race(ctx, dialers)
}

// joinFirst joins the first of slots that someone hosts at the relay and
// returns its index. While none is hosted it retries for up to window: a
// host re-hosts its slot right after each connection it got.
func joinFirst(ctx context.Context, relayURL string, slots []string, window time.Duration) (net.Conn, int, error) {
	deadline := time.Now().Add(window)
	for {
		var errs []error
		for i, slot := range slots {
			conn, err := relay.Join(ctx, relayURL, slot)
			if err == nil {
				return conn, i, nil
			}
			if !errors.Is(err, relay.ErrNoSuchSlot) {
				return nil, 0, err
			}
			errs = append(errs, err)
		}
		if time.Now().After(deadline) {
			return nil, 0, errors.Join(errs...)
		}
		if !sleepCtx(ctx, joinRetry) {
			return nil, 0, ctx.Err()
		}
	}
}

// dialFirst connects to the first address that answers, in order.
func dialFirst(ctx context.Context, addrs []string) (net.Conn, error) {
	var d net.Dialer
	var errs []error
	for _, a := range addrs {
		dctx, cancel := context.WithTimeout(ctx, directDialTimeout)
		conn, err := d.DialContext(dctx, "tcp", a)
		cancel()
		if err == nil {
			return conn, nil
		}
		errs = append(errs, err)
		if ctx.Err() != nil {
			break
		}
	}
	return nil, errors.Join(errs...)
}

// dialMDNS browses the LAN for a service whose TXT record matches and
// connects to it.
func (n *Node) dialMDNS(ctx context.Context, service string, match func(map[string]string) bool) (net.Conn, error) {
	var addrs []netip.AddrPort
	err := discovery.Browse(ctx, service, n.mdnsOptions(), func(e discovery.Entry) bool {
		if !match(e.Text) {
			return true
		}
		addrs = e.Addrs
		return false
	})
	if len(addrs) == 0 {
		if err == nil {
			err = errors.New("no matching advert on the LAN")
		}
		return nil, err
	}
	s := make([]string, len(addrs))
	for i, a := range addrs {
		s[i] = a.String()
	}
	return dialFirst(ctx, s)
}
