package frame

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// Reader reads frames from a stream. It is not safe for concurrent use.
type Reader struct {
	r   io.Reader
	max int
	hdr [HeaderSize]byte
	buf []byte
	err error // sticky: the stream lost sync
}

// NewReader returns a Reader of frames from r that refuses frames longer
// than maxSize (type byte + body); maxSize <= 0 means MaxFrameSize.
func NewReader(r io.Reader, maxSize int) *Reader {
	if maxSize <= 0 {
		maxSize = MaxFrameSize
	}
	return &Reader{r: r, max: maxSize}
}

// MaxSize returns the largest frame length the Reader accepts.
func (r *Reader) MaxSize() int { return r.max }

// SetMaxSize changes the limit for the frames read from now on (maxSize <= 0
// means MaxFrameSize): a connection can read its first frame with a small
// limit and raise it once the peer is known.
func (r *Reader) SetMaxSize(maxSize int) {
	if maxSize <= 0 {
		maxSize = MaxFrameSize
	}
	r.max = maxSize
}

// ReadFrame reads the next frame. The body is only valid until the next call:
// the Reader reuses its buffer, so steady-state reading does not allocate.
//
// It returns io.EOF if the stream ended cleanly between frames, an error
// wrapping ErrTruncated if it ended inside a frame, a *TooLargeError or
// ErrEmpty for a bad length, and other read errors wrapped. After any error
// other than one at a frame boundary before a single byte was read (io.EOF,
// a timeout), the stream is out of sync and every later call returns the
// same error.
func (r *Reader) ReadFrame() (Type, []byte, error) {
	return r.ReadFrameInto(nil)
}

// ReadFrameInto is ReadFrame, reading the frame into buf when it fits in
// cap(buf): the body then aliases buf and stays valid as long as buf, which
// lets a caller keep a large frame without copying it. A frame that does not
// fit is read into the Reader's own buffer, as ReadFrame does.
func (r *Reader) ReadFrameInto(buf []byte) (Type, []byte, error) {
	if r.err != nil {
		return 0, nil, r.err
	}
	n, err := io.ReadFull(r.r, r.hdr[:])
	if err != nil {
		if n == 0 {
			if err == io.EOF {
				return 0, nil, io.EOF
			}
			return 0, nil, fmt.Errorf("frame: failed to read: %w", err)
		}
		return 0, nil, r.fail(n, HeaderSize, err)
	}
	size := binary.BigEndian.Uint32(r.hdr[:])
	if size == 0 {
		r.err = ErrEmpty
		return 0, nil, r.err
	}
	if int64(size) > int64(r.max) {
		r.err = &TooLargeError{Size: int64(size), Max: r.max}
		return 0, nil, r.err
	}
	if cap(buf) < int(size) {
		if cap(r.buf) < int(size) {
			r.buf = make([]byte, size, max(int(size), min(2*cap(r.buf), r.max)))
		}
		buf = r.buf
	}
	b := buf[:size]
	if n, err := io.ReadFull(r.r, b); err != nil {
		return 0, nil, r.fail(HeaderSize+n, HeaderSize+int(size), err)
	}
	return Type(b[0]), b[1:], nil
}

// fail records a mid-frame read error.
func (r *Reader) fail(got, want int, err error) error {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		r.err = fmt.Errorf("%w: stream ended after %d of %d bytes", ErrTruncated, got, want)
	} else {
		r.err = fmt.Errorf("frame: failed to read after %d of %d bytes: %w", got, want, err)
	}
	return r.err
}
