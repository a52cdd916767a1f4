package discovery

// mDNS tests. They multicast, so they run only in child processes inside
// network namespaces created by the test (see internal/netnstest); the
// parent process, on the host's network, only builds namespaces and starts
// children. Test functions named TestChild* skip outside such a child.

import (
	"context"
	"errors"
	"maps"
	"net/netip"
	"os"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/cairn-dev/cairn/internal/netnstest"
)

const (
	// browseTimeout bounds every Browse that expects to find something.
	browseTimeout = 10 * time.Second
	// absentTimeout is how long a Browse that expects nothing runs. The
	// library queries at once and again after 4 s, so 5 s covers two
	// queries.
	absentTimeout = 5 * time.Second
	// signalTimeout bounds the wait for a child to start advertising.
	signalTimeout = 20 * time.Second
)

// Environment passed from parent tests to children.
const (
	envInstance = "DISCOVERY_TEST_INSTANCE"
	envPort     = "DISCOVERY_TEST_PORT"
	envSlot     = "DISCOVERY_TEST_SLOT"
	envWantAddr = "DISCOVERY_TEST_WANT_ADDR"
	envExpect   = "DISCOVERY_TEST_EXPECT" // "present" or "absent"
	envIface    = "DISCOVERY_TEST_IFACE"  // browse only on this interface if set
)

// TestLoopbackNamespace runs TestChildLoopback in a namespace whose only
// interface is lo with multicast on, and checks the namespace is gone after.
func TestLoopbackNamespace(t *testing.T) {
	netnstest.Require(t)
	var ns string
	t.Run("run", func(t *testing.T) {
		ns = netnstest.NewNamespace(t)
		netnstest.RunTestInNS(t, ns, "TestChildLoopback", nil)
	})
	assertNamespacesGone(t, ns)
}

// TestLAN advertises from one namespace and browses from another across a
// bridge, then checks that a stopped advertiser is no longer found.
func TestLAN(t *testing.T) {
	netnstest.Require(t)
	var lan *netnstest.LAN
	t.Run("run", func(t *testing.T) {
		lan = netnstest.NewLAN(t, 2)
		a, b := lan.Hosts[0], lan.Hosts[1]
		instance, err := NewInstanceName(nil)
		if err != nil {
			t.Fatal(err)
		}
		const port = 7345
		adv := netnstest.StartTestInNS(t, a.NS, "TestChildAdvertiser", map[string]string{
			envInstance: instance, envPort: strconv.Itoa(port), envSlot: "K7Q",
		})
		ctx, cancel := context.WithTimeout(t.Context(), signalTimeout)
		defer cancel()
		if _, err := adv.WaitSignal(ctx, "advertising"); err != nil {
			t.Fatal(err)
		}
		want := netip.AddrPortFrom(a.Addr.Addr(), port).String()
		for _, iface := range []string{"", netnstest.HostIface} {
			t.Run("browse iface="+iface, func(t *testing.T) {
				netnstest.RunTestInNS(t, b.NS, "TestChildBrowser", map[string]string{
					envInstance: instance, envSlot: "K7Q", envWantAddr: want, envExpect: "present", envIface: iface,
				})
			})
		}
		if err := adv.Stop(); err != nil {
			t.Fatal(err)
		}
		t.Run("browse after stop", func(t *testing.T) {
			netnstest.RunTestInNS(t, b.NS, "TestChildBrowser", map[string]string{
				envInstance: instance, envExpect: "absent",
			})
		})
	})
	if lan != nil {
		names := []string{lan.Bridge}
		for _, h := range lan.Hosts {
			names = append(names, h.NS)
		}
		assertNamespacesGone(t, names...)
	}
}

func assertNamespacesGone(t *testing.T, names ...string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), netnstest.CommandTimeout)
	defer cancel()
	left, err := netnstest.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range names {
		if n != "" && slices.Contains(left, n) {
			t.Errorf("namespace %s left after the test", n)
		}
	}
}

