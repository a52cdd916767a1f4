package spake2

import (
	"bytes"
	"errors"
	"path/filepath"
	"testing"

	"filippo.io/edwards25519"
)

// FuzzFinish feeds arbitrary peer messages to both roles. Properties: no
// panic; a rejection is a *MessageError wrapping a documented sentinel and
// returns no key; an acceptance implies a 33-byte message with the other
// side's byte and a canonical point of prime order that is not our own;
// Finish is deterministic for a fixed random source.
func FuzzFinish(f *testing.F) {
	seeds, _ := filepath.Glob("testdata/fuzz/FuzzFinish/*")
	if len(seeds) == 0 {
		f.Fatal("no seed corpus in testdata/fuzz/FuzzFinish")
	}
	a, _ := New(RoleA, []byte("A1B2C3D4"), seedReader("fuzz"))
	b, _ := New(RoleB, []byte("A1B2C3D4"), seedReader("fuzz"))
	f.Add(a.Message(), false)
	f.Add(b.Message(), true)
	f.Add(append([]byte{'B'}, make([]byte, 32)...), true)
	f.Add([]byte{'A'}, false)

	sentinels := []error{ErrWrongLength, ErrWrongSide, ErrInvalidPoint, ErrSmallOrder, ErrReflected}
	l := new(edwards25519.Scalar)
	l.Negate(l.Set(scalarOne(f)))

	f.Fuzz(func(t *testing.T, msg []byte, roleA bool) {
		role := RoleB
		if roleA {
			role = RoleA
		}
		run := func() ([]byte, error) {
			s, err := New(role, []byte("A1B2C3D4"), seedReader("fuzz"))
			if err != nil {
				t.Fatal(err)
			}
			return s.Finish(msg)
		}
		key, err := run()
		key2, err2 := run()
		if !bytes.Equal(key, key2) || (err == nil) != (err2 == nil) {
			t.Fatal("Finish is not deterministic")
		}
		if err != nil {
			var me *MessageError
			if !errors.As(err, &me) || key != nil {
				t.Fatalf("undocumented error %T %v (key %x)", err, err, key)
			}
			known := false
			for _, s := range sentinels {
				known = known || errors.Is(err, s)
			}
			if !known {
				t.Fatalf("error wraps no sentinel: %v", err)
			}
			return
		}
		want := byte('A')
		if roleA {
			want = 'B'
		}
		if len(key) != KeySize || len(msg) != MessageSize || msg[0] != want {
			t.Fatalf("accepted %x", msg)
		}
		p, perr := new(edwards25519.Point).SetBytes(msg[1:])
		if perr != nil || !bytes.Equal(p.Bytes(), msg[1:]) {
			t.Fatalf("accepted a bad encoding %x", msg)
		}
		lp := new(edwards25519.Point).ScalarMult(l, p)
		if lp.Add(lp, p).Equal(edwards25519.NewIdentityPoint()) != 1 || p.Equal(edwards25519.NewIdentityPoint()) == 1 {
			t.Fatalf("accepted a point outside the prime-order subgroup %x", msg)
		}
	})
}

func scalarOne(tb testing.TB) *edwards25519.Scalar {
	one := make([]byte, 32)
	one[0] = 1
	s, err := edwards25519.NewScalar().SetCanonicalBytes(one)
	if err != nil {
		tb.Fatal(err)
	}
	return s
}
