package spake2

import (
	"bytes"
	"encoding/hex"
	"errors"
	"math/big"
	"testing"
	"testing/iotest"

	"filippo.io/edwards25519"
)

func TestExchange(t *testing.T) {
	t.Parallel()
	keyA, keyB := exchange(t, []byte("A1B2C3D4"), []byte("A1B2C3D4"))
	if len(keyA) != KeySize || !bytes.Equal(keyA, keyB) {
		t.Fatalf("keys differ: %x vs %x", keyA, keyB)
	}
}

func TestWrongPassword(t *testing.T) {
	t.Parallel()
	keyA, keyB := exchange(t, []byte("A1B2C3D4"), []byte("A1B2C3D5"))
	if bytes.Equal(keyA, keyB) {
		t.Fatal("different passwords gave equal keys")
	}
}

func TestMessageShape(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		role Role
		side byte
	}{{RoleA, 0x41}, {RoleB, 0x42}} {
		s, err := New(tc.role, []byte("pw"), nil)
		if err != nil {
			t.Fatal(err)
		}
		m := s.Message()
		if len(m) != MessageSize || m[0] != tc.side {
			t.Fatalf("%v: message %x", tc.role, m)
		}
		m[0] = 0 // Message returns a copy
		if s.Message()[0] != tc.side {
			t.Fatal("Message exposes internal state")
		}
		if s.Role() != tc.role {
			t.Fatalf("Role() = %v", s.Role())
		}
	}
}

// TestPythonReferenceVector is python-spake2 0.8's own compatibility vector
// (spake2/test/test_compat.py, test_asymmetric): empty identities, password
// "password", entropy from its test PRG seeded "A" and "B".
func TestPythonReferenceVector(t *testing.T) {
	t.Parallel()
	a, err := newWithIDs(RoleA, []byte("password"), nil, nil, &pythonPRG{seed: []byte("A")})
	if err != nil {
		t.Fatal(err)
	}
	b, err := newWithIDs(RoleB, []byte("password"), nil, nil, &pythonPRG{seed: []byte("B")})
	if err != nil {
		t.Fatal(err)
	}
	const (
		wantA   = "416fc960df73c9cf8ed7198b0c9534e2e96a5984bfc5edc023fd24dacf371f2af9"
		wantB   = "42354e97b88406922b1df4bea1d7870f17aed3dba7c720b313edae315b00959309"
		wantKey = "a480bca13fa04464bb644f10e340125e96c9494f7399fef7c2bda67eb0fdf06d"
	)
	if got := hex.EncodeToString(a.Message()); got != wantA {
		t.Errorf("A message %s, want %s", got, wantA)
	}
	if got := hex.EncodeToString(b.Message()); got != wantB {
		t.Errorf("B message %s, want %s", got, wantB)
	}
	kA, err := a.Finish(b.Message())
	if err != nil {
		t.Fatal(err)
	}
	kB, err := b.Finish(a.Message())
	if err != nil {
		t.Fatal(err)
	}
	if hex.EncodeToString(kA) != wantKey || hex.EncodeToString(kB) != wantKey {
		t.Fatalf("keys %x %x, want %s", kA, kB, wantKey)
	}
}

// TestPasswordScalar checks python-spake2's published password scalar
// (3515301705789368674385125653994241092664323519848410154015274772661223168839
// for "password"), which pins the big-endian reading of the HKDF output.
func TestPasswordScalar(t *testing.T) {
	t.Parallel()
	s, err := passwordScalar([]byte("password"))
	if err != nil {
		t.Fatal(err)
	}
	want, _ := new(big.Int).SetString("3515301705789368674385125653994241092664323519848410154015274772661223168839", 10)
	le := s.Bytes()
	be := make([]byte, len(le))
	for i, b := range le {
		be[len(le)-1-i] = b
	}
	if got := new(big.Int).SetBytes(be); got.Cmp(want) != 0 {
		t.Fatalf("password scalar %v, want %v", got, want)
	}
}

func TestConstants(t *testing.T) {
	t.Parallel()
	p, err := defaultParams()
	if err != nil {
		t.Fatal(err)
	}
	for name, pt := range map[string]*edwards25519.Point{"M": p.m, "N": p.n} {
		if _, err := p.decodePeerPoint(pt.Bytes()); err != nil {
			t.Errorf("%s is not a canonical prime-order point: %v", name, err)
		}
	}
	if hex.EncodeToString(p.m.Bytes()) != mHex || hex.EncodeToString(p.n.Bytes()) != nHex {
		t.Error("M or N does not re-encode to its constant")
	}
}

func TestFinishTwice(t *testing.T) {
	t.Parallel()
	a, _ := New(RoleA, []byte("pw"), nil)
	b, _ := New(RoleB, []byte("pw"), nil)
	if _, err := a.Finish(b.Message()); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Finish(b.Message()); !errors.Is(err, ErrFinished) {
		t.Fatalf("second Finish: %v, want ErrFinished", err)
	}
	// A failed Finish also spends the state.
	c, _ := New(RoleA, []byte("pw"), nil)
	if _, err := c.Finish(nil); !errors.Is(err, ErrWrongLength) {
		t.Fatalf("got %v", err)
	}
	if _, err := c.Finish(b.Message()); !errors.Is(err, ErrFinished) {
		t.Fatalf("Finish after a failure: %v, want ErrFinished", err)
	}
}

func TestNewErrors(t *testing.T) {
	t.Parallel()
	if _, err := New(Role(7), []byte("pw"), nil); err == nil {
		t.Error("accepted an invalid role")
	}
	if _, err := New(RoleA, []byte("pw"), iotest.ErrReader(errors.New("no entropy"))); err == nil {
		t.Error("accepted a failing random source")
	}
	if _, err := New(RoleA, []byte("pw"), bytes.NewReader(make([]byte, 63))); err == nil {
		t.Error("accepted a short random source")
	}
}

func TestMessageErrorType(t *testing.T) {
	t.Parallel()
	a, _ := New(RoleA, []byte("secret-password"), nil)
	_, err := a.Finish(a.Message())
	var me *MessageError
	if !errors.As(err, &me) || !errors.Is(err, ErrWrongSide) {
		t.Fatalf("got %#v", err)
	}
	if bytes.Contains([]byte(err.Error()), []byte("secret-password")) {
		t.Fatal("error mentions the password")
	}
}
