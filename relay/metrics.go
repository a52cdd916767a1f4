package relay

import (
	"fmt"
	"io"
	"net/http"
	"sync/atomic"
)

// reason names why the relay refused or ended a connection; it is the
// "reason" label of cairn_relay_rejections_total.
type reason int

const (
	reasonShuttingDown reason = iota
	reasonRateLimited
	reasonTooManyConns
	reasonBadRequest
	reasonMethod
	reasonSlotTaken
	reasonNoSuchSlot
	reasonSlotsFull
	reasonUpgradeFailed
	reasonMessageTooBig
	reasonTextMessage
	reasonIdleTimeout
	reasonHostIdle
	reasonWaitExpired
	reasonNoHost
	reasonRelayFull
	numReasons
)

var reasonNames = [numReasons]string{
	reasonShuttingDown:  "shutting_down",
	reasonRateLimited:   "rate_limited",
	reasonTooManyConns:  "too_many_conns",
	reasonBadRequest:    "bad_request",
	reasonMethod:        "method_not_allowed",
	reasonSlotTaken:     "slot_taken",
	reasonNoSuchSlot:    "no_such_slot",
	reasonSlotsFull:     "slots_full",
	reasonUpgradeFailed: "upgrade_failed",
	reasonMessageTooBig: "message_too_big",
	reasonTextMessage:   "text_message",
	reasonIdleTimeout:   "idle_timeout",
	reasonRelayFull:     "relay_full",
	reasonHostIdle:      "host_idle",
	reasonWaitExpired:   "wait_expired",
	reasonNoHost:        "no_host",
}

func (r reason) String() string { return reasonNames[r] }

// metrics are one server's counters and gauges, served in the Prometheus
// text exposition format (version 0.0.4) at MetricsPath.
//
// They are hand-written rather than built on client_golang because the
// module's go.sum lacks client_golang's dependencies; the names and types are
// what client_golang would expose, so switching is a local change.
type metrics struct {
	waiting    atomic.Int64
	piped      atomic.Int64
	pairs      atomic.Uint64
	hostToJoin atomic.Uint64
	joinToHost atomic.Uint64
	rejections [numReasons]atomic.Uint64
}

func (m *metrics) reject(r reason) { m.rejections[r].Add(1) }

// Stats is a snapshot of a server's state and counters.
type Stats struct {
	WaitingSlots int   // hosts waiting for a joiner
	PipedPairs   int   // pairs currently piped
	PairsTotal   int64 // pairs made since start
	BytesRelayed int64 // bytes relayed since start, both directions
	// Rejections counts refused or ended connections by reason label.
	Rejections map[string]int64
}

func (m *metrics) snapshot() Stats {
	st := Stats{
		WaitingSlots: int(m.waiting.Load()),
		PipedPairs:   int(m.piped.Load()),
		PairsTotal:   int64(m.pairs.Load()),
		BytesRelayed: int64(m.hostToJoin.Load() + m.joinToHost.Load()),
		Rejections:   make(map[string]int64),
	}
	for r := range numReasons {
		if n := m.rejections[r].Load(); n > 0 {
			st.Rejections[r.String()] = int64(n)
		}
	}
	return st
}

func (m *metrics) writeText(w io.Writer) error {
	ew := &errWriter{w: w}
	ew.metric("cairn_relay_waiting_slots", "gauge", "Hosts waiting for a joiner.")
	ew.printf("cairn_relay_waiting_slots %d\n", m.waiting.Load())
	ew.metric("cairn_relay_piped_pairs", "gauge", "Pairs currently piped.")
	ew.printf("cairn_relay_piped_pairs %d\n", m.piped.Load())
	ew.metric("cairn_relay_pairs_total", "counter", "Pairs made.")
	ew.printf("cairn_relay_pairs_total %d\n", m.pairs.Load())
	ew.metric("cairn_relay_bytes_relayed_total", "counter", "Payload bytes relayed, by direction.")
	ew.printf("cairn_relay_bytes_relayed_total{direction=\"host_to_join\"} %d\n", m.hostToJoin.Load())
	ew.printf("cairn_relay_bytes_relayed_total{direction=\"join_to_host\"} %d\n", m.joinToHost.Load())
	ew.metric("cairn_relay_rejections_total", "counter", "Connections refused or ended by the relay, by reason.")
	for r := range numReasons {
		ew.printf("cairn_relay_rejections_total{reason=%q} %d\n", r.String(), m.rejections[r].Load())
	}
	return ew.err
}

func (m *metrics) handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
		_ = m.writeText(w)
	})
}

type errWriter struct {
	w   io.Writer
	err error
}

func (e *errWriter) printf(format string, args ...any) {
	if e.err == nil {
		_, e.err = fmt.Fprintf(e.w, format, args...)
	}
}

func (e *errWriter) metric(name, typ, help string) {
	e.printf("# HELP %s %s\n# TYPE %s %s\n", name, help, name, typ)
}
