package discovery

import (
	"bytes"
	"context"
	"errors"
	"net"
	"net/netip"
	"slices"
	"strings"
	"testing"
)

// These tests never reach the network: every call fails validation before
// a socket is opened, so they are safe on the host.

func TestAdvertiseRejectsBadInput(t *testing.T) {
	// A fake interface that is down: would be rejected if validation of
	// the service let the call get that far.
	down := Options{Interfaces: []net.Interface{{Index: 999, Name: "fake0"}}}
	good := Service{Type: PairServiceType, Instance: "cairn-0123", Port: 1234, Text: map[string]string{"s": "K7Q"}}
	tests := []struct {
		name string
		mod  func(*Service)
		want error
	}{
		{"type without underscore", func(s *Service) { s.Type = "cairn._tcp" }, ErrInvalidService},
		{"type bad proto", func(s *Service) { s.Type = "_cairn._sctp" }, ErrInvalidService},
		{"type too long", func(s *Service) { s.Type = "_" + strings.Repeat("a", 16) + "._tcp" }, ErrInvalidService},
		{"type digits only", func(s *Service) { s.Type = "_123._tcp" }, ErrInvalidService},
		{"type double hyphen", func(s *Service) { s.Type = "_a--b._tcp" }, ErrInvalidService},
		{"instance empty", func(s *Service) { s.Instance = "" }, ErrInvalidService},
		{"instance with dot", func(s *Service) { s.Instance = "a.b" }, ErrInvalidService},
		{"instance too long", func(s *Service) { s.Instance = strings.Repeat("a", 64) }, ErrInvalidService},
		{"port zero", func(s *Service) { s.Port = 0 }, ErrInvalidService},
		{"port too big", func(s *Service) { s.Port = 65536 }, ErrInvalidService},
		{"txt too long", func(s *Service) { s.Text = map[string]string{"s": strings.Repeat("x", 300)} }, ErrInvalidTXT},
		{"txt bad key", func(s *Service) { s.Text = map[string]string{"=": "x"} }, ErrInvalidTXT},
		{"interface down", func(*Service) {}, ErrNoInterfaces},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			svc := good
			tt.mod(&svc)
			adv, err := Advertise(t.Context(), svc, down)
			if !errors.Is(err, tt.want) {
				t.Fatalf("got %v, want %v", err, tt.want)
			}
			if adv != nil {
				t.Fatal("got an advertisement")
			}
		})
	}
	t.Run("cancelled context", func(t *testing.T) {
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		if _, err := Advertise(ctx, good, down); !errors.Is(err, context.Canceled) {
			t.Fatalf("got %v", err)
		}
	})
}

func TestBrowseRejectsBadInput(t *testing.T) {
	down := Options{Interfaces: []net.Interface{{Index: 999, Name: "fake0"}}}
	if err := Browse(t.Context(), "_x", down, func(Entry) bool { return true }); !errors.Is(err, ErrInvalidService) {
		t.Errorf("bad type: %v", err)
	}
	if err := Browse(t.Context(), PairServiceType, down, nil); err == nil {
		t.Error("nil found accepted")
	}
	if err := Browse(t.Context(), PairServiceType, down, func(Entry) bool { return true }); !errors.Is(err, ErrNoInterfaces) {
		t.Errorf("down interface: %v", err)
	}
}

func TestNewInstanceName(t *testing.T) {
	a, err := NewInstanceName(bytes.NewReader(make([]byte, 32)))
	if err != nil {
		t.Fatal(err)
	}
	if a != "cairn-00000000000000000000" {
		t.Fatalf("got %q", a)
	}
	b, err := NewInstanceName(nil)
	if err != nil || validateInstance(b) != nil || b == a {
		t.Fatalf("random name %q: %v", b, err)
	}
	if _, err := NewInstanceName(bytes.NewReader(nil)); err == nil {
		t.Fatal("short reader accepted")
	}
}

func TestEntryAddrs(t *testing.T) {
	ips := []net.IP{
		net.ParseIP("10.0.0.1"), net.ParseIP("10.0.0.1"), // duplicate
		net.ParseIP("fe80::1"), net.ParseIP("2001:db8::1"),
		net.ParseIP("::"), net.ParseIP("224.0.0.251"), {1, 2, 3}, // invalid ones
		net.ParseIP("127.0.0.1"), net.ParseIP("::1"), // loopback: only when browsing loopback
	}
	got := entryAddrs(ips, 80, "", false)
	want := []netip.AddrPort{netip.MustParseAddrPort("10.0.0.1:80"), netip.MustParseAddrPort("[2001:db8::1]:80")}
	if !slices.Equal(got, want) {
		t.Fatalf("no zone: got %v, want %v", got, want)
	}
	if got := entryAddrs(ips, 80, "lo", true); !slices.Contains(got, netip.MustParseAddrPort("127.0.0.1:80")) {
		t.Fatalf("browsing loopback: got %v", got)
	}
	got = entryAddrs(ips, 80, "eth0", false)
	if !slices.Contains(got, netip.MustParseAddrPort("[fe80::1%eth0]:80")) {
		t.Fatalf("with zone: got %v", got)
	}
	many := make([]net.IP, 100)
	for i := range many {
		many[i] = net.IPv4(10, 0, 1, byte(i))
	}
	if got := entryAddrs(many, 80, "", false); len(got) != maxAddrsPerEntry {
		t.Fatalf("got %d addrs, want the cap %d", len(got), maxAddrsPerEntry)
	}
}
