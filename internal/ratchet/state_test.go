package ratchet

import (
	"bytes"
	"crypto/ecdh"
	"crypto/hmac"
	"crypto/sha256"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"
)

func TestChainStepIsHMAC(t *testing.T) {
	ck := [32]byte{1, 2, 3}
	for i := range 5 {
		mk, next := chainStep(&ck)
		m := hmac.New(sha256.New, ck[:])
		m.Write([]byte{0x01})
		if !bytes.Equal(m.Sum(nil), mk[:]) {
			t.Fatalf("step %d: message key is not HMAC(ck, 0x01)", i)
		}
		m = hmac.New(sha256.New, ck[:])
		m.Write([]byte{0x02})
		if !bytes.Equal(m.Sum(nil), next[:]) {
			t.Fatalf("step %d: chain key is not HMAC(ck, 0x02)", i)
		}
		ck = next
	}
}

func TestConversation(t *testing.T) {
	alice, bob := newPair(t, pairOpts{seed: 1})
	if _, err := bob.Seal(nil, []byte("early"), nil); !errors.Is(err, ErrNotReady) {
		t.Fatalf("responder Seal before receiving = %v, want ErrNotReady", err)
	}
	if bob.CanSend() || !alice.CanSend() {
		t.Fatal("CanSend wrong before first message")
	}
	for round := range 5 {
		for i := range round + 1 {
			msg := fmt.Sprintf("a%d.%d", round, i)
			mustOpen(t, bob, mustSeal(t, alice, msg, "ad"), "ad", msg)
		}
		for i := range 2 {
			msg := fmt.Sprintf("b%d.%d", round, i)
			mustOpen(t, alice, mustSeal(t, bob, msg, "ad"), "ad", msg)
		}
	}
	if alice.SkippedKeys() != 0 || bob.SkippedKeys() != 0 {
		t.Fatal("in-order delivery left skipped keys")
	}
}

func TestOverhead(t *testing.T) {
	alice, _ := newPair(t, pairOpts{seed: 2})
	for _, n := range []int{0, 1, 1000} {
		m, err := alice.Seal([]byte("prefix"), make([]byte, n), nil)
		if err != nil {
			t.Fatal(err)
		}
		if got := len(m) - len("prefix") - n; got != Overhead() || got != 56 {
			t.Fatalf("overhead %d, want %d", got, Overhead())
		}
		if string(m[:6]) != "prefix" {
			t.Fatal("Seal did not append to dst")
		}
	}
}

func TestInPlace(t *testing.T) {
	alice, bob := newPair(t, pairOpts{seed: 3})
	buf := make([]byte, HeaderSize, 128)
	buf = append(buf, "hello in place"...)
	m, err := alice.Seal(buf[:0], buf[HeaderSize:], nil)
	if err != nil {
		t.Fatal(err)
	}
	pt, err := bob.Open(m[HeaderSize:HeaderSize], m, nil)
	if err != nil || string(pt) != "hello in place" {
		t.Fatalf("in-place Open = %q, %v", pt, err)
	}
	long := string(bytes.Repeat([]byte("x"), 100))
	m2 := mustSeal(t, alice, long, "")
	if _, err := bob.Open(m2[:0], m2, nil); !errors.Is(err, ErrInvalidArgument) {
		t.Fatalf("overlapping Open = %v, want ErrInvalidArgument", err)
	}
	if _, err := alice.Seal(buf[:1], buf[HeaderSize:], nil); !errors.Is(err, ErrInvalidArgument) {
		t.Fatalf("overlapping Seal = %v, want ErrInvalidArgument", err)
	}
	mustOpen(t, bob, m2, "", long)
}

