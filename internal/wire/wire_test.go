package wire

import (
	"bytes"
	"errors"
	"testing"
)

func TestHelloRoundtrip(t *testing.T) {
	for _, h := range []Hello{{PurposePair, "pin-ABC"}, {PurposeSession, "0123456789abcdef0123456789abcdef"}} {
		b, err := h.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		got, err := ParseHello(b)
		if err != nil || got != h {
			t.Fatalf("roundtrip %v: %v %v", h, got, err)
		}
	}
	if _, err := (Hello{PurposePair, ""}).Marshal(); !errors.Is(err, ErrMalformed) {
		t.Fatalf("empty slot: %v", err)
	}
	bad := [][]byte{nil, []byte("cairn"), []byte("cairn1\x04\x01a"), []byte("cairn1\x00\x01a"), []byte("cairn1\x01\x02a"), []byte("xairn1\x01\x01a")}
	for _, b := range bad {
		if _, err := ParseHello(b); !errors.Is(err, ErrMalformed) {
			t.Errorf("ParseHello(%q) = %v", b, err)
		}
	}
}

func TestReject(t *testing.T) {
	r, err := ParseReject(MarshalReject(CodeWrongSecret))
	if err != nil || r.Code != CodeWrongSecret {
		t.Fatal(r, err)
	}
	r, _ = ParseReject([]byte{200})
	if r.Code != CodeProtocol {
		t.Fatalf("unknown code decoded as %v", r.Code)
	}
	if _, err := ParseReject(nil); !errors.Is(err, ErrMalformed) {
		t.Fatal(err)
	}
}

func FuzzParseHello(f *testing.F) {
	f.Add([]byte("cairn1\x01\x07pin-ABC"))
	f.Add([]byte("cairn1\x02\x01x"))
	f.Fuzz(func(t *testing.T, b []byte) {
		h, err := ParseHello(b)
		if err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("untyped error %v", err)
			}
			return
		}
		out, err := h.Marshal()
		if err != nil || !bytes.Equal(out, b) {
			t.Fatalf("re-encode %q -> %q, %v", b, out, err)
		}
	})
}
