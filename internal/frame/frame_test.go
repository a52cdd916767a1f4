package frame

import (
	"bytes"
	"errors"
	"io"
	"net"
	"os"
	"testing"
	"time"
)

func TestRoundTrip(t *testing.T) {
	var buf bytes.Buffer
	w := NewWriter(&buf)
	bodies := [][]byte{nil, {}, []byte("x"), bytes.Repeat([]byte{0xab}, 70000)}
	for i, b := range bodies {
		if err := w.WriteFrame(Type(i+1), b); err != nil {
			t.Fatal(err)
		}
	}
	r := NewReader(&buf, 0)
	for i, want := range bodies {
		typ, got, err := r.ReadFrame()
		if err != nil {
			t.Fatalf("frame %d: %v", i, err)
		}
		if typ != Type(i+1) || !bytes.Equal(got, want) {
			t.Fatalf("frame %d: got type %v, %d bytes", i, typ, len(got))
		}
	}
	if _, _, err := r.ReadFrame(); err != io.EOF {
		t.Fatalf("at end: got %v, want plain io.EOF", err)
	}
}

func TestEncoding(t *testing.T) {
	got, err := AppendFrame([]byte{0xff}, TypeHello, []byte("ab"))
	if err != nil {
		t.Fatal(err)
	}
	want := []byte{0xff, 0, 0, 0, 3, 0x10, 'a', 'b'}
	if !bytes.Equal(got, want) {
		t.Fatalf("got %x, want %x", got, want)
	}
}

func TestErrors(t *testing.T) {
	tests := []struct {
		name   string
		stream []byte
		max    int
		want   error
	}{
		{"empty", []byte{0, 0, 0, 0, 1}, 0, ErrEmpty},
		{"too large", []byte{0, 0, 1, 0, 1}, 255, ErrTooLarge},
		{"huge", []byte{0xff, 0xff, 0xff, 0xff}, 0, ErrTooLarge},
		{"short header", []byte{0, 0}, 0, ErrTruncated},
		{"no type", []byte{0, 0, 0, 1}, 0, ErrTruncated},
		{"short body", []byte{0, 0, 0, 4, 1, 2}, 0, ErrTruncated},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := NewReader(bytes.NewReader(tt.stream), tt.max)
			_, _, err := r.ReadFrame()
			if !errors.Is(err, tt.want) {
				t.Fatalf("got %v, want %v", err, tt.want)
			}
			if _, _, err2 := r.ReadFrame(); err2 != err {
				t.Fatalf("error not sticky: then %v", err2)
			}
		})
	}
}

func TestTooLargeReportsSize(t *testing.T) {
	r := NewReader(bytes.NewReader([]byte{0x7f, 0xff, 0xff, 0xff}), 0)
	_, _, err := r.ReadFrame()
	var tl *TooLargeError
	if !errors.As(err, &tl) || tl.Size != 0x7fffffff || tl.Max != MaxFrameSize {
		t.Fatalf("got %#v", err)
	}
	if cap(r.buf) != 0 {
		t.Fatalf("allocated %d bytes for a refused frame", cap(r.buf))
	}
}

func TestWriteTooLarge(t *testing.T) {
	var buf bytes.Buffer
	err := NewWriter(&buf).WriteFrame(TypeRatchet, make([]byte, MaxFrameSize))
	if !errors.Is(err, ErrTooLarge) || buf.Len() != 0 {
		t.Fatalf("got %v, wrote %d", err, buf.Len())
	}
	if err := NewWriter(&buf).WriteFrame(TypeRatchet, make([]byte, MaxFrameSize-1)); err != nil {
		t.Fatal(err)
	}
	if _, _, err := NewReader(&buf, 0).ReadFrame(); err != nil {
		t.Fatalf("largest frame: %v", err)
	}
}

type countingWriter struct {
	calls int
	bytes.Buffer
}

func (c *countingWriter) Write(p []byte) (int, error) {
	c.calls++
	return c.Buffer.Write(p)
}

func TestOneWritePerFrame(t *testing.T) {
	var c countingWriter
	w := NewWriter(&c)
	for i := range 5 {
		if err := w.WriteFrame(TypeRatchet, make([]byte, i*100)); err != nil {
			t.Fatal(err)
		}
	}
	if c.calls != 5 {
		t.Fatalf("%d Write calls for 5 frames", c.calls)
	}
}

// oneByteReader returns one byte per Read, to check the Reader never reads
// past a frame and copes with short reads.
type oneByteReader struct{ r io.Reader }

func (o oneByteReader) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	return o.r.Read(p[:1])
}

