package cairn

import (
	"context"
	"errors"
	"net"
	"os"
	"testing"
	"time"

	"github.com/cairn-dev/cairn/internal/netnstest"
	"github.com/cairn-dev/cairn/relay"
)

// Environment passed from TestNetnsPairAndConnect to its children.
const (
	envMode   = "CAIRN_NS_MODE" // "mdns" or "relay"
	envRelay  = "CAIRN_NS_RELAY"
	envListen = "CAIRN_NS_LISTEN"
	envPIN    = "CAIRN_NS_PIN"    // the PIN, link or QR data the initiator shows
	envMethod = "CAIRN_NS_METHOD" // "pin", "link" or "qr"
)

// TestNetnsPairAndConnect runs two nodes on two hosts of a LAN the test
// builds from network namespaces (the relay on a third): they pair by PIN,
// QR code or link, finding each other by mDNS alone or through the relay
// alone, then connect and exchange messages both ways.
func TestNetnsPairAndConnect(t *testing.T) {
	netnstest.Require(t)
	if netnstest.InChild() {
		t.Skip("parent test")
	}
	for _, tc := range []struct{ mode, method string }{
		{"mdns", "pin"}, {"mdns", "qr"}, {"relay", "pin"}, {"relay", "link"},
	} {
		mode := tc.mode
		t.Run(mode+"/"+tc.method, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
			defer cancel()
			lan := netnstest.NewLAN(t, 3)
			env := map[string]string{envMode: mode, envMethod: tc.method}
			if mode == "relay" {
				r := netnstest.StartTestInNS(t, lan.Hosts[2].NS, "TestNetnsChildRelay",
					map[string]string{envListen: net.JoinHostPort(lan.Hosts[2].Addr.Addr().String(), "0")})
				url, err := r.WaitSignal(ctx, "url")
				if err != nil {
					t.Fatal(err)
				}
				env[envRelay] = url
			}
			a := netnstest.StartTestInNS(t, lan.Hosts[0].NS, "TestNetnsChildInitiator", env)
			pin, err := a.WaitSignal(ctx, "pin")
			if err != nil {
				t.Fatal(err)
			}
			env[envPIN] = pin
			netnstest.RunTestInNS(t, lan.Hosts[1].NS, "TestNetnsChildResponder", env)
			if _, err := a.WaitSignal(ctx, "done"); err != nil {
				t.Fatal(err)
			}
			if err := a.Stop(); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// nsNode starts a node inside a child namespace for the parent's mode.
func nsNode(t *testing.T, name string) *Node {
	t.Helper()
	opts := []Option{WithDataDir(t.TempDir()), WithName(name), WithHeartbeat(500*time.Millisecond, 3*time.Second)}
	switch os.Getenv(envMode) {
	case "mdns":
		ifc, err := net.InterfaceByName(netnstest.HostIface)
		if err != nil {
			t.Fatal(err)
		}
		opts = append(opts, WithMDNS(true), WithMDNSInterfaces(*ifc))
	case "relay":
		opts = append(opts, WithMDNS(false), WithRelay(os.Getenv(envRelay)))
	default:
		t.Fatalf("unknown mode %q", os.Getenv(envMode))
	}
	n, err := New(opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { n.Close() })
	return n
}

func TestNetnsChildRelay(t *testing.T) {
	netnstest.ChildOnly(t)
	srv, err := relay.NewServer(relay.Config{})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", os.Getenv(envListen))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), netnstest.ChildTimeout)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, ln) }()
	netnstest.Signal("url", "http://"+ln.Addr().String())
	if err := netnstest.WaitForParent(ctx); err != nil {
		t.Error(err)
	}
	cancel()
	if err := <-done; err != nil && !errors.Is(err, relay.ErrServerClosed) {
		t.Fatal(err)
	}
}

func TestNetnsChildInitiator(t *testing.T) {
	netnstest.ChildOnly(t)
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	n := nsNode(t, "initiator")
	var (
		p    *Pairing
		code string
	)
	switch os.Getenv(envMethod) {
	case "pin":
		pp, err := n.PairGeneratePin(ctx)
		if err != nil {
			t.Fatal(err)
		}
		p, code = &pp.Pairing, pp.Pin
	case "link":
		lp, err := n.PairGenerateLink(ctx)
		if err != nil {
			t.Fatal(err)
		}
		p, code = &lp.Pairing, lp.URI
	case "qr":
		qp, err := n.PairGenerateQR(ctx)
		if err != nil {
			t.Fatal(err)
		}
		p, code = &qp.Pairing, qp.Data
	}
	netnstest.Signal("pin", code)
	peer, err := p.Wait(ctx)
	if err != nil {
		t.Fatal(err)
	}
	s, err := n.Accept(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if s.Peer() != peer {
		t.Fatalf("session from %v, paired with %v", s.Peer(), peer)
	}
	ch, err := s.AcceptChannel(ctx)
	if err != nil {
		t.Fatal(err)
	}
	msg, err := ch.Receive(ctx)
	if err != nil || string(msg) != "ping from the responder" {
		t.Fatalf("Receive = %q, %v", msg, err)
	}
	if err := ch.Send(ctx, []byte("pong from the initiator")); err != nil {
		t.Fatal(err)
	}
	// The responder closes the session once it has the reply.
	select {
	case <-s.Done():
	case <-ctx.Done():
		t.Fatal("the responder never closed the session")
	}
	netnstest.Signal("done", peer.String())
	if err := netnstest.WaitForParent(ctx); err != nil {
		t.Error(err)
	}
}

func TestNetnsChildResponder(t *testing.T) {
	netnstest.ChildOnly(t)
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	n := nsNode(t, "responder")
	pair := map[string]func(context.Context, string) (PeerID, error){
		"pin": n.PairEnterPin, "link": n.PairFromLink, "qr": n.PairScanQR,
	}[os.Getenv(envMethod)]
	peer, err := pair(ctx, os.Getenv(envPIN))
	if err != nil {
		t.Fatal(err)
	}
	s, err := n.Connect(ctx, peer)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ch, err := s.OpenChannel(ctx, "ns")
	if err != nil {
		t.Fatal(err)
	}
	if err := ch.Send(ctx, []byte("ping from the responder")); err != nil {
		t.Fatal(err)
	}
	msg, err := ch.Receive(ctx)
	if err != nil || string(msg) != "pong from the initiator" {
		t.Fatalf("Receive = %q, %v", msg, err)
	}
	t.Logf("paired by %s with %s and exchanged messages over %s", os.Getenv(envMethod), peer.Short(), os.Getenv(envMode))
}
