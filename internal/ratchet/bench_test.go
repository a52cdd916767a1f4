package ratchet

import (
	"crypto/aes"
	"crypto/cipher"
	"fmt"
	"testing"
)

// aesGCMSuite is the alternative AEAD that was measured against
// ChaCha20-Poly1305 (see BenchmarkAEADChoice); it is not part of the protocol.
var aesGCMSuite = aeadSuite{name: "AES-256-GCM", new: func(key []byte) (cipher.AEAD, error) {
	b, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(b)
}}

// rawSealOpen is the baseline: one Seal and one Open of size bytes with a
// fixed ChaCha20-Poly1305 key, as cheap as the AEAD can be.
func rawSealOpen(b *testing.B, size int) {
	var key [KeySize]byte
	a, err := chachaSuite.new(key[:])
	if err != nil {
		b.Fatal(err)
	}
	pt := make([]byte, size)
	ct := make([]byte, 0, size+TagSize)
	out := make([]byte, 0, size)
	b.SetBytes(int64(size))
	b.ReportAllocs()
	for b.Loop() {
		ct = a.Seal(ct[:0], zeroNonce[:], pt, nil)
		if _, err := a.Open(out[:0], zeroNonce[:], ct, nil); err != nil {
			b.Fatal(err)
		}
	}
}

// ratchetSealOpen seals and opens one message per iteration; with
// alternate the direction flips every message, so every Open is a DH
// ratchet step.
func ratchetSealOpen(b *testing.B, size int, alternate bool, suite *aeadSuite, rawNs float64) {
	alice, bob := newPair(b, pairOpts{seed: 99, suite: suite})
	pt := make([]byte, size)
	ad := []byte("associated data")
	ct := make([]byte, 0, size+Overhead())
	out := make([]byte, 0, size)
	// Warm up both directions so Bob can send and scratch buffers exist.
	ct, _ = alice.Seal(ct[:0], pt, ad)
	if _, err := bob.Open(out[:0], ct, ad); err != nil {
		b.Fatal(err)
	}
	from, to := alice, bob
	b.SetBytes(int64(size))
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		var err error
		ct, err = from.Seal(ct[:0], pt, ad)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := to.Open(out[:0], ct, ad); err != nil {
			b.Fatal(err)
		}
		if alternate {
			from, to = to, from
		}
	}
	if rawNs > 0 && b.N > 0 {
		perOp := float64(b.Elapsed().Nanoseconds()) / float64(b.N)
		b.ReportMetric(100*rawNs/perOp, "%raw")
	}
}

// BenchmarkSealOpen compares the ratchet with the raw AEAD in one run. The
// %raw metric is raw ns/op divided by ratchet ns/op, in percent.
func BenchmarkSealOpen(b *testing.B) {
	for _, sz := range benchSizes {
		var rawNs float64 // from the last (longest) run of the raw benchmark
		b.Run(fmt.Sprintf("raw-chacha/%s", sz.name), func(b *testing.B) {
			rawSealOpen(b, sz.n)
			rawNs = float64(b.Elapsed().Nanoseconds()) / float64(b.N)
		})
		b.Run(fmt.Sprintf("ratchet-oneway/%s", sz.name), func(b *testing.B) {
			ratchetSealOpen(b, sz.n, false, nil, rawNs)
		})
		b.Run(fmt.Sprintf("ratchet-alternating/%s", sz.name), func(b *testing.B) {
			ratchetSealOpen(b, sz.n, true, nil, rawNs)
		})
		b.Run(fmt.Sprintf("ratchet-oneway-aesgcm/%s", sz.name), func(b *testing.B) {
			ratchetSealOpen(b, sz.n, false, &aesGCMSuite, 0)
		})
	}
}

// BenchmarkChainStep is the symmetric ratchet step (two HMAC-SHA256).
func BenchmarkChainStep(b *testing.B) {
	var ck [KeySize]byte
	b.ReportAllocs()
	for b.Loop() {
		_, ck = chainStep(&ck)
	}
}
