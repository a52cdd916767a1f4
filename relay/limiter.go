package relay

import (
	"net"
	"net/netip"
	"sync"
	"time"
)

// sourceKey is the per-client key for limits: the remote IP, with IPv6
// addresses reduced to their /64 (one subscriber usually holds a whole /64).
// An address that does not parse maps to the zero Addr, one shared bucket.
func sourceKey(remoteAddr string) netip.Addr {
	host, _, err := net.SplitHostPort(remoteAddr)
	if err != nil {
		host = remoteAddr
	}
	a, err := netip.ParseAddr(host)
	if err != nil {
		return netip.Addr{}
	}
	a = a.Unmap().WithZone("")
	if a.Is6() {
		p, _ := a.Prefix(64)
		return p.Addr()
	}
	return a
}

// rateLimiter is a token bucket per source key, in a table bounded by max.
// Overflow policy: when the table is full, buckets that have refilled
// completely (and so carry no state) are swept, at most once per
// limiterSweepGap; if the table is still full, new keys are refused.
type rateLimiter struct {
	rate  float64
	burst float64
	max   int

	mu        sync.Mutex
	buckets   map[netip.Addr]*bucket
	lastSweep time.Time
}

type bucket struct {
	tokens float64
	last   time.Time
}

func newRateLimiter(rate float64, burst, max int) *rateLimiter {
	return &rateLimiter{rate: rate, burst: float64(burst), max: max, buckets: make(map[netip.Addr]*bucket)}
}

// allow takes one token for key at time now.
func (l *rateLimiter) allow(key netip.Addr, now time.Time) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.buckets[key]
	if b == nil {
		if len(l.buckets) >= l.max {
			l.sweepLocked(now)
			if len(l.buckets) >= l.max {
				return false
			}
		}
		b = &bucket{tokens: l.burst, last: now}
		l.buckets[key] = b
	}
	if el := now.Sub(b.last).Seconds(); el > 0 {
		b.tokens = min(l.burst, b.tokens+el*l.rate)
		b.last = now
	}
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}

// sweepLocked drops buckets that are full by now. Must hold l.mu.
func (l *rateLimiter) sweepLocked(now time.Time) {
	if now.Sub(l.lastSweep) < limiterSweepGap {
		return
	}
	l.lastSweep = now
	for k, b := range l.buckets {
		if b.tokens+now.Sub(b.last).Seconds()*l.rate >= l.burst {
			delete(l.buckets, k)
		}
	}
}

// connCounter counts live connections per source key. Its table holds only
// keys with at least one live connection, so it is bounded by them.
type connCounter struct {
	max, maxTotal int

	mu     sync.Mutex
	counts map[netip.Addr]int
	total  int
}

func newConnCounter(max, maxTotal int) *connCounter {
	return &connCounter{max: max, maxTotal: maxTotal, counts: make(map[netip.Addr]int)}
}

// acquire counts a connection from key, unless key has max already
// (reasonTooManyConns) or the relay has maxTotal (reasonRelayFull).
func (c *connCounter) acquire(key netip.Addr) (reason, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	switch {
	case c.counts[key] >= c.max:
		return reasonTooManyConns, false
	case c.total >= c.maxTotal:
		return reasonRelayFull, false
	}
	c.counts[key]++
	c.total++
	return 0, true
}

func (c *connCounter) release(key netip.Addr) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.total--
	if n := c.counts[key]; n <= 1 {
		delete(c.counts, key)
	} else {
		c.counts[key] = n - 1
	}
}
