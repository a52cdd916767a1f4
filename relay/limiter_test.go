package relay

import (
	"net/netip"
	"net/url"
	"testing"
	"time"
)

func TestRateLimiter(t *testing.T) {
	t.Parallel()
	l := newRateLimiter(2, 3, 2) // 2/s, burst 3, 2 keys
	a, b, c := netip.MustParseAddr("10.0.0.1"), netip.MustParseAddr("10.0.0.2"), netip.MustParseAddr("10.0.0.3")
	t0 := time.Unix(1000, 0)
	for i := range 3 {
		if !l.allow(a, t0) {
			t.Fatalf("burst request %d refused", i)
		}
	}
	if l.allow(a, t0) {
		t.Fatal("request beyond burst allowed")
	}
	if !l.allow(a, t0.Add(500*time.Millisecond)) || l.allow(a, t0.Add(500*time.Millisecond)) {
		t.Fatal("refill of one token after 0.5s at 2/s is wrong")
	}
	for range 3 {
		if !l.allow(b, t0) {
			t.Fatal("second key refused")
		}
	}
	// Table full, nothing refilled: a new key is refused.
	if l.allow(c, t0.Add(time.Second)) {
		t.Fatal("new key allowed in a full table")
	}
	// Later both buckets are full again and get swept.
	if !l.allow(c, t0.Add(time.Minute)) {
		t.Fatal("new key refused after the table could be swept")
	}
}

func TestConnCounter(t *testing.T) {
	t.Parallel()
	c := newConnCounter(2, 3)
	ok := func(k netip.Addr) bool { _, ok := c.acquire(k); return ok }
	k, other, third := netip.MustParseAddr("::1"), netip.MustParseAddr("10.0.0.1"), netip.MustParseAddr("10.0.0.2")
	if !ok(k) || !ok(k) {
		t.Fatal("two connections from one source refused")
	}
	if why, got := c.acquire(k); got || why != reasonTooManyConns {
		t.Fatalf("third from one source: %v %v, want refused for too_many_conns", got, why)
	}
	if !ok(other) {
		t.Fatal("another source refused under the total")
	}
	if why, got := c.acquire(third); got || why != reasonRelayFull {
		t.Fatalf("past the total: %v %v, want refused as relay_full", got, why)
	}
	c.release(k)
	if !ok(third) {
		t.Fatal("release did not free a place")
	}
	c.release(k)
	c.release(other)
	c.release(third)
	if len(c.counts) != 0 || c.total != 0 {
		t.Fatalf("table not emptied: %v, total %d", c.counts, c.total)
	}
}

func TestSourceKey(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"127.0.0.1:5000":                 "127.0.0.1",
		"[::ffff:10.1.2.3]:80":           "10.1.2.3",
		"[2001:db8:1:2:3:4:5:6]:443":     "2001:db8:1:2::",
		"[2001:db8:1:2:ffff::1%eth0]:44": "2001:db8:1:2::",
		"garbage":                        "invalid IP",
	} {
		if got := sourceKey(in).String(); got != want {
			t.Errorf("sourceKey(%q) = %s, want %s", in, got, want)
		}
	}
}

// TestSlotURLKeepsQuery: parameters in the operator's relay URL (a token,
// say) survive, with mode set once.
func TestSlotURLKeepsQuery(t *testing.T) {
	got, err := slotURL("https://relay.example/base/?token=abc&mode=wrong", "s1", ModeJoin)
	if err != nil {
		t.Fatal(err)
	}
	u, err := url.Parse(got)
	if err != nil {
		t.Fatal(err)
	}
	if q := u.Query(); q.Get("token") != "abc" || len(q["mode"]) != 1 || q.Get("mode") != ModeJoin || u.Path != "/base"+SlotPath+"s1" {
		t.Fatalf("slotURL = %s", got)
	}
}
