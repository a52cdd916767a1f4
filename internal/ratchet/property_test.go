package ratchet

import (
	"errors"
	"fmt"
	"testing"

	"pgregory.net/rapid"
)

type flight struct {
	msg       []byte
	pt        string
	delivered bool
}

// convo is a rapid state machine: two parties sending in both directions
// over a network that reorders, duplicates and drops messages.
type convo struct {
	cfg      Config
	strict   bool // limits are loose enough that every kept message must open
	parties  [2]*State
	received [2]bool      // party has opened a message (responder can send)
	inflight [2][]*flight // messages towards party i, not yet delivered or dropped
	done     [2][]*flight // messages delivered to party i
	sent     int
	resumes  uint64
	seed     uint64
}

func newConvo(t *rapid.T, cfg Config, strict bool) *convo {
	seed := rapid.Uint64().Draw(t, "seed")
	alice, bob := newPair(t, pairOpts{seed: seed, cfg: cfg})
	c := &convo{cfg: cfg, strict: strict, seed: seed + 1000, parties: [2]*State{alice, bob}}
	c.received[0] = true // the initiator can send at once
	return c
}

func (c *convo) send(t *rapid.T, from int) {
	pt := fmt.Sprintf("msg %d from %d", c.sent, from)
	m, err := c.parties[from].Seal(nil, []byte(pt), []byte("ad"))
	if !c.received[from] {
		if !errors.Is(err, ErrNotReady) {
			t.Fatalf("responder Seal before receiving: %v, want ErrNotReady", err)
		}
		return
	}
	if err != nil {
		t.Fatalf("Seal: %v", err)
	}
	c.sent++
	c.inflight[1-from] = append(c.inflight[1-from], &flight{msg: m, pt: pt})
}

func (c *convo) deliver(t *rapid.T, to int) {
	q := c.inflight[to]
	if len(q) == 0 {
		return
	}
	i := rapid.IntRange(0, len(q)-1).Draw(t, "index")
	f := q[i]
	c.inflight[to] = append(q[:i:i], q[i+1:]...)
	before := snapshot(t, c.parties[to])
	pt, err := c.parties[to].Open(nil, f.msg, []byte("ad"))
	if err == nil {
		if string(pt) != f.pt {
			t.Fatalf("Open = %q, want %q", pt, f.pt)
		}
		f.delivered = true
		c.received[to] = true
		c.done[to] = append(c.done[to], f)
		return
	}
	if c.strict {
		t.Fatalf("Open of a kept message failed: %v", err)
	}
	var se *SkipError
	if !errors.Is(err, ErrReplay) && !errors.As(err, &se) {
		t.Fatalf("Open: unexpected error %v", err)
	}
	if snapshot(t, c.parties[to]) != before {
		t.Fatal("failed Open changed the state")
	}
}

func (c *convo) duplicate(t *rapid.T, to int) {
	d := c.done[to]
	if len(d) == 0 {
		return
	}
	f := d[rapid.IntRange(0, len(d)-1).Draw(t, "index")]
	before := snapshot(t, c.parties[to])
	_, err := c.parties[to].Open(nil, f.msg, []byte("ad"))
	// Chains older than the remembered keys look like new ratchet steps
	// and fail authentication instead.
	if !errors.Is(err, ErrReplay) && !errors.Is(err, ErrAuth) {
		t.Fatalf("duplicate Open = %v, want ErrReplay", err)
	}
	if snapshot(t, c.parties[to]) != before {
		t.Fatal("duplicate changed the state")
	}
}

func (c *convo) drop(t *rapid.T, to int) {
	q := c.inflight[to]
	if len(q) == 0 {
		return
	}
	i := rapid.IntRange(0, len(q)-1).Draw(t, "index")
	c.inflight[to] = append(q[:i:i], q[i+1:]...)
}

func (c *convo) resume(t *rapid.T, who int) {
	enc, err := c.parties[who].MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	cfg := c.cfg
	c.resumes++
	cfg.Rand = seededRand(c.seed<<8 + c.resumes)
	s, err := Restore(enc, cfg)
	if err != nil {
		t.Fatalf("Restore: %v", err)
	}
	if enc2, _ := s.MarshalBinary(); string(enc2) != string(enc) {
		t.Fatal("MarshalBinary does not round-trip")
	}
	c.parties[who].Destroy()
	c.parties[who] = s
}

// action is one step of the state machine; weight is how often it is drawn.
type action struct {
	name   string
	weight int
	run    func(c *convo, t *rapid.T, party int)
}

var actions = []action{
	{"send", 4, (*convo).send},
	{"deliver", 4, (*convo).deliver},
	{"duplicate", 1, (*convo).duplicate},
	{"drop", 1, (*convo).drop},
	{"resume", 1, (*convo).resume},
}

// run draws up to maxSteps weighted actions, checking the skipped-key
// bound after each.
func (c *convo) run(t *rapid.T, maxSteps int) {
	var names []string
	byName := map[string]action{}
	for _, a := range actions {
		byName[a.name] = a
		for range a.weight {
			names = append(names, a.name)
		}
	}
	steps := rapid.IntRange(maxSteps/4, maxSteps).Draw(t, "steps")
	for range steps {
		a := byName[rapid.SampledFrom(names).Draw(t, "action")]
		a.run(c, t, rapid.IntRange(0, 1).Draw(t, "party"))
		for i, p := range c.parties {
			if n := p.SkippedKeys(); n > c.cfg.MaxSkippedTotal {
				t.Fatalf("party %d holds %d skipped keys, limit %d", i, n, c.cfg.MaxSkippedTotal)
			}
		}
	}
}

// TestPropertyDelivery: with default limits every message that is not
// dropped opens exactly once, to the right plaintext, in any order, across
// MarshalBinary/UnmarshalBinary; duplicates are rejected.
func TestPropertyDelivery(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		clock := newFakeClock()
		c := newConvo(t, Config{Now: clock.Now, MaxSkipPerChain: DefaultMaxSkipPerChain, MaxSkippedTotal: DefaultMaxSkippedTotal}, true)
		c.run(t, 400)
		// Deliver everything still in flight, in a drawn order.
		for to := range 2 {
			for len(c.inflight[to]) > 0 {
				c.deliver(t, to)
			}
		}
	})
}

// TestPropertyBounded: with tight limits the skipped-key store stays within
// MaxSkippedTotal, every Open either yields the right plaintext once or a
// typed error without changing the state.
func TestPropertyBounded(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		clock := newFakeClock()
		c := newConvo(t, Config{Now: clock.Now, MaxSkipPerChain: 4, MaxSkippedTotal: 6}, false)
		c.run(t, 400)
	})
}