func TestOutOfOrderAcrossChains(t *testing.T) {
	clock := newFakeClock()
	alice, bob := newPair(t, pairOpts{seed: 4, cfg: Config{Now: clock.Now}})
	var a1 [][]byte
	for i := range 5 {
		a1 = append(a1, mustSeal(t, alice, fmt.Sprint("a1-", i), ""))
	}
	mustOpen(t, bob, a1[2], "", "a1-2") // skips 0,1
	if bob.SkippedKeys() != 2 {
		t.Fatalf("skipped %d, want 2", bob.SkippedKeys())
	}
	b1 := mustSeal(t, bob, "b1", "")
	mustOpen(t, alice, b1, "", "b1") // Alice ratchets
	a2 := mustSeal(t, alice, "a2-0", "")
	mustOpen(t, bob, a2, "", "a2-0") // Bob ratchets, skipping a1-3, a1-4 (PN = 5)
	if bob.SkippedKeys() != 4 {
		t.Fatalf("skipped %d, want 4", bob.SkippedKeys())
	}
	for _, i := range []int{4, 0, 3, 1} {
		mustOpen(t, bob, a1[i], "", fmt.Sprint("a1-", i))
	}
	if bob.SkippedKeys() != 0 {
		t.Fatalf("skipped %d after delivering all, want 0", bob.SkippedKeys())
	}
	for i, m := range a1 {
		if _, err := bob.Open(nil, m, nil); !errors.Is(err, ErrReplay) {
			t.Fatalf("replay of a1-%d = %v, want ErrReplay", i, err)
		}
	}
}

// TestBadMessagesLeaveStateUnchanged checks commit-after-authenticate: every
// rejected message leaves the encoded state byte-for-byte as it was, and the
// genuine message still opens afterwards.
func TestBadMessagesLeaveStateUnchanged(t *testing.T) {
	clock := newFakeClock()
	alice, bob := newPair(t, pairOpts{seed: 5, cfg: Config{Now: clock.Now, MaxSkipPerChain: 50}})
	// Build some history: skipped keys and an earlier chain.
	early := mustSeal(t, alice, "early", "")
	mustOpen(t, bob, mustSeal(t, alice, "m1", ""), "", "m1")
	mustOpen(t, alice, mustSeal(t, bob, "r1", ""), "", "r1")
	delivered := mustSeal(t, alice, "delivered", "")
	mustOpen(t, bob, delivered, "", "delivered")

	for _, tc := range []struct {
		name    string
		newStep bool // the genuine message starts a new chain on the receiver
	}{{"same chain", false}, {"new chain", true}} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.newStep {
				mustOpen(t, alice, mustSeal(t, bob, "turn", ""), "", "turn")
			}
			good := mustSeal(t, alice, "good "+tc.name, "ad")
			before := snapshot(t, bob)
			check := func(what string, m []byte, ad string, want error) {
				t.Helper()
				_, err := bob.Open(nil, m, []byte(ad))
				if !errors.Is(err, want) {
					t.Fatalf("%s: Open = %v, want %v", what, err, want)
				}
				if snapshot(t, bob) != before {
					t.Fatalf("%s: state changed by a rejected message", what)
				}
			}
			for bit := range len(good) * 8 {
				m := bytes.Clone(good)
				m[bit/8] ^= 1 << (bit % 8)
				_, err := bob.Open(nil, m, []byte("ad"))
				if err == nil {
					t.Fatalf("bit %d flipped: opened", bit)
				}
				var se *SkipError
				if !errors.Is(err, ErrAuth) && !errors.Is(err, ErrMalformed) && !errors.As(err, &se) && !errors.Is(err, ErrReplay) {
					t.Fatalf("bit %d flipped: untyped error %v", bit, err)
				}
				if snapshot(t, bob) != before {
					t.Fatalf("bit %d flipped: state changed", bit)
				}
			}
			for n := range len(good) {
				_, err := bob.Open(nil, good[:n], []byte("ad"))
				if !errors.Is(err, ErrMalformed) && !errors.Is(err, ErrAuth) {
					t.Fatalf("truncated to %d: %v", n, err)
				}
			}
			check("wrong ad", good, "other", ErrAuth)
			check("extended", append(bytes.Clone(good), 0), "ad", ErrAuth)
			check("replay", delivered, "", ErrReplay)
			forged := bytes.Clone(good)
			copy(forged, lowOrderPoint)
			check("low-order key", forged, "ad", ErrMalformed)
			var h Header
			if err := h.UnmarshalBinary(good[:HeaderSize]); err != nil {
				t.Fatal(err)
			}
			h.N += 1000
			far := bytes.Clone(good)
			h.encode(far)
			check("too far ahead", far, "ad", ErrTooManySkipped)
			h.N -= 1000
			h.DH[0] ^= 0x40 // a new, unknown ratchet key
			h.encode(far)
			check("unknown ratchet key", far, "ad", ErrAuth)
			if bob.SkippedKeys() == 0 {
				t.Fatal("test needs a skipped key")
			}

			mustOpen(t, bob, good, "ad", "good "+tc.name)
			before = snapshot(t, bob)
			check("replay of good", good, "ad", ErrReplay)
		})
	}
	mustOpen(t, bob, early, "", "early")
}

