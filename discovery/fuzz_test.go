package discovery

import (
	"errors"
	"maps"
	"path/filepath"
	"slices"
	"testing"
)

// FuzzParseTXT feeds TXT record data (the RDATA wire format: length-prefixed
// character-strings) through the decoders and checks: no panic; errors are
// *TXTError; escaping for miekg/dns round-trips, also through a packed DNS
// message; and a successfully parsed record re-encodes to strings that parse
// to the same map.
func FuzzParseTXT(f *testing.F) {
	seeds, err := filepath.Glob("testdata/fuzz/FuzzParseTXT/*")
	if err != nil || len(seeds) == 0 {
		f.Fatalf("no checked-in seed corpus: %v", err)
	}
	f.Add(rdata("s=K7Q"))
	f.Add(rdata("r=ab12", "r=cd34", "flag", "", "=x", "S=upper"))
	f.Add(rdata("bin=\x00\xff\"\\"))
	f.Add([]byte{5, 'a', '='}) // truncated
	f.Fuzz(func(t *testing.T, data []byte) {
		raw, ok := splitCharStrings(data)
		if !ok {
			return
		}
		m, err := ParseTXT(raw)
		checkTXTError(t, "ParseTXT", err)

		escaped := make([]string, len(raw))
		for i, s := range raw {
			escaped[i] = escapeTXT(s)
			back, reason := unescapeTXT(escaped[i])
			if reason != "" || back != s {
				t.Fatalf("escape round trip of %q: got %q (%s)", s, back, reason)
			}
			// Raw bytes read as presentation format: may fail, never panic.
			_, _ = unescapeTXT(s)
		}
		if len(escaped) > 0 && len(data) < 16<<10 {
			if got := packUnpack(t, escaped); !slices.Equal(got, escaped) {
				t.Fatalf("miekg/dns changed %q to %q", escaped, got)
			}
		}
		m2, err2 := decodeTXTRecord(escaped)
		checkTXTError(t, "decodeTXTRecord", err2)
		if (err == nil) != (err2 == nil) || !maps.Equal(m, m2) {
			t.Fatalf("ParseTXT and decodeTXTRecord disagree: %v %v / %v %v", m, err, m2, err2)
		}
		if err != nil {
			return
		}
		enc, err := EncodeTXT(m)
		checkTXTError(t, "EncodeTXT", err)
		if err != nil {
			return // e.g. larger than MaxTXTSize: legal to receive, not to send
		}
		again, err := ParseTXT(enc)
		if err != nil || !maps.Equal(again, m) {
			t.Fatalf("re-encode round trip: %q -> %q -> %q, %v", m, enc, again, err)
		}
	})
}

func checkTXTError(t *testing.T, what string, err error) {
	t.Helper()
	if err == nil {
		return
	}
	var te *TXTError
	if !errors.As(err, &te) || !errors.Is(err, ErrInvalidTXT) {
		t.Fatalf("%s: error %v (%T) is not a *TXTError", what, err, err)
	}
}

// splitCharStrings splits TXT RDATA into its character-strings; ok is false
// if the data is truncated.
func splitCharStrings(data []byte) (strs []string, ok bool) {
	for len(data) > 0 {
		n := int(data[0])
		if 1+n > len(data) {
			return nil, false
		}
		strs = append(strs, string(data[1:1+n]))
		data = data[1+n:]
	}
	return strs, true
}

// rdata encodes strings (each at most 255 bytes) as TXT RDATA.
func rdata(strs ...string) []byte {
	var b []byte
	for _, s := range strs {
		b = append(b, byte(len(s)))
		b = append(b, s...)
	}
	return b
}
