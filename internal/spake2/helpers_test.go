package spake2

import (
	"bytes"
	"crypto/sha256"
	"crypto/sha512"
	"strconv"
	"testing"
)

// seedReader returns 64 deterministic bytes named by label, for vectors.
func seedReader(label string) *bytes.Reader {
	h := sha512.Sum512([]byte("cairn-spake2-test-" + label))
	return bytes.NewReader(h[:])
}

// pythonPRG is python-spake2's test PRG (spake2/test/common.py): the
// concatenation of SHA-256("prng-<counter>-" || seed) for counter 0, 1, ...
type pythonPRG struct {
	seed    []byte
	counter int
	buf     []byte
}

func (p *pythonPRG) Read(b []byte) (int, error) {
	for len(p.buf) < len(b) {
		block := sha256.Sum256([]byte("prng-" + strconv.Itoa(p.counter) + "-" + string(p.seed)))
		p.counter++
		p.buf = append(p.buf, block[:]...)
	}
	n := copy(b, p.buf)
	p.buf = p.buf[n:]
	return n, nil
}

// exchange runs both sides in process and returns A's and B's keys.
func exchange(t testing.TB, pwA, pwB []byte) (keyA, keyB []byte) {
	t.Helper()
	a, err := New(RoleA, pwA, nil)
	if err != nil {
		t.Fatal(err)
	}
	b, err := New(RoleB, pwB, nil)
	if err != nil {
		t.Fatal(err)
	}
	keyA, err = a.Finish(b.Message())
	if err != nil {
		t.Fatal(err)
	}
	keyB, err = b.Finish(a.Message())
	if err != nil {
		t.Fatal(err)
	}
	return keyA, keyB
}