func TestNoReadAhead(t *testing.T) {
	stream, _ := AppendFrame(nil, TypeHello, []byte("hello"))
	stream = append(stream, "rest"...)
	src := bytes.NewReader(stream)
	r := NewReader(oneByteReader{src}, 0)
	if _, body, err := r.ReadFrame(); err != nil || string(body) != "hello" {
		t.Fatalf("got %q, %v", body, err)
	}
	rest, _ := io.ReadAll(src)
	if string(rest) != "rest" {
		t.Fatalf("reader consumed past the frame: left %q", rest)
	}
}

func TestTimeoutAtBoundaryNotSticky(t *testing.T) {
	a, b := net.Pipe()
	defer a.Close()
	defer b.Close()
	r := NewReader(a, 0)
	_ = a.SetReadDeadline(time.Now().Add(10 * time.Millisecond))
	if _, _, err := r.ReadFrame(); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("got %v, want a timeout", err)
	}
	_ = a.SetReadDeadline(time.Time{})
	done := make(chan error, 1)
	go func() { done <- NewWriter(b).WriteFrame(TypeClose, nil) }()
	if typ, _, err := r.ReadFrame(); err != nil || typ != TypeClose {
		t.Fatalf("after timeout: %v %v", typ, err)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

func TestNoAllocsSteadyState(t *testing.T) {
	body := make([]byte, 4096)
	var buf bytes.Buffer
	w := NewWriter(&buf)
	r := NewReader(&buf, 0)
	step := func() {
		if err := w.WriteFrame(TypeRatchet, body); err != nil {
			t.Fatal(err)
		}
		if _, _, err := r.ReadFrame(); err != nil {
			t.Fatal(err)
		}
	}
	step()
	if n := testing.AllocsPerRun(100, step); n != 0 {
		t.Fatalf("%v allocations per frame", n)
	}
}

func TestTypeString(t *testing.T) {
	if TypeHandshake.String() != "handshake" || Type(0xee).String() != "type(238)" {
		t.Fatal(TypeHandshake.String(), Type(0xee).String())
	}
}

func TestReadFrameInto(t *testing.T) {
	var stream bytes.Buffer
	w := NewWriter(&stream)
	small, large := []byte("fits"), bytes.Repeat([]byte{0xcd}, 100)
	for _, b := range [][]byte{small, large, small} {
		if err := w.WriteFrame(TypeRatchet, b); err != nil {
			t.Fatal(err)
		}
	}
	r := NewReader(&stream, 0)
	buf := make([]byte, 0, 64)
	aliases := func(body []byte) bool { return &body[0] == &buf[:cap(buf)][1] }

	typ, body, err := r.ReadFrameInto(buf)
	if err != nil || typ != TypeRatchet || !bytes.Equal(body, small) || !aliases(body) {
		t.Fatalf("small frame: %v %v %q, in buf: %v", typ, err, body, err == nil && aliases(body))
	}
	kept := body
	// A frame larger than buf goes to the Reader's own buffer and leaves
	// buf, and so the body kept from it, alone.
	if _, body, err = r.ReadFrameInto(buf); err != nil || !bytes.Equal(body, large) || aliases(body) {
		t.Fatalf("large frame: %v, %d bytes, in buf: %v", err, len(body), err == nil && aliases(body))
	}
	if !bytes.Equal(kept, small) {
		t.Fatalf("the kept body changed to %q", kept)
	}
	if _, body, err = r.ReadFrameInto(nil); err != nil || !bytes.Equal(body, small) {
		t.Fatalf("nil buf: %v %q", err, body)
	}
}

func TestSetMaxSize(t *testing.T) {
	var stream bytes.Buffer
	w := NewWriter(&stream)
	for _, n := range []int{8, 100} {
		if err := w.WriteFrame(TypeRatchet, make([]byte, n)); err != nil {
			t.Fatal(err)
		}
	}
	r := NewReader(&stream, 16)
	if _, _, err := r.ReadFrame(); err != nil {
		t.Fatalf("small frame: %v", err)
	}
	r.SetMaxSize(0)
	if r.MaxSize() != MaxFrameSize {
		t.Fatalf("MaxSize = %d after SetMaxSize(0)", r.MaxSize())
	}
	if _, body, err := r.ReadFrame(); err != nil || len(body) != 100 {
		t.Fatalf("frame after raising the limit: %d bytes, %v", len(body), err)
	}
	r = NewReader(bytes.NewReader([]byte{0, 0x10, 0, 0, 1}), 16)
	if _, _, err := r.ReadFrame(); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("1 MiB frame under a 16-byte limit: %v", err)
	}
}
