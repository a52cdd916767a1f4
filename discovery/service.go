package discovery

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"net/netip"
	"strings"
)

// Service types cairn uses.
const (
	// PairServiceType is advertised by an initiator waiting to be paired.
	// Its TXT key "s" holds the public pairing slot (at most the first 3
	// PIN symbols, or a hex slot id).
	PairServiceType = "_cairn-pair._tcp"
	// PeerServiceType is advertised by a node reachable by its paired
	// peers. Its TXT key "r" holds prefixes of current rendezvous ids.
	PeerServiceType = "_cairn._tcp"
)

// Service describes one DNS-SD service instance to advertise.
type Service struct {
	// Type is the service type, "_name._tcp" or "_name._udp" (RFC 6763
	// section 7), e.g. PairServiceType.
	Type string
	// Instance is the instance name: 1 to MaxInstanceLen letters, digits
	// and '-'. It must not identify the device or its PeerID; use
	// NewInstanceName.
	Instance string
	// Port is the TCP or UDP port of the service, 1 to 65535.
	Port int
	// Text holds the TXT record's key/value pairs (see EncodeTXT).
	Text map[string]string
	// IPs are the addresses to advertise. If empty, the addresses of the
	// chosen interfaces are used (IPv4, and IPv6 other than link-local).
	IPs []net.IP
}

// Entry is a service instance found by Browse.
type Entry struct {
	// Instance is the instance name, as advertised.
	Instance string
	// Addrs are the advertised addresses with the service port. IPv6
	// link-local addresses carry a zone only when Browse used exactly one
	// interface; otherwise they are left out.
	Addrs []netip.AddrPort
	// Text is the decoded TXT record, keys in lower case.
	Text map[string]string
}

// NewInstanceName returns a random instance name, "cairn-" and 20 hex
// digits, read from r (crypto/rand if nil). It reveals nothing about the
// device.
func NewInstanceName(r io.Reader) (string, error) {
	if r == nil {
		r = rand.Reader
	}
	var b [instanceBytes]byte
	if _, err := io.ReadFull(r, b[:]); err != nil {
		return "", fmt.Errorf("failed to read random bytes: %w", err)
	}
	return "cairn-" + hex.EncodeToString(b[:]), nil
}

// validateServiceType checks "_name._tcp"/"_name._udp" with an RFC 6335
// service name: 1-15 letters, digits and '-', at least one letter, no
// leading, trailing or doubled '-'.
func validateServiceType(t string) error {
	name, proto, ok := strings.Cut(t, ".")
	if !ok || (proto != "_tcp" && proto != "_udp") {
		return fmt.Errorf("%w: service type %q: want _name._tcp or _name._udp", ErrInvalidService, t)
	}
	name, ok = strings.CutPrefix(name, "_")
	if !ok || len(name) < 1 || len(name) > 15 ||
		name[0] == '-' || name[len(name)-1] == '-' || strings.Contains(name, "--") {
		return fmt.Errorf("%w: service type %q: bad service name", ErrInvalidService, t)
	}
	letter := false
	for i := 0; i < len(name); i++ {
		c := name[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z':
			letter = true
		case c >= '0' && c <= '9', c == '-':
		default:
			return fmt.Errorf("%w: service type %q: bad character in service name", ErrInvalidService, t)
		}
	}
	if !letter {
		return fmt.Errorf("%w: service type %q: service name needs a letter", ErrInvalidService, t)
	}
	return nil
}

// validateInstance accepts 1..MaxInstanceLen letters, digits and '-'. This
// is stricter than DNS-SD allows, because the mDNS library does not escape
// instance names.
func validateInstance(s string) error {
	if len(s) < 1 || len(s) > MaxInstanceLen {
		return fmt.Errorf("%w: instance name must be 1 to %d bytes", ErrInvalidService, MaxInstanceLen)
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-') {
			return fmt.Errorf("%w: instance name %q: only letters, digits and '-'", ErrInvalidService, s)
		}
	}
	return nil
}

// validateService checks everything but the IPs; it returns the escaped TXT
// strings for the mDNS library.
func validateService(svc Service) ([]string, error) {
	if err := validateServiceType(svc.Type); err != nil {
		return nil, err
	}
	if err := validateInstance(svc.Instance); err != nil {
		return nil, err
	}
	if svc.Port < 1 || svc.Port > 65535 {
		return nil, fmt.Errorf("%w: port %d out of range", ErrInvalidService, svc.Port)
	}
	txt, err := encodeTXTRecord(svc.Text)
	if err != nil {
		return nil, fmt.Errorf("failed to encode the TXT record: %w", err)
	}
	return txt, nil
}
