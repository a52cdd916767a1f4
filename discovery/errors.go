package discovery

import (
	"errors"
	"strconv"
)

// Errors callers branch on; test with errors.Is.
var (
	// ErrInvalidTXT: a TXT record or one of its key=value strings breaks the
	// DNS-SD rules (RFC 6763 section 6). The error is a *TXTError.
	ErrInvalidTXT = errors.New("invalid TXT record")
	// ErrInvalidService: the service type, instance name or port is invalid.
	ErrInvalidService = errors.New("invalid service")
	// ErrNoInterfaces: no interface is up and multicast-capable (or one the
	// caller chose is not).
	ErrNoInterfaces = errors.New("no usable multicast interface")
	// ErrNoAddresses: the chosen interfaces have no address to advertise.
	ErrNoAddresses = errors.New("no address to advertise")
)

// TXTError describes why a TXT record was rejected. It never contains a
// value, which may be secret-derived (a PIN slot, a rendezvous prefix).
type TXTError struct {
	// Index is the position of the offending string, or -1 for the record
	// as a whole.
	Index int
	// Key is the offending key when it is known and printable, else "".
	Key string
	// Reason says what is wrong.
	Reason string
}

func (e *TXTError) Error() string {
	msg := ErrInvalidTXT.Error() + ": " + e.Reason
	if e.Key != "" {
		msg += " (key " + strconv.Quote(e.Key) + ")"
	}
	if e.Index >= 0 {
		msg += " at string " + strconv.Itoa(e.Index)
	}
	return msg
}

// Unwrap makes errors.Is(err, ErrInvalidTXT) true.
func (e *TXTError) Unwrap() error { return ErrInvalidTXT }