func TestSkipBounds(t *testing.T) {
	clock := newFakeClock()
	cfg := Config{Now: clock.Now, MaxSkipPerChain: 10, MaxSkippedTotal: 15, MaxSkippedAge: time.Minute}
	alice, bob := newPair(t, pairOpts{seed: 6, cfg: cfg})
	var msgs [][]byte
	for i := range 40 {
		msgs = append(msgs, mustSeal(t, alice, fmt.Sprint(i), ""))
	}
	_, err := bob.Open(nil, msgs[11], nil)
	var se *SkipError
	if !errors.As(err, &se) || se.Skip != 11 || se.Limit != 10 || !errors.Is(err, ErrTooManySkipped) {
		t.Fatalf("skip 11 = %v, want SkipError{11, 10}", err)
	}
	mustOpen(t, bob, msgs[10], "", "10") // skips 0..9
	mustOpen(t, bob, msgs[21], "", "21") // skips 11..20: 20 > 15, evicts 0..4
	if got := bob.SkippedKeys(); got != 15 {
		t.Fatalf("skipped keys %d, want 15", got)
	}
	for i := range 5 {
		if _, err := bob.Open(nil, msgs[i], nil); !errors.Is(err, ErrReplay) {
			t.Fatalf("evicted key %d: %v, want ErrReplay", i, err)
		}
	}
	mustOpen(t, bob, msgs[5], "", "5")
	clock.Advance(2 * time.Minute)
	if _, err := bob.Open(nil, msgs[6], nil); !errors.Is(err, ErrReplay) {
		t.Fatalf("expired key: %v, want ErrReplay", err)
	}
	mustOpen(t, bob, msgs[22], "", "22") // commit purges the expired keys
	if got := bob.SkippedKeys(); got != 0 {
		t.Fatalf("skipped keys after expiry %d, want 0", got)
	}
}

func TestMarshalResume(t *testing.T) {
	alice, bob := newPair(t, pairOpts{seed: 7})
	bobFresh, err := bob.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	var bob2 State
	if err := bob2.UnmarshalBinary(bobFresh); err != nil {
		t.Fatal(err)
	}
	m := mustSeal(t, alice, "one", "")
	skippedMsg := mustSeal(t, alice, "two", "")
	m3 := mustSeal(t, alice, "three", "")
	mustOpen(t, &bob2, m, "", "one")
	mustOpen(t, &bob2, m3, "", "three")
	enc, err := bob2.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	bob3, err := Restore(enc, Config{})
	if err != nil {
		t.Fatal(err)
	}
	if enc2, _ := bob3.MarshalBinary(); !bytes.Equal(enc, enc2) {
		t.Fatal("encoding does not round-trip")
	}
	mustOpen(t, bob3, skippedMsg, "", "two")
	mustOpen(t, alice, mustSeal(t, bob3, "reply", ""), "", "reply")
}

func TestUnmarshalRejects(t *testing.T) {
	alice, _ := newPair(t, pairOpts{seed: 8})
	mustSeal(t, alice, "x", "")
	good, err := alice.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	mut := func(f func(b []byte) []byte) []byte { return f(bytes.Clone(good)) }
	for name, b := range map[string][]byte{
		"empty":    nil,
		"version":  mut(func(b []byte) []byte { b[0] = 2; return b }),
		"flags":    mut(func(b []byte) []byte { b[1] |= 0x80; return b }),
		"no dhr":   mut(func(b []byte) []byte { b[1] &^= flagDHr; return b }),
		"nonzero":  mut(func(b []byte) []byte { b[1] &^= flagCKs | flagCKr; return b }),
		"short":    good[:len(good)-1],
		"trailing": append(bytes.Clone(good), 0),
	} {
		before := snapshot(t, alice)
		if err := alice.UnmarshalBinary(b); !errors.Is(err, ErrCorruptState) {
			t.Errorf("%s: %v, want ErrCorruptState", name, err)
		}
		if snapshot(t, alice) != before {
			t.Errorf("%s: failed UnmarshalBinary changed the state", name)
		}
	}
}

