package pairing

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// payloadSentinels are the errors the payload decoders document.
var payloadSentinels = []error{ErrMalformed, ErrTooLarge, ErrUnsupportedVersion, ErrTampered, ErrExpired}

func checkPayloadError(t *testing.T, err error) {
	t.Helper()
	var pe *PayloadError
	if !errors.As(err, &pe) {
		t.Fatalf("error %T %v is not a *PayloadError", err, err)
	}
	for _, s := range payloadSentinels {
		if errors.Is(err, s) {
			return
		}
	}
	t.Fatalf("error %v wraps no documented sentinel", err)
}

func requireSeeds(f *testing.F, name string) {
	seeds, _ := filepath.Glob(filepath.Join("testdata", "fuzz", name, "*"))
	if len(seeds) == 0 {
		f.Fatalf("no seed corpus in testdata/fuzz/%s", name)
	}
}

func equalPayload(a, b *Payload) bool {
	return a.Version == b.Version && a.PeerID == b.PeerID && a.Secret == b.Secret && a.Slot == b.Slot &&
		slices.Equal(a.Addrs, b.Addrs) && a.RelayURL == b.RelayURL && a.Expires.Equal(b.Expires)
}

// FuzzParsePIN: no panic; errors are *PINError wrapping ErrInvalidPIN with
// a position inside the input; an accepted PIN is 8 alphabet symbols and
// parses back to itself from String and from Password.
func FuzzParsePIN(f *testing.F) {
	requireSeeds(f, "FuzzParsePIN")
	for _, s := range []string{"A1B2-C3D4", "a1b2c3d4", "O0IL-1111", "ZZZZ-ZZZU", "", "ÄÄÄÄ-ÄÄÄÄ"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, err := ParsePIN(s)
		if err != nil {
			var pe *PINError
			if !errors.As(err, &pe) || !errors.Is(err, ErrInvalidPIN) || !p.IsZero() {
				t.Fatalf("bad error %v", err)
			}
			if pe.Pos < 0 || pe.Pos > len(s) {
				t.Fatalf("position %d outside the input", pe.Pos)
			}
			return
		}
		pw := p.Password()
		if len(pw) != PINLength || strings.Trim(string(pw), pinAlphabet) != "" {
			t.Fatalf("accepted %q as %q", s, pw)
		}
		for _, again := range []string{p.String(), string(pw)} {
			q, err := ParsePIN(again)
			if err != nil || q != p {
				t.Fatalf("ParsePIN(%q) = %v, %v; want %v", again, q, err, p)
			}
		}
	})
}

// FuzzParseQRData checks arbitrary QR strings, and, to get past the tag,
// arbitrary binary bodies that the harness tags correctly. Properties: no
// panic; documented errors only; a correctly tagged body is never reported
// as tampered; an accepted string re-encodes to exactly itself.
func FuzzParseQRData(f *testing.F) {
	requireSeeds(f, "FuzzParseQRData")
	s, _ := testPayload().QRData()
	b, _ := base45Decode(strings.TrimPrefix(s, QRPrefix))
	f.Add(s, b[:len(b)-tagSize], testNow.Unix())
	f.Add("CAIRN:", []byte{1}, int64(0))
	f.Fuzz(func(t *testing.T, s string, body []byte, now int64) {
		at := time.Unix(now, 0)
		check := func(s string, tagged bool) {
			p, err := ParseQRData(s, at)
			if err != nil {
				checkPayloadError(t, err)
				if tagged && errors.Is(err, ErrTampered) {
					t.Fatalf("correctly tagged body reported as tampered: %v", err)
				}
				return
			}
			again, err := p.QRData()
			if err != nil {
				t.Fatalf("accepted payload does not re-encode: %v", err)
			}
			if again != s {
				t.Fatalf("re-encoding differs:\n%q\n%q", s, again)
			}
			if !at.Before(p.Expires) {
				t.Fatal("accepted an expired payload")
			}
		}
		check(s, false)
		if len(body) >= SecretSize {
			public := body[:len(body)-SecretSize]
			tag := payloadTag([SecretSize]byte(body[len(public):]), public)
			check(QRPrefix+base45Encode(append(append([]byte(nil), body...), tag[:]...)), true)
		}
	})
}

