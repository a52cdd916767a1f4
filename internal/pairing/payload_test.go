package pairing

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	qrcode "github.com/skip2/go-qrcode"
)

var testNow = time.Unix(1_750_000_000, 0)

func testPeerID() [PeerIDSize]byte {
	var id [PeerIDSize]byte
	id[0], id[1] = multihashSHA256, multihashLen32
	h := sha256.Sum256([]byte("test public key"))
	copy(id[2:], h[:])
	return id
}

func testPayload() *Payload {
	p := &Payload{
		PeerID:   testPeerID(),
		Addrs:    []string{"192.168.1.20:41234", "10.0.0.7:41234", "[2001:db8::1]:41234", "relay-box.lan:9000"},
		RelayURL: "https://relay.example.org/cairn",
		Expires:  testNow.Add(5 * time.Minute),
	}
	for i := range p.Secret {
		p.Secret[i] = byte(0xa0 + i)
		p.Slot[i] = byte(i * 3)
	}
	return p
}

// big4 is the sizing case of the brief: 4 IPv4 hints and a 60-character
// relay URL.
func big4() *Payload {
	p := testPayload()
	p.Addrs = []string{"192.168.100.200:65535", "172.16.254.254:65535", "10.255.255.255:65535", "100.64.123.45:65535"}
	p.RelayURL = "wss://relay.cairn-example-domain.org:8443/cairn/v1/rendezvou"
	return p
}

func samePayload(t *testing.T, got, want *Payload) {
	t.Helper()
	if got.Version != PayloadVersion || got.PeerID != want.PeerID || got.Secret != want.Secret ||
		got.Slot != want.Slot || !slices.Equal(got.Addrs, want.Addrs) || got.RelayURL != want.RelayURL ||
		!got.Expires.Equal(want.Expires) {
		t.Fatalf("decoded %+v\nwant    %+v", got, want)
	}
}

func TestQRRoundTrip(t *testing.T) {
	t.Parallel()
	for name, p := range map[string]*Payload{
		"full":    testPayload(),
		"big4":    big4(),
		"minimal": {PeerID: testPeerID(), Expires: testNow.Add(time.Minute)},
	} {
		s, err := p.QRData()
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if !strings.HasPrefix(s, QRPrefix) {
			t.Fatalf("%s: %q lacks the prefix", name, s)
		}
		for _, c := range []byte(s) {
			if strings.IndexByte(base45Alphabet, c) < 0 {
				t.Fatalf("%s: %q is not QR alphanumeric", name, c)
			}
		}
		got, err := ParseQRData(s, testNow)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		samePayload(t, got, p)
	}
}

func TestLinkRoundTrip(t *testing.T) {
	t.Parallel()
	p := testPayload()
	l, err := p.Link()
	if err != nil {
		t.Fatal(err)
	}
	t.Log(l)
	got, err := ParseLink(l, testNow)
	if err != nil {
		t.Fatal(err)
	}
	samePayload(t, got, p)

	// The secret is only in the fragment, never before '#'.
	before, frag, ok := strings.Cut(l, "#")
	if !ok || len(frag) != 27 {
		t.Fatalf("fragment %q", frag)
	}
	if strings.Contains(before, fragmentEncoding.EncodeToString(p.Secret[:])[:20]) ||
		bytes.Contains([]byte(before), p.Secret[:]) || strings.Contains(strings.ToLower(before), "a0a1a2a3") {
		t.Fatal("the secret appears outside the fragment")
	}
	if !strings.HasPrefix(l, "cairn://pair?v=1&peer=Qm") {
		t.Fatalf("link %q", l)
	}
	// Without the fragment the link is useless.
	if _, err := ParseLink(before, testNow); !errors.Is(err, ErrMalformed) {
		t.Fatalf("link without fragment: %v", err)
	}
}

