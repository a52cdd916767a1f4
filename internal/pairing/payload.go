package pairing

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"math"
	"net"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Payload format constants (docs/PROTOCOL.md, "Pairing payloads").
const (
	// PayloadVersion is the payload format version this code writes.
	PayloadVersion = 1
	// PeerIDSize is the size of a PeerID multihash: 0x12 0x20 || SHA-256.
	PeerIDSize = 34
	// SecretSize is the size of a payload's secret (128 bits).
	SecretSize = 16
	// PayloadSlotSize is the size of a payload's rendezvous slot id.
	PayloadSlotSize = 16
	// MaxAddrs bounds the number of connection hints.
	MaxAddrs = 8
	// MaxHostLen bounds a hint's host name.
	MaxHostLen = 253
	// MaxRelayURLLen bounds the relay URL.
	MaxRelayURLLen = 255
	// MaxEncodedSize bounds a QR data string or link; longer input is
	// rejected before it is parsed.
	MaxEncodedSize = 2048

	tagSize        = 4
	payloadTagInfo = "cairn-pairing-payload-tag-v1"

	addrKindIPv4 = 0x04
	addrKindIPv6 = 0x06
	addrKindHost = 0x48 // 'H'

	multihashSHA256 = 0x12
	multihashLen32  = 0x20
)

// Payload is what a QR code or link carries from the initiator to the
// responder.
type Payload struct {
	// Version is the format version; 0 means [PayloadVersion] when
	// encoding. Decoders set it.
	Version int
	// PeerID is the initiator's PeerID in bytes: 0x12 0x20 || SHA-256(key).
	PeerID [PeerIDSize]byte
	// Secret is the 128-bit SPAKE2 password. Only the fragment of a link
	// carries it.
	Secret [SecretSize]byte
	// Slot names the rendezvous slot; it is random and independent of Secret.
	Slot [PayloadSlotSize]byte
	// Addrs are TCP connection hints, "host:port" (IPv6 in brackets), at
	// most MaxAddrs. Decoders return them in canonical form.
	Addrs []string
	// RelayURL is an optional relay (http, https, ws or wss URL).
	RelayURL string
	// Expires is when the payload stops being valid, to the second.
	Expires time.Time
}

// hint is a parsed connection hint.
type hint struct {
	ip   netip.Addr // valid for IPv4/IPv6 hints
	host string     // for host-name hints
	port uint16
}

func (h hint) String() string {
	if h.ip.IsValid() {
		return netip.AddrPortFrom(h.ip, h.port).String()
	}
	return net.JoinHostPort(h.host, strconv.Itoa(int(h.port)))
}

// parseHint parses "host:port". The host is an IP address without zone, or
// a DNS name; IPv4-mapped IPv6 addresses become IPv4.
func parseHint(s string) (hint, error) {
	host, portStr, err := net.SplitHostPort(s)
	if err != nil {
		return hint{}, payloadError(ErrMalformed, "addr", "not host:port")
	}
	port, err := strconv.ParseUint(portStr, 10, 16)
	if err != nil || port == 0 {
		return hint{}, payloadError(ErrMalformed, "addr", "invalid port")
	}
	if ip, err := netip.ParseAddr(host); err == nil {
		if ip.Zone() != "" {
			return hint{}, payloadError(ErrMalformed, "addr", "IPv6 zone not allowed")
		}
		return hint{ip: ip.Unmap(), port: uint16(port)}, nil
	}
	if err := checkHostName(host); err != nil {
		return hint{}, err
	}
	return hint{host: host, port: uint16(port)}, nil
}

// checkHostName accepts 1 to 253 characters of letters, digits, '-' and
// '.', not starting with '-' or '.', whose last label is not all digits (so
// that nothing resembling an IPv4 address, such as "10.0.0.07", is read as
// a name).
func checkHostName(h string) error {
	if len(h) > MaxHostLen {
		return payloadError(ErrTooLarge, "addr", "host name too long")
	}
	if h == "" || h[0] == '-' || h[0] == '.' {
		return payloadError(ErrMalformed, "addr", "invalid host name")
	}
	for i := range len(h) {
		c := h[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '.') {
			return payloadError(ErrMalformed, "addr", "invalid host name")
		}
	}
	last := h[strings.LastIndexByte(h, '.')+1:]
	if strings.Trim(last, "0123456789") == "" {
		return payloadError(ErrMalformed, "addr", "host name looks like an IP address")
	}
	return nil
}

