package spake2

import (
	"testing"

	"filippo.io/edwards25519"
)

// BenchmarkSPAKE2 measures one full exchange (both sides: New, Message,
// Finish) against its primitive operations, measured in the same run:
// a fixed-base and a variable-base scalar multiplication. The exchange
// reports its cost in units of each ("x-basemult", "x-varmult").
func BenchmarkSPAKE2(b *testing.B) {
	var baseNs, varNs float64
	s := scalarFromLabel(b, "bench-scalar")
	pt := new(edwards25519.Point).ScalarBaseMult(scalarFromLabel(b, "bench-point"))

	b.Run("ScalarBaseMult", func(b *testing.B) {
		b.ReportAllocs()
		var p edwards25519.Point
		for b.Loop() {
			p.ScalarBaseMult(s)
		}
		baseNs = float64(b.Elapsed().Nanoseconds()) / float64(b.N)
	})
	b.Run("ScalarMult", func(b *testing.B) {
		b.ReportAllocs()
		var p edwards25519.Point
		for b.Loop() {
			p.ScalarMult(s, pt)
		}
		varNs = float64(b.Elapsed().Nanoseconds()) / float64(b.N)
	})
	b.Run("Exchange", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(2 * MessageSize)
		pw := []byte("A1B2C3D4")
		for b.Loop() {
			x, err := New(RoleA, pw, nil)
			if err != nil {
				b.Fatal(err)
			}
			y, err := New(RoleB, pw, nil)
			if err != nil {
				b.Fatal(err)
			}
			if _, err := x.Finish(y.Message()); err != nil {
				b.Fatal(err)
			}
			if _, err := y.Finish(x.Message()); err != nil {
				b.Fatal(err)
			}
		}
		ns := float64(b.Elapsed().Nanoseconds()) / float64(b.N)
		if baseNs > 0 && varNs > 0 {
			b.ReportMetric(ns/baseNs, "x-basemult")
			b.ReportMetric(ns/varNs, "x-varmult")
		}
	})
}

func scalarFromLabel(tb testing.TB, label string) *edwards25519.Scalar {
	s, err := uniformScalar(seedBytes(label))
	if err != nil {
		tb.Fatal(err)
	}
	return s
}