func TestConstructorErrors(t *testing.T) {
	var sk [32]byte
	if _, err := NewInitiator(sk, make([]byte, 31), Config{}); !errors.Is(err, ErrInvalidArgument) {
		t.Errorf("short key: %v", err)
	}
	if _, err := NewInitiator(sk, lowOrderPoint, Config{}); !errors.Is(err, ErrInvalidArgument) {
		t.Errorf("low-order key: %v", err)
	}
	if _, err := NewResponder(sk, nil, Config{}); !errors.Is(err, ErrInvalidArgument) {
		t.Errorf("nil key: %v", err)
	}
	p256, err := ecdh.P256().GenerateKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := NewResponder(sk, p256, Config{}); !errors.Is(err, ErrInvalidArgument) {
		t.Errorf("P-256 key: %v", err)
	}
	k, _ := ecdh.X25519().GenerateKey(nil)
	if _, err := NewResponder(sk, k, Config{MaxSkippedAge: -1}); !errors.Is(err, ErrInvalidArgument) {
		t.Errorf("negative config: %v", err)
	}
	var zero State
	if _, err := zero.Seal(nil, nil, nil); !errors.Is(err, ErrNotReady) {
		t.Errorf("zero State Seal: %v", err)
	}
	if _, err := zero.Open(nil, make([]byte, 100), nil); !errors.Is(err, ErrNotReady) {
		t.Errorf("zero State Open: %v", err)
	}
}

func TestDestroy(t *testing.T) {
	alice, bob := newPair(t, pairOpts{seed: 9})
	m := mustSeal(t, alice, "a", "")
	mustSeal(t, alice, "b", "")
	mustOpen(t, bob, mustSeal(t, alice, "c", ""), "", "c")
	bob.Destroy()
	var zero [32]byte
	if bob.rk != zero || bob.ckr != zero || bob.cks != zero || bob.dhs != nil || bob.skipped.len() != 0 {
		t.Fatal("Destroy left key material")
	}
	if _, err := bob.Open(nil, m, nil); !errors.Is(err, ErrDestroyed) {
		t.Errorf("Open after Destroy: %v", err)
	}
	if _, err := bob.Seal(nil, nil, nil); !errors.Is(err, ErrDestroyed) {
		t.Errorf("Seal after Destroy: %v", err)
	}
	if _, err := bob.MarshalBinary(); !errors.Is(err, ErrDestroyed) {
		t.Errorf("MarshalBinary after Destroy: %v", err)
	}
	if err := bob.UnmarshalBinary(nil); !errors.Is(err, ErrDestroyed) {
		t.Errorf("UnmarshalBinary after Destroy: %v", err)
	}
	bob.Destroy() // idempotent
}

func TestConcurrentUse(t *testing.T) {
	alice, bob := newPair(t, pairOpts{seed: 10})
	mustOpen(t, alice, func() []byte {
		mustOpen(t, bob, mustSeal(t, alice, "hi", ""), "", "hi")
		return mustSeal(t, bob, "hi", "")
	}(), "", "hi")
	const n = 50
	toBob, toAlice := make(chan []byte, n), make(chan []byte, n)
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	send := func(s *State, ch chan<- []byte) {
		defer wg.Done()
		defer close(ch)
		for range n {
			m, err := s.Seal(nil, []byte("msg"), nil)
			if err != nil {
				errs <- err
				return
			}
			ch <- m
		}
	}
	recv := func(s *State, ch <-chan []byte) {
		defer wg.Done()
		for m := range ch {
			if _, err := s.Open(nil, m, nil); err != nil {
				errs <- err
				return
			}
		}
	}
	wg.Add(4)
	go send(alice, toBob)
	go send(bob, toAlice)
	go recv(bob, toBob)
	go recv(alice, toAlice)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}
