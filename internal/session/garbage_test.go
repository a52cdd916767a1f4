package session_test

import (
	"context"
	"encoding/binary"
	"errors"
	"testing"
	"time"

	"github.com/cairn-dev/cairn/internal/session"
	"github.com/cairn-dev/cairn/internal/session/sessiontest"
)

// rawHello builds a Hello by hand from the spec in docs/PROTOCOL.md (section 9).
func rawHello(id [16]byte) []byte {
	b := []byte{0x01, session.Version, 0x00}
	b = append(b, id[:]...)
	b = binary.BigEndian.AppendUint64(b, 0)
	return binary.BigEndian.AppendUint32(b, 1<<20)
}

// rawPeer is a hand-driven dialer talking to a real acceptor Session.
func rawPeer(t *testing.T) (session.Transport, *session.Session) {
	t.Helper()
	d, a := sessiontest.Pipe()
	ctx := ctxT(t, 10*time.Second)
	type res struct {
		s   *session.Session
		err error
	}
	ch := make(chan res, 1)
	go func() {
		s, err := session.New(ctx, a, fastConfig(session.Acceptor))
		ch <- res{s, err}
	}()
	if err := d.Send(rawHello([16]byte{1, 2, 3})); err != nil {
		t.Fatal(err)
	}
	w, err := d.Recv()
	if err != nil {
		t.Fatal(err)
	}
	if len(w) != 31 || w[0] != 0x02 || w[19+7] != 0 {
		t.Fatalf("unexpected Welcome % x", w)
	}
	r := <-ch
	if r.err != nil {
		t.Fatal(r.err)
	}
	t.Cleanup(func() {
		d.Close()
		r.s.Close()
	})
	return d, r.s
}

func TestGarbageRecordsDisconnect(t *testing.T) {
	d, s := rawPeer(t)
	// Drain what the acceptor sends so its writer never blocks; note its Close.
	closeCode := make(chan int, 1)
	go func() {
		code := -1
		defer func() { closeCode <- code }()
		for {
			b, err := d.Recv()
			if err != nil {
				return
			}
			if len(b) >= 2 && b[0] == 0x14 {
				code = int(b[1])
			}
		}
	}()
	garbage := [][]byte{
		{},                              // empty
		{0xff, 1, 2, 3},                 // unknown type
		{0x10, 1},                       // short Ack
		nil,                             // Data on unknown channel 9, built below
		{0x10, 0, 0, 0, 0, 0, 0, 0, 99}, // Ack of records never sent
		rawHello([16]byte{}),            // Hello after the handshake
	}
	seq := uint64(0)
	for i := range session.MaxBadRecords {
		rec := garbage[i%len(garbage)]
		if rec == nil {
			// Data, seq, channel 9, flags 0, "x": well formed but for no channel.
			rec = binary.BigEndian.AppendUint64([]byte{0x21}, seq)
			rec = append(rec, 0, 0, 0, 9, 0, 'x')
			seq++
		}
		if err := d.Send(rec); err != nil {
			t.Fatal(err)
		}
	}
	// All counted, session still up.
	deadline := time.Now().Add(5 * time.Second)
	for s.Stats().BadRecords < session.MaxBadRecords {
		if time.Now().After(deadline) {
			t.Fatalf("only %d bad records counted", s.Stats().BadRecords)
		}
		time.Sleep(time.Millisecond)
	}
	if err := s.Err(); err != nil {
		t.Fatalf("session ended after %d bad records: %v", session.MaxBadRecords, err)
	}
	// One more and the peer is disconnected with ErrProtocol.
	d.Send([]byte{0xee})
	select {
	case <-s.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("session survived too many bad records")
	}
	mustIs(t, s.Err(), session.ErrProtocol)
	mustIs(t, s.Err(), session.ErrSessionFailed)
	if c := <-closeCode; c != int(session.CloseProtocol) {
		t.Fatalf("close code %d, want %d", c, session.CloseProtocol)
	}
	_, err := s.OpenChannel(context.Background(), "x")
	mustIs(t, err, session.ErrProtocol)
}

func TestReadHelloRejects(t *testing.T) {
	for name, rec := range map[string][]byte{
		"garbage":     {0x99},
		"not a hello": {0x10, 0, 0, 0, 0, 0, 0, 0, 0},
		"version 2":   append([]byte{0x01, 2}, rawHello([16]byte{})[2:]...),
		"new at 5":    append(rawHello([16]byte{})[:26], 5, 0, 0x10, 0, 0),
	} {
		t.Run(name, func(t *testing.T) {
			d, a := sessiontest.Pipe()
			defer d.Close()
			defer a.Close()
			go func() {
				d.Send(rec)
				for {
					if _, err := d.Recv(); err != nil {
						return
					}
				}
			}()
			_, err := session.ReadHello(ctxT(t, 5*time.Second), a)
			mustIs(t, err, session.ErrProtocol)
		})
	}
	// A silent dialer: ReadHello gives up with the context.
	d, a := sessiontest.Pipe()
	defer d.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	_, err := session.ReadHello(ctx, a)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("silent dialer: %v", err)
	}
}

// TestRefusalFlood: a peer that opens channel after channel past
// MaxChannels (closing each at once) and never acknowledges the refusals
// cannot grow the acceptor's send queue without bound: the session fails.
func TestRefusalFlood(t *testing.T) {
	d, s := rawPeer(t)
	go func() { // read what the acceptor sends, acknowledge nothing
		for {
			if _, err := d.Recv(); err != nil {
				return
			}
		}
	}()
	seq := uint64(0)
	sequenced := func(typ byte, id uint32, rest ...byte) []byte {
		b := binary.BigEndian.AppendUint64([]byte{typ}, seq)
		b = binary.BigEndian.AppendUint32(b, id)
		seq++
		return append(b, rest...)
	}
	id := uint32(1) // the dialer's channels are odd
	for i := 0; i < 256+256+10 && s.Err() == nil; i++ {
		if err := d.Send(sequenced(0x20, id, 1, 'c')); err != nil { // Open "c"
			break
		}
		if i >= 256 { // past the default MaxChannels: refused, then finished
			if err := d.Send(sequenced(0x22, id)); err != nil { // Fin
				break
			}
		}
		id += 2
	}
	select {
	case <-s.Done():
	case <-time.After(5 * time.Second):
		t.Fatalf("session survived the flood with %d records unacknowledged", s.Stats().Unacked)
	}
	mustIs(t, s.Err(), session.ErrProtocol)
	if n := s.Stats().Unacked; n > 2*256*13+1<<20 {
		t.Fatalf("%d bytes queued before the session failed", n)
	}
}
