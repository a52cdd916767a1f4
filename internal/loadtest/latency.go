package loadtest

import (
	"fmt"
	"math"
	"slices"
	"sync"
	"time"
)

// Latencies collects durations from many goroutines.
type Latencies struct {
	mu sync.Mutex
	d  []time.Duration
}

// Add records one duration.
func (l *Latencies) Add(d time.Duration) {
	l.mu.Lock()
	l.d = append(l.d, d)
	l.mu.Unlock()
}

// Since records the time elapsed since t0.
func (l *Latencies) Since(t0 time.Time) { l.Add(time.Since(t0)) }

// Len returns how many durations were recorded.
func (l *Latencies) Len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.d)
}

// Quantile returns the q-quantile (0 <= q <= 1) by the nearest-rank method,
// or 0 if nothing was recorded.
func (l *Latencies) Quantile(q float64) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.d) == 0 {
		return 0
	}
	s := slices.Clone(l.d)
	slices.Sort(s)
	rank := int(math.Ceil(q * float64(len(s))))
	return s[min(max(rank-1, 0), len(s)-1)]
}

// Max returns the largest duration recorded.
func (l *Latencies) Max() time.Duration { return l.Quantile(1) }

// Summary holds the figures a report shows of a Latencies.
type Summary struct {
	Count int           `json:"count"`
	P50   time.Duration `json:"p50_ns"`
	P99   time.Duration `json:"p99_ns"`
	Max   time.Duration `json:"max_ns"`
}

// Summary returns count, median, 99th percentile and maximum.
func (l *Latencies) Summary() Summary {
	return Summary{Count: l.Len(), P50: l.Quantile(0.5), P99: l.Quantile(0.99), Max: l.Max()}
}

func (s Summary) String() string {
	return fmt.Sprintf("n=%d p50=%v p99=%v max=%v", s.Count, round(s.P50), round(s.P99), round(s.Max))
}

// round keeps 3 significant figures or so, for reports.
func round(d time.Duration) time.Duration {
	switch {
	case d >= 10*time.Second:
		return d.Round(100 * time.Millisecond)
	case d >= time.Second:
		return d.Round(10 * time.Millisecond)
	case d >= 10*time.Millisecond:
		return d.Round(100 * time.Microsecond)
	default:
		return d.Round(10 * time.Microsecond)
	}
}

// Round rounds d for a report, to about 3 significant figures.
func Round(d time.Duration) time.Duration { return round(d) }