func TestHintCanonicalisation(t *testing.T) {
	t.Parallel()
	p := testPayload()
	p.Addrs = []string{"[::ffff:192.0.2.1]:80", "[2001:DB8:0:0::1]:443", "192.0.2.9:0080"}
	s, err := p.QRData()
	if err != nil {
		t.Fatal(err)
	}
	got, err := ParseQRData(s, testNow)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"192.0.2.1:80", "[2001:db8::1]:443", "192.0.2.9:80"}
	if !slices.Equal(got.Addrs, want) {
		t.Fatalf("addrs %q, want %q", got.Addrs, want)
	}
	for _, bad := range []string{"192.0.2.1", "192.0.2.1:0", "192.0.2.1:65536", "[fe80::1%eth0]:80", "bad_host:80",
		"-x:80", ":80", "10.0.0.07:80", "1.2.3.:80", "host.:80", "1.2.3.4:http", strings.Repeat("a", 254) + ":1"} {
		p.Addrs = []string{bad}
		if _, err := p.QRData(); !errors.Is(err, ErrMalformed) && !errors.Is(err, ErrTooLarge) {
			t.Errorf("hint %q: %v", bad, err)
		}
	}
}

func TestEncodeErrors(t *testing.T) {
	t.Parallel()
	for name, mut := range map[string]func(*Payload){
		"version":     func(p *Payload) { p.Version = 2 },
		"peer":        func(p *Payload) { p.PeerID[0] = 0 },
		"no expiry":   func(p *Payload) { p.Expires = time.Time{} },
		"many addrs":  func(p *Payload) { p.Addrs = slices.Repeat([]string{"1.2.3.4:5"}, MaxAddrs+1) },
		"relay":       func(p *Payload) { p.RelayURL = "ftp://x" },
		"relay user":  func(p *Payload) { p.RelayURL = "https://u:p@x" },
		"relay space": func(p *Payload) { p.RelayURL = "https://x/a b" },
		"relay frag":  func(p *Payload) { p.RelayURL = "https://x/#a" },
		"relay long":  func(p *Payload) { p.RelayURL = "https://x/" + strings.Repeat("a", 250) },
		"relay path":  func(p *Payload) { p.RelayURL = "/relative" },
	} {
		p := testPayload()
		mut(p)
		_, err1 := p.QRData()
		_, err2 := p.Link()
		var pe *PayloadError
		if !errors.As(err1, &pe) || !errors.As(err2, &pe) {
			t.Errorf("%s: QRData %v, Link %v", name, err1, err2)
		}
	}
	// The largest valid payload may not fit the encoded-size limit.
	p := testPayload()
	p.Addrs = slices.Repeat([]string{strings.Repeat("h", MaxHostLen) + ":1"}, MaxAddrs)
	if _, err := p.QRData(); !errors.Is(err, ErrTooLarge) {
		t.Errorf("oversized QR: %v", err)
	}
	if _, err := p.Link(); !errors.Is(err, ErrTooLarge) {
		t.Errorf("oversized link: %v", err)
	}
}

