package pairing

import "errors"

// Errors of the payload decoders and encoders. Each comes wrapped in a
// [*PayloadError]; test with errors.Is.
var (
	// ErrMalformed: the payload is truncated, has bad syntax or an invalid
	// field.
	ErrMalformed = errors.New("malformed pairing payload")
	// ErrTooLarge: the input or one of its fields is over its limit.
	ErrTooLarge = errors.New("pairing payload too large")
	// ErrUnsupportedVersion: the payload is of a format version this code
	// does not know.
	ErrUnsupportedVersion = errors.New("unsupported pairing payload version")
	// ErrTampered: the payload's tag does not match its secret, so it was
	// corrupted or altered.
	ErrTampered = errors.New("pairing payload was altered or corrupted")
	// ErrExpired: the payload's expiry has passed.
	ErrExpired = errors.New("pairing payload expired")
)

// PayloadError reports which part of a payload was rejected and why. It
// never contains the payload's secret (nor any other input).
type PayloadError struct {
	Field  string // "" for the payload as a whole
	Reason string // detail; may be empty
	Err    error  // one of the Err* sentinels above
}

func (e *PayloadError) Error() string {
	s := e.Err.Error()
	if e.Field != "" {
		s += ": " + e.Field
	}
	if e.Reason != "" {
		s += ": " + e.Reason
	}
	return s
}

func (e *PayloadError) Unwrap() error { return e.Err }

func payloadError(err error, field, reason string) error {
	return &PayloadError{Field: field, Reason: reason, Err: err}
}
