package ratchet

import (
	"crypto/cipher"
	"testing"

	"golang.org/x/crypto/chacha20poly1305"
)

// aeadCandidates are the two AEADs considered for message encryption. The
// ratchet uses one fresh key per message, so the "PerKey" benchmarks, which
// build the AEAD from its key for every message as the ratchet must, are the
// ones that decide; the "Fixed" ones show the bulk speed of each primitive.
var aeadCandidates = []struct {
	name string
	new  func(key []byte) (cipher.AEAD, error)
}{
	{"ChaCha20Poly1305", chacha20poly1305.New},
	{"AES256GCM", aesGCMSuite.new},
}

var benchSizes = []struct {
	name string
	n    int
}{{"1KiB", 1 << 10}, {"64KiB", 64 << 10}}

func BenchmarkAEADChoice(b *testing.B) {
	var key [32]byte
	var nonce [12]byte
	ad := make([]byte, 40)
	for _, c := range aeadCandidates {
		for _, sz := range benchSizes {
			pt := make([]byte, sz.n)
			ct := make([]byte, 0, sz.n+16)
			out := make([]byte, 0, sz.n)
			b.Run(c.name+"/Fixed/"+sz.name, func(b *testing.B) {
				a, err := c.new(key[:])
				if err != nil {
					b.Fatal(err)
				}
				b.SetBytes(int64(sz.n))
				b.ReportAllocs()
				for b.Loop() {
					ct = a.Seal(ct[:0], nonce[:], pt, ad)
					if _, err := a.Open(out[:0], nonce[:], ct, ad); err != nil {
						b.Fatal(err)
					}
				}
			})
			b.Run(c.name+"/PerKey/"+sz.name, func(b *testing.B) {
				b.SetBytes(int64(sz.n))
				b.ReportAllocs()
				for b.Loop() {
					key[0]++
					a, err := c.new(key[:])
					if err != nil {
						b.Fatal(err)
					}
					ct = a.Seal(ct[:0], nonce[:], pt, ad)
					a2, err := c.new(key[:])
					if err != nil {
						b.Fatal(err)
					}
					if _, err := a2.Open(out[:0], nonce[:], ct, ad); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}
