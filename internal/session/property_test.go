package session_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/cairn-dev/cairn/internal/session"
	"github.com/cairn-dev/cairn/internal/session/sessiontest"
	"pgregory.net/rapid"
)

// TestPropertyExactDelivery: whatever the cuts and message sizes, every
// message arrives exactly once, in order, on every channel.
func TestPropertyExactDelivery(t *testing.T) {
	var resumes, bytes int
	rapid.Check(t, func(rt *rapid.T) {
		cuts := rapid.SliceOfN(rapid.Int64Range(256, 300<<10), 0, 8).Draw(rt, "cuts")
		byRecord := rapid.Bool().Draw(rt, "byRecord")
		nChans := rapid.IntRange(1, 3).Draw(rt, "channels")
		sizes := make([][]int, nChans)
		for i := range sizes {
			sizes[i] = rapid.SliceOfN(rapid.IntRange(0, 150<<10), 0, 30).Draw(rt, fmt.Sprintf("sizes%d", i))
		}
		opts := defaultPairOpts()
		opts.faults = func(n int) sessiontest.Faults {
			if n >= len(cuts) {
				return sessiontest.Faults{}
			}
			if byRecord {
				return sessiontest.Faults{CutAfterRecords: 3 + cuts[n]%64}
			}
			return sessiontest.Faults{CutAfterBytes: cuts[n]}
		}
		p, err := startPair(opts)
		if err != nil {
			rt.Fatal(err)
		}
		defer p.close()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		var fns []func() error
		for side, s := range []*session.Session{p.d, p.a} {
			peer := p.a
			if side == 1 {
				peer = p.d
			}
			var keys []int
			for i := side; i < nChans; i += 2 {
				keys = append(keys, i)
				fns = append(fns, func() error {
					ch, err := s.OpenChannel(ctx, fmt.Sprint(i))
					if err != nil {
						return err
					}
					defer ch.Close()
					return sendMessages(ctx, ch, uint64(i), sizes[i])
				})
			}
			fns = append(fns, func() error { return expectChannels(ctx, peer, len(keys), sizes) })
		}
		if err := runGroup(fns...); err != nil {
			rt.Fatalf("%v (dialer %+v, acceptor %+v)", err, p.d.Stats(), p.a.Stats())
		}
		resumes += p.d.Stats().Resumes
		for _, s := range sizes {
			for _, n := range s {
				bytes += n
			}
		}
	})
	t.Logf("%d resumes, %d message bytes", resumes, bytes)
}

// expectChannels accepts n channels on s, named by their index into sizes,
// and checks each receives exactly its messages.
func expectChannels(ctx context.Context, s *session.Session, n int, sizes [][]int) error {
	var fns []func() error
	for range n {
		ch, err := s.AcceptChannel(ctx)
		if err != nil {
			return err
		}
		var i int
		if _, err := fmt.Sscan(ch.Name(), &i); err != nil || i < 0 || i >= len(sizes) {
			return fmt.Errorf("unexpected channel %q", ch.Name())
		}
		fns = append(fns, func() error {
			defer ch.Close()
			return expectMessages(ctx, ch, uint64(i), sizes[i])
		})
	}
	return runGroup(fns...)
}
