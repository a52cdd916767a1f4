package frame

import (
	"errors"
	"strconv"
)

var (
	// ErrTooLarge is returned (as a *TooLargeError) for a frame whose length
	// exceeds the limit.
	ErrTooLarge = errors.New("frame too large")
	// ErrEmpty is returned for a frame of length 0, which has no type byte.
	ErrEmpty = errors.New("empty frame")
	// ErrTruncated is returned when the stream ends inside a frame. A stream
	// that ends between two frames gives a plain io.EOF instead.
	ErrTruncated = errors.New("truncated frame")
)

// TooLargeError reports a frame length over the limit. The declared length
// is only reported, never allocated.
type TooLargeError struct {
	Size int64 // the length the frame declared (type byte + body)
	Max  int   // the limit in force
}

func (e *TooLargeError) Error() string {
	return "frame too large: " + strconv.FormatInt(e.Size, 10) + " bytes, max " + strconv.Itoa(e.Max)
}

// Unwrap makes errors.Is(err, ErrTooLarge) true.
func (e *TooLargeError) Unwrap() error { return ErrTooLarge }