// FuzzParseLink: no panic; documented errors only; an accepted link
// re-encodes to a link that decodes to the same payload, and re-encoding is
// then stable.
func FuzzParseLink(f *testing.F) {
	requireSeeds(f, "FuzzParseLink")
	l, _ := testPayload().Link()
	f.Add(l, testNow.Unix())
	f.Add("cairn://pair?v=1#", int64(0))
	f.Fuzz(func(t *testing.T, s string, now int64) {
		at := time.Unix(now, 0)
		p, err := ParseLink(s, at)
		if err != nil {
			checkPayloadError(t, err)
			return
		}
		if !at.Before(p.Expires) {
			t.Fatal("accepted an expired payload")
		}
		again, err := p.Link()
		if err != nil {
			t.Fatalf("accepted payload does not re-encode: %v", err)
		}
		q, err := ParseLink(again, at)
		if err != nil || !equalPayload(p, q) {
			t.Fatalf("round trip: %v\n%+v\n%+v", err, p, q)
		}
		if third, _ := q.Link(); third != again {
			t.Fatalf("re-encoding is not stable:\n%s\n%s", again, third)
		}
	})
}

// TestWriteFuzzSeeds rewrites the checked-in seed corpora when
// CAIRN_UPDATE_SEEDS is set.
func TestWriteFuzzSeeds(t *testing.T) {
	if os.Getenv("CAIRN_UPDATE_SEEDS") == "" {
		t.Skip("set CAIRN_UPDATE_SEEDS=1 to rewrite testdata/fuzz")
	}
	write := func(target, name string, args ...string) {
		dir := filepath.Join("testdata", "fuzz", target)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		data := "go test fuzz v1\n" + strings.Join(args, "\n") + "\n"
		if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	str := func(s string) string { return "string(" + strconv.Quote(s) + ")" }
	byt := func(b []byte) string { return "[]byte(" + strconv.Quote(string(b)) + ")" }
	i64 := func(n int64) string { return "int64(" + strconv.FormatInt(n, 10) + ")" }

	for i, s := range []string{"A1B2-C3D4", "a1b2 c3d4", "O0IL-l1i1", "ZZZZ-ZZZU", "A1B2-C3D", "A1B2-C3D45", "", "A1B2-C3DÄ", "----------"} {
		write("FuzzParsePIN", "seed"+strconv.Itoa(i), str(s))
	}
	now := testNow.Unix()
	payloads := []*Payload{testPayload(), big4(), {PeerID: testPeerID(), Expires: testNow.Add(time.Minute)}}
	for i, p := range payloads {
		s, err := p.QRData()
		if err != nil {
			t.Fatal(err)
		}
		b, _ := base45Decode(strings.TrimPrefix(s, QRPrefix))
		write("FuzzParseQRData", "valid"+strconv.Itoa(i), str(s), byt(b[:len(b)-tagSize]), i64(now))
		write("FuzzParseQRData", "expired"+strconv.Itoa(i), str(s), byt(b[:len(b)-tagSize]), i64(p.Expires.Unix()))
		l, err := p.Link()
		if err != nil {
			t.Fatal(err)
		}
		write("FuzzParseLink", "valid"+strconv.Itoa(i), str(l), i64(now))
		write("FuzzParseLink", "expired"+strconv.Itoa(i), str(l), i64(p.Expires.Unix()))
	}
	write("FuzzParseQRData", "empty", str(""), byt(nil), i64(0))
	write("FuzzParseQRData", "version2", str("CAIRN:20"), byt([]byte{2}), i64(now))
	write("FuzzParseLink", "empty", str(""), i64(0))
	write("FuzzParseLink", "version2", str("cairn://pair?v=2#"), i64(now))
	write("FuzzParseLink", "unknown", str("cairn://pair?v=1&x=1#AAAA"), i64(now))
}
