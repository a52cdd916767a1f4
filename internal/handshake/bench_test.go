package handshake

import (
	"crypto/ecdh"
	"crypto/ed25519"
	"crypto/rand"
	"testing"
	"time"

	"github.com/cairn-dev/cairn/identity"
)

// handshakeInProcess runs a full handshake (4 messages) with both machines
// in this goroutine: no I/O, no goroutines.
func handshakeInProcess(b *testing.B, icfg, rcfg Config) {
	i, err := newMachine(icfg, true)
	if err != nil {
		b.Fatal(err)
	}
	r, err := newMachine(rcfg, false)
	if err != nil {
		b.Fatal(err)
	}
	m1, _ := i.writeMsg1()
	if err := r.readMsg1(m1); err != nil {
		b.Fatal(err)
	}
	m2, _ := r.writeMsg2()
	if err := i.readMsg2(m2); err != nil {
		b.Fatal(err)
	}
	m3, _ := i.writeMsg3()
	if err := r.readMsg3(m3); err != nil {
		b.Fatal(err)
	}
	m4, _ := r.writeFinished()
	if err := i.readFinished(m4); err != nil {
		b.Fatal(err)
	}
	_, _ = i.result(), r.result()
	i.wipe()
	r.wipe()
}

// primitives is the baseline: the public-key operations a handshake cannot
// avoid. Per side: 2 X25519 key generations (ephemeral, fresh static), 3
// X25519 DHs (ee, es, se; XX has no ss), 1 Ed25519 signature (own static
// key), 1 Ed25519 verification (peer's). Total: 4 keygens, 6 DHs, 2 signs,
// 2 verifies.
type primitives struct {
	seed [32]byte
	idA  *identity.Identity
	msg  []byte
	sig  []byte
}

func newPrimitives(b *testing.B) *primitives {
	p := &primitives{idA: testIdentity(b, "alice"), msg: signedMessage(make([]byte, 32))}
	_, _ = rand.Read(p.seed[:])
	p.sig = p.idA.Sign(p.msg)
	return p
}

func (p *primitives) run(b *testing.B) {
	var keys [4]*ecdh.PrivateKey
	for k := range keys {
		p.seed[0]++
		key, err := ecdh.X25519().NewPrivateKey(p.seed[:]) // one scalar base mult
		if err != nil {
			b.Fatal(err)
		}
		keys[k] = key
	}
	for k := range 6 {
		if _, err := keys[k%4].ECDH(keys[(k+1)%4].PublicKey()); err != nil {
			b.Fatal(err)
		}
	}
	for range 2 {
		_ = p.idA.Sign(p.msg)
		if !ed25519.Verify(p.idA.PublicKey(), p.msg, p.sig) {
			b.Fatal("verify")
		}
	}
}

func benchConfigs(b *testing.B, psk []byte) (Config, Config) {
	return Config{Identity: testIdentity(b, "alice"), PSK: psk, Payload: []byte("Alice")},
		Config{Identity: testIdentity(b, "bob"), PSK: psk, Payload: []byte("Bob")}
}

func BenchmarkHandshakeXX(b *testing.B) {
	icfg, rcfg := benchConfigs(b, nil)
	b.ReportAllocs()
	for b.Loop() {
		handshakeInProcess(b, icfg, rcfg)
	}
}

func BenchmarkHandshakeXXpsk3(b *testing.B) {
	icfg, rcfg := benchConfigs(b, testPSK("bench"))
	b.ReportAllocs()
	for b.Loop() {
		handshakeInProcess(b, icfg, rcfg)
	}
}

// BenchmarkHandshakeXXSealed is XX as cairn's sessions run it: with a
// payload key sealing message 2's identity.
func BenchmarkHandshakeXXSealed(b *testing.B) {
	icfg, rcfg := benchConfigs(b, nil)
	icfg.PayloadKey, rcfg.PayloadKey = testPSK("payload"), testPSK("payload")
	b.ReportAllocs()
	for b.Loop() {
		handshakeInProcess(b, icfg, rcfg)
	}
}

// BenchmarkPrimitives is the baseline of BenchmarkHandshakeXX.
func BenchmarkPrimitives(b *testing.B) {
	p := newPrimitives(b)
	b.ReportAllocs()
	for b.Loop() {
		p.run(b)
	}
}

// BenchmarkHandshakeRatio alternates one XX handshake and one baseline run
// and reports both and their ratio, so that both see the same machine state.
func BenchmarkHandshakeRatio(b *testing.B) {
	icfg, rcfg := benchConfigs(b, nil)
	p := newPrimitives(b)
	var hs, base time.Duration
	n := 0
	for b.Loop() {
		t0 := time.Now()
		handshakeInProcess(b, icfg, rcfg)
		t1 := time.Now()
		p.run(b)
		base += time.Since(t1)
		hs += t1.Sub(t0)
		n++
	}
	b.ReportMetric(float64(hs.Nanoseconds())/float64(n), "handshake-ns/op")
	b.ReportMetric(float64(base.Nanoseconds())/float64(n), "primitives-ns/op")
	b.ReportMetric(float64(hs)/float64(base), "ratio")
}
