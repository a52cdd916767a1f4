package netnstest

import (
	"crypto/rand"
	"fmt"
	"net/netip"
	"strconv"
	"testing"
)

// Names used inside the test namespaces. They never exist in the host
// namespace.
const (
	// HostIface is the name of each host's veth interface on the LAN.
	HostIface = "eth0"
	// BridgeIface is the bridge in the LAN's bridge namespace.
	BridgeIface = "br0"
)

// MaxHosts bounds the size of a LAN.
const MaxHosts = 16

// Host is one namespace attached to a LAN.
type Host struct {
	// NS is the namespace name, for [Command] and [TestCommand].
	NS string
	// Iface is the host's interface on the LAN (HostIface).
	Iface string
	// Addr is the host's IPv4 address and prefix, in 10.213.x.0/24.
	Addr netip.Prefix
}

// LAN is a set of namespaces whose veth interfaces share one Ethernet
// segment: a bridge in a namespace of its own.
type LAN struct {
	// Bridge is the namespace holding the bridge.
	Bridge string
	// Hosts are the attached namespaces, in creation order.
	Hosts []Host
}

// NewLAN creates n (1..MaxHosts) namespaces, each with lo up and a veth
// interface HostIface (multicast on, IPv4 10.213.x.(i+1)/24) whose peer is
// enslaved to a bridge in a separate namespace. Everything is deleted in
// t.Cleanup. The test is skipped if namespaces are unavailable.
func NewLAN(t testing.TB, n int) *LAN {
	t.Helper()
	if n < 1 || n > MaxHosts {
		t.Fatalf("netnstest: NewLAN: %d hosts, want 1..%d", n, MaxHosts)
	}
	prefix := begin(t)
	var subnet [1]byte
	if _, err := rand.Read(subnet[:]); err != nil {
		t.Fatalf("netnstest: %v", err)
	}
	lan := &LAN{Bridge: prefix + "-br"}
	addNamespace(t, lan.Bridge)
	err := ipAll(t.Context(),
		[]string{"-n", lan.Bridge, "link", "add", BridgeIface, "type", "bridge", "stp_state", "0", "mcast_snooping", "0"},
		[]string{"-n", lan.Bridge, "link", "set", BridgeIface, "up"},
	)
	if err != nil {
		t.Fatalf("netnstest: failed to create the bridge: %v", err)
	}
	for i := range n {
		ns := prefix + "-" + strconv.Itoa(i)
		port := "p" + strconv.Itoa(i)
		addr := netip.PrefixFrom(netip.AddrFrom4([4]byte{10, 213, subnet[0], byte(i + 1)}), 24)
		addNamespace(t, ns)
		err := ipAll(t.Context(),
			// Created inside ns, with the peer moved straight into the
			// bridge namespace: the host namespace is never touched.
			[]string{"-n", ns, "link", "add", HostIface, "type", "veth", "peer", "name", port, "netns", lan.Bridge},
			[]string{"-n", lan.Bridge, "link", "set", port, "master", BridgeIface},
			[]string{"-n", lan.Bridge, "link", "set", port, "up"},
			[]string{"-n", ns, "addr", "add", addr.String(), "dev", HostIface},
			[]string{"-n", ns, "link", "set", HostIface, "multicast", "on"},
			[]string{"-n", ns, "link", "set", HostIface, "up"},
		)
		if err != nil {
			t.Fatalf("netnstest: failed to attach host %d: %v", i, err)
		}
		lan.Hosts = append(lan.Hosts, Host{NS: ns, Iface: HostIface, Addr: addr})
	}
	for _, h := range lan.Hosts {
		if err := waitLinkUp(t.Context(), h.NS, h.Iface); err != nil {
			t.Fatalf("netnstest: %v", err)
		}
	}
	t.Logf("netnstest: LAN %s: %d hosts on %s", lan.Bridge, n, netip.PrefixFrom(lan.Hosts[0].Addr.Addr(), 24).Masked())
	return lan
}

// String describes the LAN for logs.
func (l *LAN) String() string {
	return fmt.Sprintf("LAN(bridge %s, %d hosts)", l.Bridge, len(l.Hosts))
}
