package pairing

import (
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log/slog"
)

const (
	// pinAlphabet is Crockford's base32 alphabet.
	pinAlphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
	// PINLength is the number of symbols in a PIN.
	PINLength = 8
	// pinRandomBytes is the PIN's entropy: 40 bits, 5 per symbol.
	pinRandomBytes = 5
	// SlotLength is the number of leading PIN symbols that may be public.
	SlotLength = 3
	// maxPINInput bounds what ParsePIN looks at.
	maxPINInput = 64
)

// ErrInvalidPIN is wrapped by every error of [ParsePIN].
var ErrInvalidPIN = errors.New("invalid PIN")

// PINError says why a PIN was rejected. It never contains the input.
type PINError struct {
	// Pos is the 1-based position (in characters of the input) of the
	// offending character, or 0 when the problem is the length.
	Pos int
	// Reason is a human-readable reason.
	Reason string
}

func (e *PINError) Error() string {
	if e.Pos > 0 {
		return fmt.Sprintf("invalid PIN: %s at position %d", e.Reason, e.Pos)
	}
	return "invalid PIN: " + e.Reason
}

func (e *PINError) Unwrap() error { return ErrInvalidPIN }

// PIN is a normalised 8-symbol pairing PIN. The zero value is not a valid
// PIN. String shows it; it is a secret everywhere else (logging through
// log/slog redacts it).
type PIN struct {
	sym [PINLength]byte
}

// GeneratePIN reads 5 bytes from r (nil means crypto/rand) and returns the
// 40-bit big-endian integer they form as 8 symbols, most significant first.
func GeneratePIN(r io.Reader) (PIN, error) {
	if r == nil {
		r = rand.Reader
	}
	var b [pinRandomBytes]byte
	if _, err := io.ReadFull(r, b[:]); err != nil {
		return PIN{}, fmt.Errorf("failed to read randomness for a PIN: %w", err)
	}
	var n uint64
	for _, x := range b {
		n = n<<8 | uint64(x)
	}
	clear(b[:])
	var p PIN
	for i := PINLength - 1; i >= 0; i-- {
		p.sym[i] = pinAlphabet[n&31]
		n >>= 5
	}
	return p, nil
}

// ParsePIN normalises what a user typed: it drops '-' and spaces, makes
// ASCII letters upper case, reads I and L as 1 and O as 0, and then requires
// exactly 8 symbols of the Crockford alphabet. Errors are [*PINError]
// values wrapping [ErrInvalidPIN].
func ParsePIN(s string) (PIN, error) {
	if len(s) > maxPINInput {
		return PIN{}, &PINError{Reason: "too long"}
	}
	var p PIN
	n := 0
	pos := 0
	for _, r := range s {
		pos++
		switch {
		case r == '-' || r == ' ':
			continue
		case r >= 'a' && r <= 'z':
			r -= 'a' - 'A'
		}
		switch r {
		case 'I', 'L':
			r = '1'
		case 'O':
			r = '0'
		}
		if r >= 0x80 || !isPINSymbol(byte(r)) {
			return PIN{}, &PINError{Pos: pos, Reason: "invalid character"}
		}
		if n == PINLength {
			return PIN{}, &PINError{Reason: fmt.Sprintf("too long (more than %d symbols)", PINLength)}
		}
		p.sym[n] = byte(r)
		n++
	}
	if n < PINLength {
		return PIN{}, &PINError{Reason: fmt.Sprintf("too short (%d of %d symbols)", n, PINLength)}
	}
	return p, nil
}

func isPINSymbol(c byte) bool {
	for i := range len(pinAlphabet) {
		if pinAlphabet[i] == c {
			return true
		}
	}
	return false
}

// String returns the PIN as shown to people: "XXXX-XXXX".
func (p PIN) String() string {
	return string(p.sym[:4]) + "-" + string(p.sym[4:])
}

// Password returns the SPAKE2 password: the 8 normalised symbols, no hyphen.
func (p PIN) Password() []byte { return append([]byte(nil), p.sym[:]...) }

// Slot returns the first 3 symbols, the only part of a PIN that may be
// public (it names the rendezvous slot).
func (p PIN) Slot() string { return string(p.sym[:SlotLength]) }

// IsZero reports whether p is the zero value.
func (p PIN) IsZero() bool { return p == PIN{} }

// LogValue keeps the PIN out of structured logs.
func (p PIN) LogValue() slog.Value { return slog.StringValue("[PIN redacted]") }

var _ slog.LogValuer = PIN{}
