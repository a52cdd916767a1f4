package netnstest

import (
	"context"
	"net"
	"net/netip"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

const testTimeout = 20 * time.Second

// TestNamespaceLifecycle creates a loopback-only namespace, runs a command
// in it, and checks that cleanup deletes it.
func TestNamespaceLifecycle(t *testing.T) {
	Require(t)
	var name string
	t.Run("create", func(t *testing.T) {
		name = NewNamespace(t)
		ctx, cancel := context.WithTimeout(t.Context(), testTimeout)
		defer cancel()
		out, err := Command(ctx, name, "ip", "-br", "link").CombinedOutput()
		if err != nil {
			t.Fatalf("ip link in %s: %v: %s", name, err, out)
		}
		if !strings.Contains(string(out), "MULTICAST,UP") || strings.Count(strings.TrimSpace(string(out)), "\n") != 0 {
			t.Fatalf("want only lo, up with multicast; got:\n%s", out)
		}
	})
	assertGone(t, name)
}

// TestSweepStale checks that a namespace named for a dead process is swept
// and one of a live process is kept.
func TestSweepStale(t *testing.T) {
	Require(t)
	ctx, cancel := context.WithTimeout(t.Context(), testTimeout)
	defer cancel()
	dead := deadPID(t)
	stale := NamePrefix + strconv.Itoa(dead) + "-000000-stale"
	if _, err := ip(ctx, "netns", "add", stale); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = deleteNamespace(context.Background(), stale) })
	live := NewNamespace(t)
	if err := SweepStale(ctx); err != nil {
		t.Fatal(err)
	}
	names, err := List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if slices.Contains(names, stale) {
		t.Errorf("stale namespace %s survived the sweep", stale)
	}
	if !slices.Contains(names, live) {
		t.Errorf("live namespace %s was swept", live)
	}
}

// deadPID returns a pid with no process.
func deadPID(t *testing.T) int {
	for pid := 30000; pid > 1000; pid-- {
		if !processAlive(pid) {
			return pid
		}
	}
	t.Fatal("no free pid")
	return 0
}

// TestLAN builds a two-host LAN and has host 1 dial a TCP listener in
// host 0 through the bridge, each side in a re-executed child.
func TestLAN(t *testing.T) {
	var lan *LAN
	t.Run("build", func(t *testing.T) {
		lan = NewLAN(t, 2)
		if len(lan.Hosts) != 2 {
			t.Fatalf("got %d hosts", len(lan.Hosts))
		}
		a, b := lan.Hosts[0], lan.Hosts[1]
		if a.Addr.Masked() != b.Addr.Masked() || a.Addr.Addr() == b.Addr.Addr() {
			t.Fatalf("hosts not on one subnet: %v %v", a.Addr, b.Addr)
		}
		ctx, cancel := context.WithTimeout(t.Context(), testTimeout)
		defer cancel()

		listener := StartTestInNS(t, a.NS, "TestChildListen", map[string]string{"NETNSTEST_LISTEN": a.Addr.Addr().String() + ":0"})
		addr, err := listener.WaitSignal(ctx, "addr")
		if err != nil {
			t.Fatal(err)
		}
		RunTestInNS(t, b.NS, "TestChildDial", map[string]string{"NETNSTEST_DIAL": addr})
		if err := listener.Stop(); err != nil {
			t.Fatal(err)
		}
	})
	if lan != nil {
		assertGone(t, lan.Bridge)
		for _, h := range lan.Hosts {
			assertGone(t, h.NS)
		}
	}
}

func TestChildListen(t *testing.T) {
	ChildOnly(t)
	ctx, cancel := context.WithTimeout(t.Context(), testTimeout)
	defer cancel()
	ln, err := net.Listen("tcp4", os.Getenv("NETNSTEST_LISTEN"))
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	Signal("addr", ln.Addr().String())
	type result struct {
		msg string
		err error
	}
	got := make(chan result, 1)
	go func() {
		conn, err := ln.Accept()
		if err != nil {
			got <- result{err: err}
			return
		}
		defer conn.Close()
		buf := make([]byte, 128)
		_ = conn.SetReadDeadline(time.Now().Add(testTimeout))
		n, err := conn.Read(buf)
		got <- result{string(buf[:n]), err}
	}()
	select {
	case r := <-got:
		if r.err != nil || r.msg != "hello "+Namespace() {
			t.Fatalf("got %q, %v", r.msg, r.err)
		}
	case <-ctx.Done():
		t.Fatal("no connection")
	}
	if err := WaitForParent(ctx); err != nil {
		t.Fatal(err)
	}
}

func TestChildDial(t *testing.T) {
	ChildOnly(t)
	ap, err := netip.ParseAddrPort(os.Getenv("NETNSTEST_DIAL"))
	if err != nil {
		t.Fatal(err)
	}
	// Only lo and eth0 exist in here.
	ifs, err := net.Interfaces()
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, ifc := range ifs {
		names = append(names, ifc.Name)
	}
	slices.Sort(names)
	if !slices.Equal(names, []string{HostIface, "lo"}) {
		t.Fatalf("interfaces in child: %v", names)
	}
	d := net.Dialer{Timeout: testTimeout}
	conn, err := d.DialContext(t.Context(), "tcp4", ap.String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	// The listener lives in another namespace; it checks the name we send
	// against its own, so tell it which one it is in: host 0 of the LAN.
	peerNS := strings.TrimSuffix(Namespace(), "-1") + "-0"
	if _, err := conn.Write([]byte("hello " + peerNS)); err != nil {
		t.Fatal(err)
	}
}

func assertGone(t *testing.T, name string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	names, err := List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if slices.Contains(names, name) {
		t.Errorf("namespace %s still exists after cleanup", name)
	}
}