// checkRelayURL accepts an absolute http, https, ws or wss URL of at most
// MaxRelayURLLen printable ASCII characters, with a host, no user info and
// no fragment.
func checkRelayURL(s string) error {
	if len(s) > MaxRelayURLLen {
		return payloadError(ErrTooLarge, "relay", "URL too long")
	}
	for i := range len(s) {
		if s[i] <= 0x20 || s[i] >= 0x7f || s[i] == '#' {
			return payloadError(ErrMalformed, "relay", "invalid character in URL")
		}
	}
	u, err := url.Parse(s)
	if err != nil {
		return payloadError(ErrMalformed, "relay", "invalid URL")
	}
	switch u.Scheme {
	case "http", "https", "ws", "wss":
	default:
		return payloadError(ErrMalformed, "relay", "URL scheme is not http, https, ws or wss")
	}
	if u.Host == "" || u.User != nil || u.Opaque != "" {
		return payloadError(ErrMalformed, "relay", "URL needs a host and no user info")
	}
	return nil
}

func checkPeerID(id []byte) error {
	if len(id) != PeerIDSize || id[0] != multihashSHA256 || id[1] != multihashLen32 {
		return payloadError(ErrMalformed, "peer", "not a SHA-256 multihash")
	}
	return nil
}

// expiresSeconds checks and converts an expiry.
func expiresSeconds(t time.Time) (uint64, error) {
	s := t.Unix()
	if s <= 0 {
		return 0, payloadError(ErrMalformed, "expiry", "not set")
	}
	return uint64(s), nil
}

func expiresTime(s uint64) (time.Time, error) {
	if s == 0 || s > math.MaxInt64 {
		return time.Time{}, payloadError(ErrMalformed, "expiry", "out of range")
	}
	return time.Unix(int64(s), 0), nil
}

// publicBytes validates p and returns its canonical public encoding P,
// everything but the secret (docs/PROTOCOL.md):
//
//	version u8 | peer [34] | slot [16] | expires u64be |
//	count u8 | count × hint | relay_len u8 | relay
//
// with hint = kind u8 (0x04: [4] IPv4, 0x06: [16] IPv6,
// 0x48: len u8 | host name) | port u16be.
func (p *Payload) publicBytes() ([]byte, error) {
	v := p.Version
	if v == 0 {
		v = PayloadVersion
	}
	if v != PayloadVersion {
		return nil, payloadError(ErrUnsupportedVersion, "version", fmt.Sprintf("cannot encode version %d", p.Version))
	}
	if err := checkPeerID(p.PeerID[:]); err != nil {
		return nil, err
	}
	exp, err := expiresSeconds(p.Expires)
	if err != nil {
		return nil, err
	}
	if len(p.Addrs) > MaxAddrs {
		return nil, payloadError(ErrTooLarge, "addr", fmt.Sprintf("%d hints, at most %d", len(p.Addrs), MaxAddrs))
	}
	if p.RelayURL != "" {
		if err := checkRelayURL(p.RelayURL); err != nil {
			return nil, err
		}
	}
	b := make([]byte, 0, 1+PeerIDSize+PayloadSlotSize+8+1+len(p.Addrs)*19+1+len(p.RelayURL))
	b = append(b, byte(v))
	b = append(b, p.PeerID[:]...)
	b = append(b, p.Slot[:]...)
	b = binary.BigEndian.AppendUint64(b, exp)
	b = append(b, byte(len(p.Addrs)))
	for _, a := range p.Addrs {
		h, err := parseHint(a)
		if err != nil {
			return nil, err
		}
		switch {
		case h.ip.Is4():
			ip := h.ip.As4()
			b = append(append(b, addrKindIPv4), ip[:]...)
		case h.ip.IsValid():
			ip := h.ip.As16()
			b = append(append(b, addrKindIPv6), ip[:]...)
		default:
			b = append(append(b, addrKindHost, byte(len(h.host))), h.host...)
		}
		b = binary.BigEndian.AppendUint16(b, h.port)
	}
	b = append(b, byte(len(p.RelayURL)))
	b = append(b, p.RelayURL...)
	return b, nil
}

