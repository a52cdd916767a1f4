package relay

import (
	"context"
	"encoding/base64"
	"net/http"
	"net/netip"
	"strings"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"
)

// waiter is a host waiting on a slot. It is in s.slots.m from reservation
// until a joiner claims it or the host handler removes it; exactly one of the
// two takes it out, under s.slots.
type waiter struct {
	slot string
	src  netip.Addr

	// joiner is set by the claiming joiner (nil if its upgrade failed)
	// before it closes joined; read it only after <-joined.
	joiner *peer
	joined chan struct{}
	// pipeDone is closed when the host handler is finished with the joiner's
	// connection; the joiner's handler waits for it.
	pipeDone chan struct{}

	lastPing atomic.Int64 // unix nanos of the last ping from the waiting host
	pending  atomic.Bool  // the host sent data before a joiner came
}

func (s *Server) serveSlot(w http.ResponseWriter, r *http.Request) {
	src := sourceKey(r.RemoteAddr)
	if !s.enter() {
		s.reject(w, src, reasonShuttingDown, http.StatusServiceUnavailable)
		return
	}
	defer s.leave()
	if !s.rate.allow(src, time.Now()) {
		s.reject(w, src, reasonRateLimited, http.StatusTooManyRequests)
		return
	}
	if why, ok := s.conns.acquire(src); !ok {
		code := http.StatusTooManyRequests
		if why == reasonRelayFull {
			code = http.StatusServiceUnavailable
		}
		s.reject(w, src, why, code)
		return
	}
	defer s.conns.release(src)
	if r.Method != http.MethodGet {
		w.Header().Set("Allow", http.MethodGet)
		s.reject(w, src, reasonMethod, http.StatusMethodNotAllowed)
		return
	}
	req, err := parseSlotRequest(r.URL.EscapedPath(), r.URL.RawQuery)
	if err != nil {
		s.reject(w, src, reasonBadRequest, http.StatusBadRequest)
		return
	}
	if req.Mode == ModeHost {
		s.serveHost(w, r, req.Slot, src)
	} else {
		s.serveJoin(w, r, req.Slot, src)
	}
}

// reject answers a slot request that will not be upgraded. The connection is
// closed after the answer so that clients never pool it.
func (s *Server) reject(w http.ResponseWriter, src netip.Addr, why reason, code int) {
	s.metrics.reject(why)
	s.log.Debug("relay: request refused", "src", src.String(), "reason", why.String(), "status", code)
	w.Header().Set("Connection", "close")
	http.Error(w, http.StatusText(code), code)
}

func (s *Server) acceptOptions(w *waiter) *websocket.AcceptOptions {
	o := &websocket.AcceptOptions{
		// The relay holds no ambient authority (no cookies, no accounts),
		// so cross-origin browser pages may use it: skip the Origin check.
		InsecureSkipVerify: true,
		CompressionMode:    websocket.CompressionDisabled, // ciphertext does not compress
	}
	if w != nil {
		o.OnPingReceived = func(context.Context, []byte) bool {
			w.lastPing.Store(time.Now().UnixNano())
			return true
		}
	}
	return o
}

// serveHost reserves slot, upgrades, waits for a joiner and pipes.
func (s *Server) serveHost(w http.ResponseWriter, r *http.Request, slot string, src netip.Addr) {
	wt := &waiter{slot: slot, src: src, joined: make(chan struct{}), pipeDone: make(chan struct{})}
	defer close(wt.pipeDone)

	s.slots.Lock()
	switch {
	case s.slots.m[slot] != nil:
		s.slots.Unlock()
		s.reject(w, src, reasonSlotTaken, http.StatusConflict)
		return
	case len(s.slots.m) >= s.cfg.MaxWaitingSlots:
		s.slots.Unlock()
		s.reject(w, src, reasonSlotsFull, http.StatusServiceUnavailable)
		return
	}
	s.slots.m[slot] = wt
	s.metrics.waiting.Add(1)
	s.slots.Unlock()
	wt.lastPing.Store(time.Now().UnixNano())

	c, err := s.accept(w, r, wt)
	if err != nil {
		s.metrics.reject(reasonUpgradeFailed)
		s.log.Debug("relay: upgrade failed", "src", src.String(), "mode", ModeHost)
		if !s.unregister(wt) {
			<-wt.joined
			if wt.joiner != nil {
				closePeers(s.cfg.CloseGrace, closing{wt.joiner, ClosePeerLost, "peer lost"})
			}
		}
		return
	}
	s.log.Debug("relay: host waiting", "src", src.String(), "slot", slot)
	s.runHost(wt, c)
}

// unregister removes wt from the slot table if it is still there. It returns
// false if a joiner claimed wt first.
func (s *Server) unregister(wt *waiter) bool {
	s.slots.Lock()
	defer s.slots.Unlock()
	if s.slots.m[wt.slot] != wt {
		return false
	}
	delete(s.slots.m, wt.slot)
	s.metrics.waiting.Add(-1)
	return true
}

// claim takes the waiter on slot out of the table, or returns nil. The
// claimer must then call deliver exactly once.
func (s *Server) claim(slot string) *waiter {
	s.slots.Lock()
	defer s.slots.Unlock()
	wt := s.slots.m[slot]
	if wt == nil {
		return nil
	}
	delete(s.slots.m, slot)
	s.metrics.waiting.Add(-1)
	return wt
}

// deliver hands the claimed waiter its joiner; nil means the joiner's upgrade
// failed.
func (wt *waiter) deliver(c *peer) {
	wt.joiner = c
	close(wt.joined)
}

// serveJoin claims the waiting host, upgrades and hands the connection to
// the host's handler, which pipes; it returns when that handler is done with
// the connection. Claiming before the upgrade means that a Join that got its
// 101 is paired, and that the slot is free again once it has.
func (s *Server) serveJoin(w http.ResponseWriter, r *http.Request, slot string, src netip.Addr) {
	if !isWebSocketUpgrade(r) {
		// Checked before claiming, so a stray request cannot end a host.
		s.reject(w, src, reasonUpgradeFailed, http.StatusUpgradeRequired)
		return
	}
	wt := s.claim(slot)
	if wt == nil {
		s.reject(w, src, reasonNoSuchSlot, http.StatusNotFound)
		return
	}
	c, err := s.accept(w, r, nil)
	if err != nil {
		s.metrics.reject(reasonUpgradeFailed)
		s.log.Debug("relay: upgrade failed", "src", src.String(), "mode", ModeJoin)
		wt.deliver(nil)
		return
	}
	wt.deliver(c)
	<-wt.pipeDone
}

// isWebSocketUpgrade reports whether r is a WebSocket opening handshake the
// upgrade will accept (RFC 6455 section 4.2.1): a join that fails only at the
// upgrade, after claiming the slot, would end the waiting host.
func isWebSocketUpgrade(r *http.Request) bool {
	if r.Method != http.MethodGet || !r.ProtoAtLeast(1, 1) ||
		!headerHasToken(r.Header, "Connection", "upgrade") || !headerHasToken(r.Header, "Upgrade", "websocket") ||
		r.Header.Get("Sec-WebSocket-Version") != "13" {
		return false
	}
	key, err := base64.StdEncoding.DecodeString(r.Header.Get("Sec-WebSocket-Key"))
	return err == nil && len(key) == 16
}

func headerHasToken(h http.Header, key, token string) bool {
	for _, v := range h.Values(key) {
		for t := range strings.SplitSeq(v, ",") {
			if strings.EqualFold(strings.TrimSpace(t), token) {
				return true
			}
		}
	}
	return false
}