func TestParseErrors(t *testing.T) {
	t.Parallel()
	p := testPayload()
	qr, err := p.QRData()
	if err != nil {
		t.Fatal(err)
	}
	link, err := p.Link()
	if err != nil {
		t.Fatal(err)
	}
	bin, err := base45Decode(strings.TrimPrefix(qr, QRPrefix))
	if err != nil {
		t.Fatal(err)
	}
	withBin := func(f func([]byte) []byte) string {
		return QRPrefix + base45Encode(f(append([]byte(nil), bin...)))
	}
	qrCases := []struct {
		name string
		in   string
		now  time.Time
		want error
	}{
		{"expired", qr, p.Expires, ErrExpired},
		{"long expired", qr, p.Expires.Add(time.Hour), ErrExpired},
		{"too large", QRPrefix + strings.Repeat("0", MaxEncodedSize), testNow, ErrTooLarge},
		{"no prefix", strings.TrimPrefix(qr, QRPrefix), testNow, ErrMalformed},
		{"lower-case prefix", "cairn:" + strings.TrimPrefix(qr, QRPrefix), testNow, ErrMalformed},
		{"bad base45", qr + "a", testNow, ErrMalformed},
		{"dangling base45", qr + "0", testNow, ErrMalformed},
		{"base45 overflow", QRPrefix + "GGW", testNow, ErrMalformed},
		{"empty", QRPrefix, testNow, ErrMalformed},
		{"truncated", withBin(func(b []byte) []byte { return b[:len(b)-1] }), testNow, ErrMalformed},
		{"truncated header", withBin(func(b []byte) []byte { return b[:40] }), testNow, ErrMalformed},
		{"extra byte", withBin(func(b []byte) []byte { return append(b, 0) }), testNow, ErrMalformed},
		{"version 2", withBin(func(b []byte) []byte { b[0] = 2; return b }), testNow, ErrUnsupportedVersion},
		{"version 0", withBin(func(b []byte) []byte { b[0] = 0; return b }), testNow, ErrUnsupportedVersion},
		{"tampered expiry", withBin(func(b []byte) []byte { b[58] ^= 1; return b }), testNow, ErrTampered},
		{"tampered slot", withBin(func(b []byte) []byte { b[40] ^= 1; return b }), testNow, ErrTampered},
		{"tampered secret", withBin(func(b []byte) []byte { b[len(b)-5] ^= 1; return b }), testNow, ErrTampered},
		{"tampered tag", withBin(func(b []byte) []byte { b[len(b)-1] ^= 1; return b }), testNow, ErrTampered},
		{"bad peer", withBin(func(b []byte) []byte { b[1] = 0x13; return b }), testNow, ErrMalformed},
		{"hint kind", withBin(func(b []byte) []byte { b[60] = 0x05; return b }), testNow, ErrMalformed},
		{"too many hints", withBin(func(b []byte) []byte { b[59] = MaxAddrs + 1; return b }), testNow, ErrTooLarge},
	}
	for _, tc := range qrCases {
		_, err := ParseQRData(tc.in, tc.now)
		var pe *PayloadError
		if !errors.Is(err, tc.want) || !errors.As(err, &pe) {
			t.Errorf("QR %s: %v, want %v", tc.name, err, tc.want)
		}
	}

	before, frag, _ := strings.Cut(link, "#")
	linkCases := []struct {
		name string
		in   string
		now  time.Time
		want error
	}{
		{"expired", link, p.Expires.Add(time.Second), ErrExpired},
		{"too large", link + strings.Repeat("A", MaxEncodedSize), testNow, ErrTooLarge},
		{"scheme", strings.Replace(link, "cairn://", "https://", 1), testNow, ErrMalformed},
		{"host", strings.Replace(link, "://pair?", "://pear?", 1), testNow, ErrMalformed},
		{"path", strings.Replace(link, "://pair?", "://pair/?", 1), testNow, ErrMalformed},
		{"version 2", strings.Replace(link, "v=1", "v=2", 1), testNow, ErrUnsupportedVersion},
		{"version 01", strings.Replace(link, "v=1", "v=01", 1), testNow, ErrUnsupportedVersion},
		{"no version", strings.Replace(link, "v=1&", "", 1), testNow, ErrMalformed},
		{"unknown param", strings.Replace(link, "v=1", "v=1&x=2", 1), testNow, ErrMalformed},
		{"repeated slot", strings.Replace(link, "&slot=", "&slot=00&slot=", 1), testNow, ErrMalformed},
		{"upper-case slot", strings.Replace(link, "&slot=0003", "&slot=0003", 1)[:0] + upperSlot(link), testNow, ErrMalformed},
		{"short slot", strings.Replace(link, "&slot=00", "&slot=", 1), testNow, ErrMalformed},
		{"exp leading zero", strings.Replace(link, "&exp=", "&exp=0", 1), testNow, ErrMalformed},
		{"exp negative", strings.Replace(link, "&exp=", "&exp=-", 1), testNow, ErrMalformed},
		{"bad peer", strings.Replace(link, "peer=Qm", "peer=Qn", 1), testNow, ErrMalformed},
		{"peer with 0", strings.Replace(link, "peer=Qm", "peer=0m", 1), testNow, ErrMalformed},
		{"non-canonical addr", strings.Replace(link, "10.0.0.7:41234", "10.0.0.07:41234", 1), testNow, ErrMalformed},
		{"semicolon", strings.Replace(link, "&slot", ";slot", 1), testNow, ErrMalformed},
		{"no fragment", before, testNow, ErrMalformed},
		{"short fragment", before + "#" + frag[:26], testNow, ErrMalformed},
		{"padded fragment", before + "#" + frag + "=", testNow, ErrMalformed},
		{"tampered addr", strings.Replace(link, "10.0.0.7:41234", "10.0.0.8:41234", 1), testNow, ErrTampered},
		{"dropped addr", strings.Replace(link, "&addr=10.0.0.7:41234", "", 1), testNow, ErrTampered},
		{"swapped addrs", swapAddrs(link), testNow, ErrTampered},
		{"tampered relay", strings.Replace(link, "relay.example.org", "relay.example.com", 1), testNow, ErrTampered},
		{"dropped relay", strings.Replace(link, "&relay=https://relay.example.org/cairn", "", 1), testNow, ErrTampered},
		{"tampered exp", strings.Replace(link, "&exp=1750000300", "&exp=1750000301", 1), testNow, ErrTampered},
		{"tampered secret", before + "#B" + frag[1:], testNow, ErrTampered},
	}
	for _, tc := range linkCases {
		if tc.in == link && tc.want != ErrExpired {
			t.Fatalf("link %s: the mutation did not apply", tc.name)
		}
		_, err := ParseLink(tc.in, tc.now)
		var pe *PayloadError
		if !errors.Is(err, tc.want) || !errors.As(err, &pe) {
			t.Errorf("link %s: %v, want %v", tc.name, err, tc.want)
		}
		if err != nil && strings.Contains(err.Error(), frag[:8]) {
			t.Errorf("link %s: error shows the fragment", tc.name)
		}
	}
}