// parsePublic decodes a canonical public encoding from the front of b and
// returns the rest. The version byte must already have been checked.
func parsePublic(b []byte) (*Payload, []byte, error) {
	r := reader{b: b}
	p := &Payload{Version: int(r.byte())}
	copy(p.PeerID[:], r.take(PeerIDSize))
	copy(p.Slot[:], r.take(PayloadSlotSize))
	exp := r.uint64()
	n := int(r.byte())
	if r.short {
		return nil, nil, payloadError(ErrMalformed, "", "truncated")
	}
	if err := checkPeerID(p.PeerID[:]); err != nil {
		return nil, nil, err
	}
	var err error
	if p.Expires, err = expiresTime(exp); err != nil {
		return nil, nil, err
	}
	if n > MaxAddrs {
		return nil, nil, payloadError(ErrTooLarge, "addr", fmt.Sprintf("%d hints, at most %d", n, MaxAddrs))
	}
	for range n {
		var h hint
		switch r.byte() {
		case addrKindIPv4:
			h.ip = netip.AddrFrom4([4]byte(r.take(4)))
		case addrKindIPv6:
			h.ip = netip.AddrFrom16([16]byte(r.take(16)))
			if h.ip.Is4In6() {
				return nil, nil, payloadError(ErrMalformed, "addr", "IPv4-mapped address in an IPv6 hint")
			}
		case addrKindHost:
			h.host = string(r.take(int(r.byte())))
			if !r.short {
				if err := checkHostName(h.host); err != nil {
					return nil, nil, err
				}
			}
		default:
			if r.short {
				break
			}
			return nil, nil, payloadError(ErrMalformed, "addr", "unknown hint kind")
		}
		h.port = r.uint16()
		if r.short {
			return nil, nil, payloadError(ErrMalformed, "", "truncated")
		}
		if h.port == 0 {
			return nil, nil, payloadError(ErrMalformed, "addr", "invalid port")
		}
		p.Addrs = append(p.Addrs, h.String())
	}
	p.RelayURL = string(r.take(int(r.byte())))
	if r.short {
		return nil, nil, payloadError(ErrMalformed, "", "truncated")
	}
	if p.RelayURL != "" {
		if err := checkRelayURL(p.RelayURL); err != nil {
			return nil, nil, err
		}
	}
	return p, r.b, nil
}

// payloadTag is the first 4 bytes of HMAC-SHA256(K, public), with
// K = HKDF-SHA256(ikm = secret, salt = empty, info = "cairn-pairing-payload-tag-v1", 32).
func payloadTag(secret [SecretSize]byte, public []byte) [tagSize]byte {
	k := derive(secret[:], nil, payloadTagInfo)
	m := hmac.New(sha256.New, k[:])
	clear(k[:])
	m.Write(public)
	return [tagSize]byte(m.Sum(nil))
}

// checkTagAndExpiry verifies the tag in constant time, then the expiry.
func checkTagAndExpiry(p *Payload, public []byte, tag []byte, now time.Time) error {
	want := payloadTag(p.Secret, public)
	if !hmac.Equal(want[:], tag) {
		return payloadError(ErrTampered, "", "")
	}
	if !now.Before(p.Expires) {
		return payloadError(ErrExpired, "", "")
	}
	return nil
}

// reader consumes bytes; a read past the end sets short and yields zeros.
type reader struct {
	b     []byte
	short bool
}

func (r *reader) take(n int) []byte {
	if n > len(r.b) {
		r.short = true
		r.b = nil
		return make([]byte, n)
	}
	out := r.b[:n]
	r.b = r.b[n:]
	return out
}

func (r *reader) byte() byte     { return r.take(1)[0] }
func (r *reader) uint16() uint16 { return binary.BigEndian.Uint16(r.take(2)) }
func (r *reader) uint64() uint64 { return binary.BigEndian.Uint64(r.take(8)) }
