package ratchet

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"
)

var writeSeeds = flag.Bool("write-fuzz-seeds", false, "regenerate testdata/fuzz seed corpora")

// requireSeeds fails the fuzz target if its checked-in corpus is missing, so
// a renamed directory cannot silently run without seeds.
func requireSeeds(f *testing.F, name string) {
	f.Helper()
	files, err := filepath.Glob(filepath.Join("testdata", "fuzz", name, "*"))
	if err != nil || len(files) == 0 {
		f.Fatalf("no seed corpus in testdata/fuzz/%s", name)
	}
}

// writeCorpus writes go-test-fuzz-v1 files of []byte arguments.
func writeCorpus(t *testing.T, name string, entries [][][]byte) {
	dir := filepath.Join("testdata", "fuzz", name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for i, args := range entries {
		var b bytes.Buffer
		b.WriteString("go test fuzz v1\n")
		for _, a := range args {
			fmt.Fprintf(&b, "[]byte(%s)\n", strconv.Quote(string(a)))
		}
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("seed%02d", i)), b.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func FuzzHeader(f *testing.F) {
	requireSeeds(f, "FuzzHeader")
	f.Add(make([]byte, HeaderSize))
	f.Add(bytes.Repeat([]byte{0xff}, HeaderSize))
	f.Add(make([]byte, HeaderSize-1))
	f.Fuzz(func(t *testing.T, b []byte) {
		var h Header
		err := h.UnmarshalBinary(b)
		if len(b) != HeaderSize {
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("%d bytes: err = %v, want ErrMalformed", len(b), err)
			}
			return
		}
		if err != nil {
			t.Fatalf("%d bytes: %v", len(b), err)
		}
		enc, err := h.MarshalBinary()
		if err != nil || !bytes.Equal(enc, b) {
			t.Fatalf("header does not round-trip: %x -> %x", b, enc)
		}
	})
}

// openFixture is a responder mid-conversation: it has a current chain, a
// skipped key and an earlier chain; next is a genuine message it has not
// seen, which must open after any fuzzed input.
type openFixture struct {
	bob     []byte // Bob's encoded state
	next    []byte
	genuine [][]byte // messages for the seed corpus
}

func newOpenFixture(tb fataler) *openFixture {
	clock := newFakeClock()
	alice, bob := newPair(tb, pairOpts{seed: 42, cfg: Config{Now: clock.Now}})
	skipped := mustSeal(tb, alice, "skipped", "ad")
	m1 := mustSeal(tb, alice, "m1", "ad")
	mustOpen(tb, bob, m1, "ad", "m1")
	mustOpen(tb, alice, mustSeal(tb, bob, "r1", "ad"), "ad", "r1")
	m2 := mustSeal(tb, alice, "m2", "ad") // new chain for Bob
	mustOpen(tb, bob, m2, "ad", "m2")
	m3 := mustSeal(tb, alice, "m3", "ad")
	m4 := mustSeal(tb, alice, "m4", "ad")
	mustOpen(tb, alice, mustSeal(tb, bob, "r2", "ad"), "ad", "r2")
	m5 := mustSeal(tb, alice, "m5 on a new chain", "ad")
	return &openFixture{bob: []byte(snapshot(tb, bob)), next: m4, genuine: [][]byte{skipped, m1, m2, m3, m5}}
}

func FuzzOpen(f *testing.F) {
	requireSeeds(f, "FuzzOpen")
	fx := newOpenFixture(f)
	for _, m := range fx.genuine {
		f.Add(m, []byte("ad"))
		f.Add(m[:len(m)-1], []byte("ad"))
		f.Add(m, []byte("other"))
	}
	f.Add([]byte{}, []byte{})
	clock := newFakeClock()
	f.Fuzz(func(t *testing.T, msg, ad []byte) {
		bob, err := Restore(fx.bob, Config{Now: clock.Now, Rand: seededRand(7)})
		if err != nil {
			t.Fatal(err)
		}
		before := snapshot(t, bob)
		_, err = bob.Open(nil, msg, ad)
		if err != nil {
			var se *SkipError
			if !errors.Is(err, ErrMalformed) && !errors.Is(err, ErrAuth) && !errors.Is(err, ErrReplay) && !errors.As(err, &se) {
				t.Fatalf("untyped error: %v", err)
			}
			if snapshot(t, bob) != before {
				t.Fatal("rejected message changed the state")
			}
		}
		if bytes.Equal(msg, fx.next) && string(ad) == "ad" {
			return
		}
		pt, err := bob.Open(nil, fx.next, []byte("ad"))
		if err != nil || string(pt) != "m4" {
			t.Fatalf("genuine message after fuzzed input: %q, %v", pt, err)
		}
	})
}

func FuzzUnmarshal(f *testing.F) {
	requireSeeds(f, "FuzzUnmarshal")
	fx := newOpenFixture(f)
	f.Add(fx.bob)
	alice, bob := newPair(f, pairOpts{seed: 1})
	f.Add([]byte(snapshot(f, alice)))
	f.Add([]byte(snapshot(f, bob)))
	f.Add([]byte{stateVersion})
	clock := newFakeClock()
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := Restore(b, Config{Now: clock.Now, Rand: seededRand(1)})
		if err != nil {
			if !errors.Is(err, ErrCorruptState) {
				t.Fatalf("err = %v, want ErrCorruptState", err)
			}
			return
		}
		enc, err := s.MarshalBinary()
		if err != nil || !bytes.Equal(enc, b) {
			t.Fatalf("state does not round-trip (%v)", err)
		}
		// A decoded state must be usable without panicking.
		m, err := s.Seal(nil, []byte("x"), nil)
		if err != nil && !errors.Is(err, ErrNotReady) && !errors.Is(err, ErrChainExhausted) {
			t.Fatalf("Seal on decoded state: %v", err)
		}
		if err == nil {
			_, _ = s.Open(nil, m, nil)
		}
		clock.Advance(time.Hour)
		_, _ = s.Open(nil, fx.next, []byte("ad"))
	})
}

// TestWriteFuzzSeeds regenerates the checked-in corpora with
// -write-fuzz-seeds.
func TestWriteFuzzSeeds(t *testing.T) {
	if !*writeSeeds {
		t.Skip("run with -write-fuzz-seeds to regenerate testdata/fuzz")
	}
	fx := newOpenFixture(t)
	var open [][][]byte
	for _, m := range append(fx.genuine, fx.next) {
		open = append(open, [][]byte{m, []byte("ad")})
		flipped := bytes.Clone(m)
		flipped[len(m)/2] ^= 1
		open = append(open, [][]byte{flipped, []byte("ad")})
	}
	open = append(open, [][]byte{fx.next[:HeaderSize+TagSize-1], nil})
	writeCorpus(t, "FuzzOpen", open)
	writeCorpus(t, "FuzzHeader", [][][]byte{{fx.next[:HeaderSize]}, {fx.genuine[0][:HeaderSize]}, {fx.next[:HeaderSize+1]}, {nil}})
	alice, bob := newPair(t, pairOpts{seed: 1})
	writeCorpus(t, "FuzzUnmarshal", [][][]byte{{fx.bob}, {[]byte(snapshot(t, alice))}, {[]byte(snapshot(t, bob))}, {fx.bob[:len(fx.bob)-1]}})
}
