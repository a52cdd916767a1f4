package frame

import (
	"encoding/binary"
	"fmt"
	"io"
)

// Writer writes frames to a stream, each with a single Write call. It is not
// safe for concurrent use.
type Writer struct {
	w   io.Writer
	buf []byte
}

// NewWriter returns a Writer of frames to w.
func NewWriter(w io.Writer) *Writer { return &Writer{w: w} }

// WriteFrame writes one frame in a single Write call, so that concurrent
// writers on a net.Conn never interleave inside a frame. It refuses a body
// that would make the frame longer than MaxFrameSize. The Writer reuses its
// buffer, so steady-state writing does not allocate.
func (w *Writer) WriteFrame(t Type, body []byte) error {
	buf, err := AppendFrame(w.buf[:0], t, body)
	if err != nil {
		return err
	}
	w.buf = buf
	if _, err := w.w.Write(buf); err != nil {
		return fmt.Errorf("frame: failed to write: %w", err)
	}
	return nil
}

// AppendFrame appends the encoding of one frame to dst. It returns a
// *TooLargeError if the frame would be longer than MaxFrameSize.
func AppendFrame(dst []byte, t Type, body []byte) ([]byte, error) {
	size := int64(len(body)) + 1
	if size > MaxFrameSize {
		return dst, &TooLargeError{Size: size, Max: MaxFrameSize}
	}
	dst = binary.BigEndian.AppendUint32(dst, uint32(size))
	dst = append(dst, byte(t))
	return append(dst, body...), nil
}
