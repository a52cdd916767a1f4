package discovery

import (
	"errors"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/miekg/dns"
)

func TestEncodeTXT(t *testing.T) {
	got, err := EncodeTXT(map[string]string{"s": "K7Q", "r": "ab12", "Flag": ""})
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"Flag=", "r=ab12", "s=K7Q"}; !slices.Equal(got, want) {
		t.Fatalf("got %q, want %q", got, want)
	}
	if got, err := EncodeTXT(nil); err != nil || !slices.Equal(got, []string{""}) {
		t.Fatalf("empty: got %q, %v; want one empty string", got, err)
	}
	// Exactly 255 bytes is fine.
	if _, err := EncodeTXT(map[string]string{"k": strings.Repeat("v", 253)}); err != nil {
		t.Fatalf("255-byte string: %v", err)
	}
}

func TestEncodeTXTErrors(t *testing.T) {
	tests := []struct {
		name string
		text map[string]string
	}{
		{"too long", map[string]string{"k": strings.Repeat("v", 254)}},
		{"empty key", map[string]string{"": "v"}},
		{"equals in key", map[string]string{"a=b": "v"}},
		{"control in key", map[string]string{"a\nb": "v"}},
		{"non-ASCII key", map[string]string{"ké": "v"}},
		{"duplicate ignoring case", map[string]string{"S": "1", "s": "2"}},
		{"record too large", bigText(6, 250)},
		{"too many keys", bigText(MaxTXTStrings+1, 1)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := EncodeTXT(tt.text)
			var te *TXTError
			if !errors.As(err, &te) || !errors.Is(err, ErrInvalidTXT) {
				t.Fatalf("got %v, want a *TXTError", err)
			}
			for _, v := range tt.text {
				if len(v) > 3 && strings.Contains(err.Error(), v) {
					t.Fatalf("error %q contains a value", err)
				}
			}
		})
	}
}

func bigText(n, valueLen int) map[string]string {
	m := map[string]string{}
	for i := range n {
		m[string(rune('a'+i%26))+strings.Repeat("x", i/26)] = strings.Repeat("v", valueLen)
	}
	return m
}

func TestParseTXT(t *testing.T) {
	got, err := ParseTXT([]string{"", "=ignored", "S=first", "s=second", "flag", "empty=", "eq=a=b"})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"s": "first", "flag": "", "empty": "", "eq": "a=b"}
	if !maps.Equal(got, want) {
		t.Fatalf("got %q, want %q", got, want)
	}
	for _, bad := range [][]string{
		{strings.Repeat("a", 256)},
		{"k\x00=v"},
		slices.Repeat([]string{"a=b"}, MaxTXTStrings+1),
	} {
		if _, err := ParseTXT(bad); !errors.Is(err, ErrInvalidTXT) {
			t.Errorf("ParseTXT(%.20q...): %v, want ErrInvalidTXT", bad, err)
		}
	}
}

func TestEscapeTXT(t *testing.T) {
	for _, raw := range []string{"", "plain", `a"b\c`, "\x00\x1f\x7f\x80\xff", "s=K7Q"} {
		esc := escapeTXT(raw)
		back, reason := unescapeTXT(esc)
		if reason != "" || back != raw {
			t.Errorf("%q: escaped %q, back %q (%s)", raw, esc, back, reason)
		}
		if got := packUnpack(t, []string{esc}); !slices.Equal(got, []string{esc}) {
			t.Errorf("%q: miekg/dns gave %q, want %q", raw, got, esc)
		}
	}
	for _, bad := range []string{`\`, `ab\`, `\25`, `\256`, `\9x9`, strings.Repeat("a", 256), strings.Repeat(`\065`, 256)} {
		if _, reason := unescapeTXT(bad); reason == "" {
			t.Errorf("unescapeTXT(%.20q) accepted", bad)
		}
	}
	if _, err := decodeTXTRecord([]string{`\`}); !errors.Is(err, ErrInvalidTXT) {
		t.Errorf("decodeTXTRecord: %v, want ErrInvalidTXT", err)
	}
}

// packUnpack sends TXT strings (in miekg/dns presentation format) through a
// DNS message and back, as the mDNS library does.
func packUnpack(t testing.TB, escaped []string) []string {
	t.Helper()
	m := new(dns.Msg)
	m.Answer = []dns.RR{&dns.TXT{
		Hdr: dns.RR_Header{Name: "x._cairn._tcp.local.", Rrtype: dns.TypeTXT, Class: dns.ClassINET},
		Txt: escaped,
	}}
	wire, err := m.Pack()
	if err != nil {
		t.Fatalf("pack: %v", err)
	}
	var back dns.Msg
	if err := back.Unpack(wire); err != nil {
		t.Fatalf("unpack: %v", err)
	}
	if len(back.Answer) != 1 {
		t.Fatalf("unpacked %d answers", len(back.Answer))
	}
	txt, ok := back.Answer[0].(*dns.TXT)
	if !ok {
		t.Fatalf("unpacked %T", back.Answer[0])
	}
	return txt.Txt
}