func upperSlot(link string) string {
	i := strings.Index(link, "&slot=") + len("&slot=")
	return link[:i] + strings.ToUpper(link[i:i+32]) + link[i+32:]
}

func swapAddrs(link string) string {
	a, b := "192.168.1.20:41234", "10.0.0.7:41234"
	return strings.Replace(strings.Replace(strings.Replace(link, a, "@@", 1), b, a, 1), "@@", b, 1)
}

// TestBitFlips flips every bit of the binary QR payload: each flip is
// rejected (almost always as tampered; a flip may also break the syntax).
func TestBitFlips(t *testing.T) {
	t.Parallel()
	s, err := testPayload().QRData()
	if err != nil {
		t.Fatal(err)
	}
	bin, _ := base45Decode(strings.TrimPrefix(s, QRPrefix))
	for i := range len(bin) * 8 {
		b := append([]byte(nil), bin...)
		b[i/8] ^= 1 << (i % 8)
		if _, err := ParseQRData(QRPrefix+base45Encode(b), testNow); err == nil {
			t.Fatalf("bit %d flipped: accepted", i)
		}
	}
}

// TestQRFits renders the sizing payload (4 IPv4 hints, a 60-character relay
// URL) at error correction level M, checks it needs QR version 10 or less,
// and scans the PNG back with independent decoders (gozxing and zbarimg).
func TestQRFits(t *testing.T) {
	t.Parallel()
	if n := len(big4().RelayURL); n != 60 {
		t.Fatalf("relay URL has %d characters", n)
	}
	mixed := big4()
	mixed.Addrs[2], mixed.Addrs[3] = "[2001:db8:1234:5678:9abc:def0:1234:5678]:65535", "[fd00::1]:1"
	for name, p := range map[string]*Payload{"big4": big4(), "full": testPayload(), "mixed": mixed} {
		s, err := p.QRData()
		if err != nil {
			t.Fatal(err)
		}
		q, err := qrcode.New(s, qrcode.Medium)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("%s: %d characters, QR version %d-M", name, len(s), q.VersionNumber)
		if !strings.Contains(s, " ") {
			t.Logf("%s: no space inside the data; scanners are not tested on one", name)
		}
		if q.VersionNumber > 10 {
			t.Errorf("%s: needs QR version %d, want <= 10", name, q.VersionNumber)
		}
		img, err := q.PNG(-4)
		if err != nil {
			t.Fatal(err)
		}
		for scanner, scan := range map[string]func(*testing.T, []byte) string{"gozxing": scanGozxing, "zbarimg": scanZbar} {
			t.Run(name+"/"+scanner, func(t *testing.T) {
				got, err := ParseQRData(scan(t, img), testNow)
				if err != nil {
					t.Fatal(err)
				}
				samePayload(t, got, p)
			})
		}
	}
}

