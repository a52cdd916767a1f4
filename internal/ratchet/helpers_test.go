package ratchet

import (
	"io"
	mrand "math/rand/v2"
	"sync/atomic"
	"time"
)

// seededRand is a deterministic io.Reader for ratchet keys.
func seededRand(seed uint64) io.Reader {
	var s [32]byte
	for i := range 8 {
		s[i] = byte(seed >> (8 * i))
	}
	return mrand.NewChaCha8(s)
}

// fakeClock is a manually advanced clock for Config.Now.
type fakeClock struct{ ns atomic.Int64 }

func newFakeClock() *fakeClock {
	c := &fakeClock{}
	c.ns.Store(time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC).UnixNano())
	return c
}

func (c *fakeClock) Now() time.Time          { return time.Unix(0, c.ns.Load()) }
func (c *fakeClock) Advance(d time.Duration) { c.ns.Add(int64(d)) }

// fataler is the part of testing.TB that helpers need; *rapid.T has it too.
type fataler interface {
	Helper()
	Fatal(args ...any)
	Fatalf(format string, args ...any)
}

type pairOpts struct {
	seed  uint64
	cfg   Config
	suite *aeadSuite
}

// newPair returns an initiator and a responder that share a secret, with
// deterministic randomness and the given config (Rand is overridden).
func newPair(tb fataler, o pairOpts) (alice, bob *State) {
	tb.Helper()
	r := seededRand(o.seed)
	var sk [32]byte
	if _, err := io.ReadFull(r, sk[:]); err != nil {
		tb.Fatal(err)
	}
	bobKey, err := generateKey(r)
	if err != nil {
		tb.Fatal(err)
	}
	ca, cb := o.cfg, o.cfg
	ca.Rand, cb.Rand = seededRand(o.seed+1), seededRand(o.seed+2)
	alice, err = NewInitiator(sk, bobKey.PublicKey().Bytes(), ca)
	if err != nil {
		tb.Fatal(err)
	}
	bob, err = NewResponder(sk, bobKey, cb)
	if err != nil {
		tb.Fatal(err)
	}
	if o.suite != nil {
		alice.suite, bob.suite = *o.suite, *o.suite
	}
	return alice, bob
}

func mustSeal(tb fataler, s *State, pt, ad string) []byte {
	tb.Helper()
	m, err := s.Seal(nil, []byte(pt), []byte(ad))
	if err != nil {
		tb.Fatalf("Seal: %v", err)
	}
	return m
}

func mustOpen(tb fataler, s *State, m []byte, ad, want string) {
	tb.Helper()
	pt, err := s.Open(nil, m, []byte(ad))
	if err != nil {
		tb.Fatalf("Open: %v", err)
	}
	if string(pt) != want {
		tb.Fatalf("Open = %q, want %q", pt, want)
	}
}

func snapshot(tb fataler, s *State) string {
	tb.Helper()
	b, err := s.MarshalBinary()
	if err != nil {
		tb.Fatal(err)
	}
	return string(b)
}

// lowOrderPoint is an X25519 point of order 8; ECDH with it fails.
var lowOrderPoint = []byte{
	0xe0, 0xeb, 0x7a, 0x7c, 0x3b, 0x41, 0xb8, 0xae, 0x16, 0x56, 0xe3, 0xfa, 0xf1, 0x9f, 0xc4, 0x6a,
	0xda, 0x09, 0x8d, 0xeb, 0x9c, 0x32, 0xb1, 0xfd, 0x86, 0x62, 0x05, 0x16, 0x5f, 0x49, 0xb8, 0x00,
}
