package pairing

import (
	"encoding/base64"
	"encoding/hex"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/mr-tron/base58"
)

// Link syntax (docs/PROTOCOL.md).
const (
	LinkScheme = "cairn"
	linkHost   = "pair"
	linkPrefix = LinkScheme + "://" + linkHost + "?"

	paramVersion = "v"
	paramPeer    = "peer"
	paramSlot    = "slot"
	paramExpires = "exp"
	paramAddr    = "addr"
	paramRelay   = "relay"
)

var fragmentEncoding = base64.RawURLEncoding.Strict()

// Link returns the payload as a link:
//
//	cairn://pair?v=1&peer=<PeerID>&slot=<hex>&exp=<unix>[&addr=<host:port>]...[&relay=<url>]#<secret+tag>
//
// The PeerID is in its usual base58 form, and the fragment is base64url
// (no padding) of secret [16] || tag [4]: the secret never appears outside
// the fragment, which clients do not send to servers. It fails with a
// [*PayloadError] if p is invalid or the link would exceed MaxEncodedSize.
func (p *Payload) Link() (string, error) {
	public, err := p.publicBytes()
	if err != nil {
		return "", err
	}
	tag := payloadTag(p.Secret, public)
	var sb strings.Builder
	sb.WriteString(linkPrefix)
	param := func(k, v string) {
		if k != paramVersion {
			sb.WriteByte('&')
		}
		sb.WriteString(k)
		sb.WriteByte('=')
		sb.WriteString(queryEscape(v))
	}
	param(paramVersion, strconv.Itoa(int(public[0])))
	param(paramPeer, base58.Encode(p.PeerID[:]))
	param(paramSlot, hex.EncodeToString(p.Slot[:]))
	param(paramExpires, strconv.FormatInt(p.Expires.Unix(), 10))
	for _, a := range p.Addrs {
		h, err := parseHint(a)
		if err != nil {
			return "", err
		}
		param(paramAddr, h.String())
	}
	if p.RelayURL != "" {
		param(paramRelay, p.RelayURL)
	}
	frag := make([]byte, 0, SecretSize+tagSize)
	frag = append(append(frag, p.Secret[:]...), tag[:]...)
	sb.WriteByte('#')
	sb.WriteString(fragmentEncoding.EncodeToString(frag))
	clear(frag)
	if sb.Len() > MaxEncodedSize {
		return "", payloadError(ErrTooLarge, "", "link over the size limit")
	}
	return sb.String(), nil
}

// queryEscape percent-encodes all but unreserved characters and ':', '/',
// '@', which RFC 3986 allows in a query, so addresses and URLs stay legible.
func queryEscape(s string) string {
	const hexDigits = "0123456789ABCDEF"
	var b strings.Builder
	for i := range len(s) {
		c := s[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("-._~:/@", c) >= 0 {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hexDigits[c>>4])
		b.WriteByte(hexDigits[c&15])
	}
	return b.String()
}

// ParseLink decodes a link made by [Payload.Link] and checks it at time
// now. Unknown or repeated parameters are rejected. Errors are
// [*PayloadError] values wrapping ErrTooLarge, ErrMalformed,
// ErrUnsupportedVersion, ErrTampered or ErrExpired.
func ParseLink(uri string, now time.Time) (*Payload, error) {
	if len(uri) > MaxEncodedSize {
		return nil, payloadError(ErrTooLarge, "", "link over the size limit")
	}
	u, err := url.Parse(uri)
	if err != nil {
		return nil, payloadError(ErrMalformed, "", "not a URI")
	}
	if u.Scheme != LinkScheme || !strings.EqualFold(u.Host, linkHost) || u.User != nil ||
		u.Opaque != "" || u.Path != "" {
		return nil, payloadError(ErrMalformed, "", "not a cairn://pair link")
	}
	q, err := url.ParseQuery(u.RawQuery)
	if err != nil {
		return nil, payloadError(ErrMalformed, "", "invalid query")
	}
	one := func(k string) (string, error) {
		switch vs := q[k]; len(vs) {
		case 0:
			return "", payloadError(ErrMalformed, k, "missing")
		case 1:
			return vs[0], nil
		}
		return "", payloadError(ErrMalformed, k, "repeated")
	}
	v, err := one(paramVersion)
	if err != nil {
		return nil, err
	}
	if v != strconv.Itoa(PayloadVersion) {
		return nil, payloadError(ErrUnsupportedVersion, "version", "")
	}
	for k := range q {
		switch k {
		case paramVersion, paramPeer, paramSlot, paramExpires, paramAddr, paramRelay:
		default:
			return nil, payloadError(ErrMalformed, "", "unknown parameter")
		}
	}
	p := &Payload{Version: PayloadVersion}

	peer, err := one(paramPeer)
	if err != nil {
		return nil, err
	}
	id, err := base58.Decode(peer)
	if err != nil || base58.Encode(id) != peer {
		return nil, payloadError(ErrMalformed, "peer", "invalid base58")
	}
	if err := checkPeerID(id); err != nil {
		return nil, err
	}
	copy(p.PeerID[:], id)

	slot, err := one(paramSlot)
	if err != nil {
		return nil, err
	}
	sb, err := hex.DecodeString(slot)
	if err != nil || len(sb) != PayloadSlotSize || hex.EncodeToString(sb) != slot {
		return nil, payloadError(ErrMalformed, "slot", "want 32 lower-case hex digits")
	}
	copy(p.Slot[:], sb)

	exp, err := one(paramExpires)
	if err != nil {
		return nil, err
	}
	es, err := strconv.ParseUint(exp, 10, 64)
	if err != nil || strconv.FormatUint(es, 10) != exp {
		return nil, payloadError(ErrMalformed, "expiry", "not a decimal number")
	}
	if p.Expires, err = expiresTime(es); err != nil {
		return nil, err
	}

	if len(q[paramAddr]) > MaxAddrs {
		return nil, payloadError(ErrTooLarge, "addr", "too many hints")
	}
	for _, a := range q[paramAddr] {
		h, err := parseHint(a)
		if err != nil {
			return nil, err
		}
		if h.String() != a {
			return nil, payloadError(ErrMalformed, "addr", "not in canonical form")
		}
		p.Addrs = append(p.Addrs, a)
	}
	if len(q[paramRelay]) > 0 {
		if p.RelayURL, err = one(paramRelay); err != nil {
			return nil, err
		}
		if p.RelayURL == "" {
			return nil, payloadError(ErrMalformed, "relay", "empty")
		}
	}

	frag, err := fragmentEncoding.DecodeString(u.Fragment)
	if err != nil || len(frag) != SecretSize+tagSize {
		return nil, payloadError(ErrMalformed, "secret", "fragment is not 20 bytes of base64url")
	}
	defer clear(frag)
	copy(p.Secret[:], frag)

	// The text was checked field by field; re-encoding it gives P, which the
	// tag covers, and validates the rest (relay URL, limits).
	public, err := p.publicBytes()
	if err != nil {
		return nil, err
	}
	if err := checkTagAndExpiry(p, public, frag[SecretSize:], now); err != nil {
		return nil, err
	}
	return p, nil
}
