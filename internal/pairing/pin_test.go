package pairing

import (
	"bytes"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"testing/iotest"
)

func TestParsePIN(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in, want string // want "" means invalid
		pos      int
	}{
		{"A1B2-C3D4", "A1B2C3D4", 0},
		{"A1B2C3D4", "A1B2C3D4", 0},
		{"a1b2-c3d4", "A1B2C3D4", 0},
		{" a1b2 - c3d4 ", "A1B2C3D4", 0},
		{"--A1B2--C3D4--", "A1B2C3D4", 0},
		{"O0o0-0000", "00000000", 0},
		{"IiLl-1111", "11111111", 0},
		{"ZZZZ-ZZZZ", "ZZZZZZZZ", 0},
		{"0123-4567", "01234567", 0},
		{"89AB-CDEF", "89ABCDEF", 0},
		{"GHJK-MNPQ", "GHJKMNPQ", 0},
		{"RSTV-WXYZ", "RSTVWXYZ", 0},
		{"A1B2-C3DU", "", 9},      // U is not in the alphabet
		{"u1B2-C3D4", "", 1},      // nor is u
		{"A1B2-C3D", "", 0},       // too short
		{"A1B2-C3D45", "", 0},     // too long
		{"", "", 0},               // empty
		{"----", "", 0},           // only separators
		{"A1B2_C3D4", "", 5},      // underscore
		{"A1B2\tC3D4", "", 5},     // tab is not a space
		{"A1B2-C3DÄ", "", 9},      // non-ASCII, position counts characters
		{"ＡＢＣＤ-ＥＦＧＨ", "", 1},      // full-width letters
		{"A1B2-C3D4\x00", "", 10}, // NUL
		{"\xff1B2-C3D4", "", 1},   // invalid UTF-8
		{strings.Repeat("A", 65), "", 0},
	} {
		p, err := ParsePIN(tc.in)
		if tc.want == "" {
			var pe *PINError
			if !errors.Is(err, ErrInvalidPIN) || !errors.As(err, &pe) {
				t.Errorf("ParsePIN(%q) = %v, %v; want a *PINError", tc.in, p, err)
				continue
			}
			if pe.Pos != tc.pos {
				t.Errorf("ParsePIN(%q): position %d, want %d (%v)", tc.in, pe.Pos, tc.pos, err)
			}
			if len(tc.in) >= 4 && strings.Contains(err.Error(), tc.in[:4]) {
				t.Errorf("ParsePIN(%q): error %q echoes the input", tc.in, err)
			}
			if !p.IsZero() {
				t.Errorf("ParsePIN(%q) returned a PIN with an error", tc.in)
			}
			continue
		}
		if err != nil {
			t.Errorf("ParsePIN(%q): %v", tc.in, err)
			continue
		}
		if string(p.Password()) != tc.want {
			t.Errorf("ParsePIN(%q) = %s, want %s", tc.in, p.Password(), tc.want)
		}
		if p.String() != tc.want[:4]+"-"+tc.want[4:] {
			t.Errorf("String() = %q", p.String())
		}
		if p.Slot() != tc.want[:3] {
			t.Errorf("Slot() = %q", p.Slot())
		}
	}
}

func TestGeneratePIN(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		rand []byte
		want string
	}{
		{[]byte{0, 0, 0, 0, 0}, "0000-0000"},
		{[]byte{0xff, 0xff, 0xff, 0xff, 0xff}, "ZZZZ-ZZZZ"},
		{[]byte{0, 0, 0, 0, 1}, "0000-0001"},
		{[]byte{0x80, 0, 0, 0, 0}, "G000-0000"}, // top 5 bits 10000 = 16 = G
		// 0x0123456789: 00000 00100 10001 10100 01010 11001 11100 01001
		{[]byte{0x01, 0x23, 0x45, 0x67, 0x89}, "04HM-ASW9"},
	} {
		p, err := GeneratePIN(bytes.NewReader(tc.rand))
		if err != nil {
			t.Fatal(err)
		}
		if p.String() != tc.want {
			t.Errorf("GeneratePIN(%x) = %s, want %s", tc.rand, p, tc.want)
		}
		q, err := ParsePIN(p.String())
		if err != nil || q != p {
			t.Errorf("ParsePIN(String()) = %v, %v", q, err)
		}
	}
	if _, err := GeneratePIN(iotest.ErrReader(errors.New("no entropy"))); err == nil {
		t.Error("accepted a failing random source")
	}
	if _, err := GeneratePIN(bytes.NewReader([]byte{1, 2, 3, 4})); err == nil {
		t.Error("accepted a short random source")
	}
	seen := map[byte]bool{}
	for range 200 {
		p, err := GeneratePIN(nil)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range p.Password() {
			seen[c] = true
		}
	}
	if len(seen) != len(pinAlphabet) {
		t.Errorf("200 random PINs used %d of %d symbols", len(seen), len(pinAlphabet))
	}
}

func TestPINRedactedInLogs(t *testing.T) {
	t.Parallel()
	p, err := ParsePIN("A1B2-C3D4")
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	slog.New(slog.NewTextHandler(&buf, nil)).Info("pairing", "pin", p)
	if strings.Contains(buf.String(), "A1B2") || strings.Contains(buf.String(), "C3D4") {
		t.Fatalf("log shows the PIN: %s", buf.String())
	}
	// Password returns a copy.
	pw := p.Password()
	pw[0] = 'X'
	if p.String() != "A1B2-C3D4" {
		t.Fatal("Password exposes internal state")
	}
}