func TestBase45(t *testing.T) {
	t.Parallel()
	// RFC 9285 section 4.3 examples.
	for in, want := range map[string]string{"AB": "BB8", "Hello!!": "%69 VD92EX0", "base-45": "UJCLQE7W581", "ietf!": "QED8WEX0"} {
		if got := base45Encode([]byte(in)); got != want {
			t.Errorf("base45(%q) = %q, want %q", in, got, want)
		}
		if got, err := base45Decode(want); err != nil || string(got) != in {
			t.Errorf("decode(%q) = %q, %v", want, got, err)
		}
	}
	// A group's last digit is at most 65535/2025 = 32 ('W') and a final
	// pair's at most 255/45 = 5, so base45 text never ends in a space, which
	// some scanners and clipboards would trim.
	for i := range 1 << 16 {
		b := []byte{byte(i >> 8), byte(i), byte(i)}
		if strings.HasSuffix(base45Encode(b), " ") || strings.HasSuffix(base45Encode(b[:2]), " ") {
			t.Fatalf("base45(%x) ends in a space", b)
		}
	}
	for _, bad := range []string{"GGW", "A", "ABCD", "ab", ":::", "0\x00"} {
		if _, err := base45Decode(bad); err == nil {
			t.Errorf("decode(%q) accepted", bad)
		}
	}
}

// TestPayloadVector pins the worked example of docs/PROTOCOL.md ("Pairing
// payloads", "Example").
func TestPayloadVector(t *testing.T) {
	t.Parallel()
	now := time.Unix(1_750_000_000, 0)
	p := &Payload{
		PeerID:   [PeerIDSize]byte{0x12, 0x20},
		Addrs:    []string{"192.168.1.20:41234", "[2001:db8::1]:41234"},
		RelayURL: "https://relay.example.org",
		Expires:  now.Add(5 * time.Minute),
	}
	copy(p.Secret[:], "0123456789abcdef")
	copy(p.Slot[:], "fedcba9876543210")
	const (
		wantP = "0112200000000000000000000000000000000000000000000000000000000000000000" +
			"66656463626139383736353433323130" + "00000000684ee2ac" + "02" +
			"04c0a80114a112" + "0620010db8000000000000000000000001a112" +
			"19" + "68747470733a2f2f72656c61792e6578616d706c652e6f7267"
		wantTag  = "1a1a1767"
		wantQR   = "CAIRN:460224000000000000000000000000000000000000000000000C20  CHPC4DC 47H%6/Q6OF6336000E20Y/9OXL1R0YALGR2OC23242X1000000000000000100EGKO93MWEW9E0G7-:5: CNEC.%5$9FQ$DTVD7*5$KE746QF60R6J%6%470ECJPC% CMD36/2"
		wantLink = "cairn://pair?v=1&peer=QmNLei78zWmzUdbeRB3CiUfAizWUrbeeZh5K1rhAQKCh51&slot=66656463626139383736353433323130" +
			"&exp=1750000300&addr=192.168.1.20:41234&addr=%5B2001:db8::1%5D:41234&relay=https://relay.example.org" +
			"#MDEyMzQ1Njc4OWFiY2RlZhoaF2c"
	)
	public, err := p.publicBytes()
	if err != nil {
		t.Fatal(err)
	}
	if got := hex.EncodeToString(public); got != wantP {
		t.Errorf("P = %s\nwant %s", got, wantP)
	}
	tag := payloadTag(p.Secret, public)
	if got := hex.EncodeToString(tag[:]); got != wantTag {
		t.Errorf("tag = %s, want %s", got, wantTag)
	}
	// Independent tag computation from the spec.
	k := refHKDF(p.Secret[:], nil, "cairn-pairing-payload-tag-v1", 32)
	m := hmac.New(sha256.New, k)
	m.Write(public)
	if !bytes.Equal(m.Sum(nil)[:4], tag[:]) {
		t.Error("tag differs from HMAC-SHA256(HKDF(secret), P)[:4]")
	}
	if qr, err := p.QRData(); err != nil || qr != wantQR {
		t.Errorf("QRData = %q, %v\nwant %q", qr, err, wantQR)
	}
	if l, err := p.Link(); err != nil || l != wantLink {
		t.Errorf("Link = %q, %v\nwant %q", l, err, wantLink)
	}
	for _, f := range []func() (*Payload, error){
		func() (*Payload, error) { return ParseQRData(wantQR, now) },
		func() (*Payload, error) { return ParseLink(wantLink, now) },
	} {
		got, err := f()
		if err != nil {
			t.Fatal(err)
		}
		samePayload(t, got, p)
	}
}
