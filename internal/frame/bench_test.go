package frame

import (
	"bytes"
	"io"
	"net"
	"strconv"
	"testing"
)

var benchSizes = []int{64, 1024, 64 << 10, 1 << 20}

// BenchmarkFrameBuffer writes and reads one frame through a bytes.Buffer;
// BenchmarkRawBuffer moves the same bytes (header included) with io.Copy and
// io.ReadFull, the baseline.
func BenchmarkFrameBuffer(b *testing.B) {
	for _, n := range benchSizes {
		b.Run(strconv.Itoa(n), func(b *testing.B) {
			body := make([]byte, n)
			var buf bytes.Buffer
			w, r := NewWriter(&buf), NewReader(&buf, 0)
			b.SetBytes(int64(n))
			b.ReportAllocs()
			for b.Loop() {
				if err := w.WriteFrame(TypeRatchet, body); err != nil {
					b.Fatal(err)
				}
				if _, _, err := r.ReadFrame(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkRawBuffer(b *testing.B) {
	for _, n := range benchSizes {
		b.Run(strconv.Itoa(n), func(b *testing.B) {
			msg, _ := AppendFrame(nil, TypeRatchet, make([]byte, n))
			src := bytes.NewReader(msg)
			dst := make([]byte, len(msg))
			var buf bytes.Buffer
			b.SetBytes(int64(n))
			b.ReportAllocs()
			for b.Loop() {
				src.Reset(msg)
				if _, err := io.Copy(&buf, src); err != nil {
					b.Fatal(err)
				}
				if _, err := io.ReadFull(&buf, dst); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkFramePipe and BenchmarkRawPipe do the same over net.Pipe, where
// the Reader's two reads per frame (header, then rest) show.
func BenchmarkFramePipe(b *testing.B) {
	for _, n := range benchSizes[:3] {
		b.Run(strconv.Itoa(n), func(b *testing.B) {
			body := make([]byte, n)
			c1, c2 := net.Pipe()
			defer c1.Close()
			done := make(chan struct{})
			go func() {
				defer close(done)
				r := NewReader(c2, 0)
				for {
					if _, _, err := r.ReadFrame(); err != nil {
						return
					}
				}
			}()
			w := NewWriter(c1)
			b.SetBytes(int64(n))
			b.ReportAllocs()
			for b.Loop() {
				if err := w.WriteFrame(TypeRatchet, body); err != nil {
					b.Fatal(err)
				}
			}
			c1.Close()
			<-done
			c2.Close()
		})
	}
}

func BenchmarkRawPipe(b *testing.B) {
	for _, n := range benchSizes[:3] {
		b.Run(strconv.Itoa(n), func(b *testing.B) {
			msg, _ := AppendFrame(nil, TypeRatchet, make([]byte, n))
			c1, c2 := net.Pipe()
			defer c1.Close()
			done := make(chan struct{})
			go func() {
				defer close(done)
				dst := make([]byte, len(msg))
				for {
					if _, err := io.ReadFull(c2, dst); err != nil {
						return
					}
				}
			}()
			src := bytes.NewReader(msg)
			b.SetBytes(int64(n))
			b.ReportAllocs()
			for b.Loop() {
				src.Reset(msg)
				if _, err := io.Copy(c1, src); err != nil {
					b.Fatal(err)
				}
			}
			c1.Close()
			<-done
			c2.Close()
		})
	}
}
