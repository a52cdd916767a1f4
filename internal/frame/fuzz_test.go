package frame

import (
	"bytes"
	"errors"
	"io"
	"path/filepath"
	"testing"
)

// FuzzReadFrame reads an arbitrary stream: no panic, only the documented
// errors, io.EOF only at the end of the stream, and re-encoding every frame
// read reproduces exactly the bytes consumed.
func FuzzReadFrame(f *testing.F) {
	seeds, _ := filepath.Glob("testdata/fuzz/FuzzReadFrame/*")
	if len(seeds) == 0 {
		f.Fatal("no seed corpus in testdata/fuzz/FuzzReadFrame")
	}
	f.Add([]byte{0, 0, 0, 1, 1}, uint16(0))
	f.Add([]byte{0, 0, 0, 3, 2, 'h', 'i', 0, 0, 0, 1, 3}, uint16(0))
	f.Add([]byte{0, 0, 0, 0}, uint16(0))
	f.Add([]byte{0, 0, 0, 9, 1}, uint16(4))
	f.Fuzz(func(t *testing.T, stream []byte, maxSize uint16) {
		src := bytes.NewReader(stream)
		r := NewReader(src, int(maxSize))
		var again []byte
		small := make([]byte, 0, 16) // every other frame: read into a caller's buffer when it fits
		for i := range len(stream) + 1 {
			var (
				typ  Type
				body []byte
				err  error
			)
			if i%2 == 0 {
				typ, body, err = r.ReadFrame()
			} else {
				typ, body, err = r.ReadFrameInto(small)
			}
			if err != nil {
				consumed := len(stream) - src.Len()
				switch {
				case err == io.EOF:
					if consumed != len(stream) {
						t.Fatalf("io.EOF with %d bytes left", src.Len())
					}
				case errors.Is(err, ErrTruncated):
					if src.Len() != 0 {
						t.Fatalf("truncated with %d bytes left", src.Len())
					}
				case errors.Is(err, ErrTooLarge):
					var tl *TooLargeError
					if !errors.As(err, &tl) || tl.Size <= int64(r.MaxSize()) {
						t.Fatalf("bad TooLargeError %v", err)
					}
				case errors.Is(err, ErrEmpty):
				default:
					t.Fatalf("undocumented error %v", err)
				}
				if !bytes.Equal(again, stream[:len(again)]) {
					t.Fatalf("re-encoding differs from the stream")
				}
				return
			}
			if len(body)+1 > r.MaxSize() {
				t.Fatalf("accepted a frame over the limit")
			}
			again, err = AppendFrame(again, typ, body)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(again, stream[:len(stream)-src.Len()]) {
				t.Fatalf("re-encoding differs from the consumed bytes")
			}
		}
		t.Fatal("more frames than bytes")
	})
}