// TestChildAdvertiser advertises on the default interfaces until the parent
// stops it.
func TestChildAdvertiser(t *testing.T) {
	netnstest.ChildOnly(t)
	port, err := strconv.Atoi(os.Getenv(envPort))
	if err != nil {
		t.Fatal(err)
	}
	adv, err := Advertise(t.Context(), Service{
		Type:     PairServiceType,
		Instance: os.Getenv(envInstance),
		Port:     port,
		Text:     map[string]string{"s": os.Getenv(envSlot)},
	}, Options{Logger: testLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	defer adv.Close()
	netnstest.Signal("advertising", "1")
	ctx, cancel := context.WithTimeout(t.Context(), netnstest.ChildTimeout-10*time.Second)
	defer cancel()
	if err := netnstest.WaitForParent(ctx); err != nil {
		t.Fatal(err)
	}
}

// TestChildBrowser browses for the instance named by the parent and checks
// it is present with the wanted address and slot, or absent.
func TestChildBrowser(t *testing.T) {
	netnstest.ChildOnly(t)
	instance := os.Getenv(envInstance)
	var opts Options
	opts.Logger = testLogger(t)
	if name := os.Getenv(envIface); name != "" {
		ifs, err := InterfacesByName(name)
		if err != nil {
			t.Fatal(err)
		}
		opts.Interfaces = ifs
	}
	if os.Getenv(envExpect) == "absent" {
		if e, ok := browseFor(t, PairServiceType, instance, opts, absentTimeout); ok {
			t.Fatalf("stopped advertiser still found: %+v", e)
		}
		return
	}
	e, ok := browseFor(t, PairServiceType, instance, opts, browseTimeout)
	if !ok {
		t.Fatalf("instance %s not found within %v", instance, browseTimeout)
	}
	want := netip.MustParseAddrPort(os.Getenv(envWantAddr))
	if !slices.Contains(e.Addrs, want) {
		t.Errorf("addrs %v, want %v among them", e.Addrs, want)
	}
	if got := e.Text["s"]; got != os.Getenv(envSlot) {
		t.Errorf("slot %q, want %q", got, os.Getenv(envSlot))
	}
}

// TestChildLoopback runs the single-host tests on lo inside a namespace.
func TestChildLoopback(t *testing.T) {
	netnstest.ChildOnly(t)
	lo, err := InterfacesByName("lo")
	if err != nil {
		t.Fatal(err)
	}
	opts := Options{Interfaces: lo, Logger: testLogger(t)}
	loopback := netip.MustParseAddr("127.0.0.1")

	t.Run("default interfaces exclude loopback", func(t *testing.T) {
		if _, err := DefaultInterfaces(); !errors.Is(err, ErrNoInterfaces) {
			t.Fatalf("DefaultInterfaces: %v, want ErrNoInterfaces", err)
		}
		_, err := Advertise(t.Context(), testService(t, 1000, nil), Options{})
		if !errors.Is(err, ErrNoInterfaces) {
			t.Fatalf("Advertise: %v, want ErrNoInterfaces", err)
		}
		err = Browse(t.Context(), PairServiceType, Options{}, func(Entry) bool { return true })
		if !errors.Is(err, ErrNoInterfaces) {
			t.Fatalf("Browse: %v, want ErrNoInterfaces", err)
		}
	})

	t.Run("advertise and browse", func(t *testing.T) {
		svc := testService(t, 4242, map[string]string{"s": "ABC"})
		adv, err := Advertise(t.Context(), svc, opts)
		if err != nil {
			t.Fatal(err)
		}
		defer adv.Close()
		e, ok := browseFor(t, PairServiceType, svc.Instance, opts, browseTimeout)
		if !ok {
			t.Fatal("not found")
		}
		if want := netip.AddrPortFrom(loopback, 4242); !slices.Contains(e.Addrs, want) {
			t.Errorf("addrs %v, want %v among them", e.Addrs, want)
		}
		if !maps.Equal(e.Text, svc.Text) {
			t.Errorf("text %v, want %v", e.Text, svc.Text)
		}
	})

	t.Run("two advertisers told apart", func(t *testing.T) {
		a := testService(t, 1001, map[string]string{"s": "AAA"})
		b := testService(t, 1002, map[string]string{"s": "0123456789abcdef", "x": ""})
		for _, svc := range []Service{a, b} {
			adv, err := Advertise(t.Context(), svc, opts)
			if err != nil {
				t.Fatal(err)
			}
			defer adv.Close()
		}
		got := map[string]Entry{}
		ctx, cancel := context.WithTimeout(t.Context(), browseTimeout)
		defer cancel()
		err := Browse(ctx, PairServiceType, opts, func(e Entry) bool {
			if e.Instance == a.Instance || e.Instance == b.Instance {
				got[e.Instance] = e
			}
			return len(got) < 2
		})
		if err != nil {
			t.Fatalf("Browse: %v (found %d of 2)", err, len(got))
		}
		for _, svc := range []Service{a, b} {
			e := got[svc.Instance]
			if !maps.Equal(e.Text, svc.Text) {
				t.Errorf("%s: text %v, want %v", svc.Instance, e.Text, svc.Text)
			}
			if want := netip.AddrPortFrom(loopback, uint16(svc.Port)); !slices.Contains(e.Addrs, want) {
				t.Errorf("%s: addrs %v, want %v", svc.Instance, e.Addrs, want)
			}
		}
	})

	t.Run("other service type not reported", func(t *testing.T) {
		svc := testService(t, 1003, nil)
		svc.Type = PeerServiceType
		adv, err := Advertise(t.Context(), svc, opts)
		if err != nil {
			t.Fatal(err)
		}
		defer adv.Close()
		if _, ok := browseFor(t, PeerServiceType, svc.Instance, opts, browseTimeout); !ok {
			t.Fatal("not found under its own type")
		}
		if e, ok := browseFor(t, PairServiceType, svc.Instance, opts, absentTimeout); ok {
			t.Fatalf("found under another type: %+v", e)
		}
	})

	t.Run("concurrent browsers", func(t *testing.T) {
		svc := testService(t, 1004, map[string]string{"r": "abcd,ef01"})
		adv, err := Advertise(t.Context(), svc, opts)
		if err != nil {
			t.Fatal(err)
		}
		defer adv.Close()
		const browsers = 4
		var wg sync.WaitGroup
		ok := make([]bool, browsers)
		for i := range browsers {
			wg.Go(func() { _, ok[i] = browseFor(t, PairServiceType, svc.Instance, opts, browseTimeout) })
		}
		wg.Wait()
		for i, found := range ok {
			if !found {
				t.Errorf("browser %d did not find the instance", i)
			}
		}
	})

	t.Run("TXT bytes survive the wire", func(t *testing.T) {
		text := map[string]string{
			"s":   "A\"B\\C",
			"bin": "\x00\x01\xff\x7f=\n",
			"sp":  " lead and trail ",
		}
		svc := testService(t, 1005, text)
		adv, err := Advertise(t.Context(), svc, opts)
		if err != nil {
			t.Fatal(err)
		}
		defer adv.Close()
		e, ok := browseFor(t, PairServiceType, svc.Instance, opts, browseTimeout)
		if !ok {
			t.Fatal("not found")
		}
		if !maps.Equal(e.Text, text) {
			t.Errorf("text %q, want %q", e.Text, text)
		}
	})

	t.Run("close stops answering", func(t *testing.T) {
		svc := testService(t, 1006, nil)
		adv, err := Advertise(t.Context(), svc, opts)
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := browseFor(t, PairServiceType, svc.Instance, opts, browseTimeout); !ok {
			t.Fatal("not found while advertised")
		}
		if err := adv.Close(); err != nil {
			t.Fatal(err)
		}
		if err := adv.Close(); err != nil { // idempotent
			t.Fatal(err)
		}
		if e, ok := browseFor(t, PairServiceType, svc.Instance, opts, absentTimeout); ok {
			t.Fatalf("found after Close: %+v", e)
		}
	})

	t.Run("context cancel stops advertising", func(t *testing.T) {
		svc := testService(t, 1007, nil)
		ctx, cancel := context.WithCancel(t.Context())
		adv, err := Advertise(ctx, svc, opts)
		if err != nil {
			t.Fatal(err)
		}
		defer adv.Close()
		if _, ok := browseFor(t, PairServiceType, svc.Instance, opts, browseTimeout); !ok {
			t.Fatal("not found while advertised")
		}
		cancel()
		adv.Close() // waits for the shutdown the cancel started
		if e, ok := browseFor(t, PairServiceType, svc.Instance, opts, absentTimeout); ok {
			t.Fatalf("found after cancel: %+v", e)
		}
	})

	t.Run("browse ends with ctx", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(t.Context(), 500*time.Millisecond)
		defer cancel()
		err := Browse(ctx, "_nothing-here._udp", opts, func(Entry) bool { return true })
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("Browse: %v, want DeadlineExceeded", err)
		}
	})
}

// browseFor browses until instance is found or timeout passes.
func browseFor(t *testing.T, serviceType, instance string, opts Options, timeout time.Duration) (Entry, bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), timeout)
	defer cancel()
	var got Entry
	var ok bool
	err := Browse(ctx, serviceType, opts, func(e Entry) bool {
		if e.Instance == instance {
			got, ok = e, true
			return false
		}
		return true
	})
	if ok != (err == nil) || err != nil && !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Browse: found=%v err=%v", ok, err)
	}
	return got, ok
}

func testService(t *testing.T, port int, text map[string]string) Service {
	t.Helper()
	instance, err := NewInstanceName(nil)
	if err != nil {
		t.Fatal(err)
	}
	return Service{Type: PairServiceType, Instance: instance, Port: port, Text: text}
}
