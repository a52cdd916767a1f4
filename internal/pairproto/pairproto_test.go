package pairproto

import (
	"context"
	"errors"
	"io"
	"net"
	"testing"
	"time"

	"github.com/cairn-dev/cairn/identity"
	"github.com/cairn-dev/cairn/internal/frame"
)

func newID(t testing.TB) *identity.Identity {
	t.Helper()
	id, err := identity.Generate(nil)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

type result struct {
	out *Outcome
	err error
}

// run pairs an initiator holding pwI with a responder holding pwR over an
// in-memory pipe and returns both outcomes.
func run(t *testing.T, pwI, pwR string) (ini, resp result, committed bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	ci, cr := net.Pipe()
	defer ci.Close()
	defer cr.Close()
	idI, idR := newID(t), newID(t)
	done := make(chan result, 1)
	go func() {
		r := frame.NewReader(ci, frame.MaxFrameSize)
		if _, _, err := r.ReadFrame(); err != nil { // the Hello
			done <- result{err: err}
			return
		}
		out, err := Initiate(ctx, ci, r, Config{Password: []byte(pwI), Identity: idI, Name: "initiator"},
			func(o *Outcome) error { committed = true; return nil })
		ci.Close()
		done <- result{out, err}
	}()
	out, err := Respond(ctx, cr, "pin-ABC", Config{Password: []byte(pwR), Identity: idR, Name: "responder"})
	cr.Close()
	ini = <-done
	return ini, result{out, err}, committed
}

func TestPairing(t *testing.T) {
	ini, resp, committed := run(t, "K3XQ7PMA", "K3XQ7PMA")
	if ini.err != nil || resp.err != nil {
		t.Fatalf("initiator: %v; responder: %v", ini.err, resp.err)
	}
	if !committed {
		t.Fatal("commit was not called")
	}
	if ini.out.PairingSecret != resp.out.PairingSecret {
		t.Fatal("the two sides derived different pairing secrets")
	}
	if ini.out.PeerName != "responder" || resp.out.PeerName != "initiator" {
		t.Fatalf("names: %q, %q", ini.out.PeerName, resp.out.PeerName)
	}
}

func TestWrongPassword(t *testing.T) {
	ini, resp, committed := run(t, "K3XQ7PMA", "K3XQ7PMB")
	if !errors.Is(resp.err, ErrWrongSecret) {
		t.Errorf("responder: %v, want ErrWrongSecret", resp.err)
	}
	if !errors.Is(ini.err, ErrWrongSecret) {
		t.Errorf("initiator: %v, want ErrWrongSecret", ini.err)
	}
	var ae *AttemptError
	if !errors.As(ini.err, &ae) || !ae.Spent {
		t.Errorf("a wrong guess must count against the PIN: %#v", ini.err)
	}
	if committed {
		t.Error("committed after a wrong password")
	}
}

// fuzzPeer plays the other side: it discards what the side under test
// sends and answers with raw bytes from the fuzzer.
func fuzzPeer(conn net.Conn, data []byte) {
	go func() { _, _ = io.Copy(io.Discard, conn) }()
	_, _ = conn.Write(data)
	conn.Close()
}

func mustFrame(t frame.Type, body []byte) []byte {
	b, err := frame.AppendFrame(nil, t, body)
	if err != nil {
		panic(err)
	}
	return b
}

func fuzzSeeds(f *testing.F) {
	for _, seed := range [][]byte{
		nil,
		mustFrame(frame.TypePakeB, make([]byte, pakeSize+nonceSize)),
		mustFrame(frame.TypePakeA, make([]byte, pakeSize+nonceSize+macSize)),
		mustFrame(frame.TypeReject, []byte{2}),
		mustFrame(frame.TypeConfirm, make([]byte, macSize)),
		{0, 0, 0, 1, 0x21},
		{0xff, 0xff, 0xff, 0xff},
	} {
		f.Add(seed)
	}
}

// FuzzRespond feeds arbitrary initiator messages to a responder: it must
// fail with an error, never panic or hang.
func FuzzRespond(f *testing.F) {
	fuzzSeeds(f)
	id := newID(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		a, b := net.Pipe()
		defer a.Close()
		go fuzzPeer(b, data)
		if _, err := Respond(ctx, a, "pin-ABC", Config{Password: []byte("K3XQ7PMA"), Identity: id}); err == nil {
			t.Fatal("pairing succeeded against random bytes")
		}
	})
}

// FuzzInitiate feeds arbitrary responder messages to an initiator.
func FuzzInitiate(f *testing.F) {
	fuzzSeeds(f)
	id := newID(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		a, b := net.Pipe()
		defer a.Close()
		go fuzzPeer(b, data)
		r := frame.NewReader(a, frame.MaxFrameSize)
		_, err := Initiate(ctx, a, r, Config{Password: []byte("K3XQ7PMA"), Identity: id}, func(*Outcome) error { return nil })
		if err == nil {
			t.Fatal("pairing succeeded against random bytes")
		}
	})
}

// TestPeerGoneDuringNoise cuts the connection after key confirmation, in
// the Noise handshake: the responder must report ErrPeerGone, not a
// protocol error.
func TestPeerGoneDuringNoise(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	ci, cr := net.Pipe()
	defer cr.Close()
	id := newID(t)
	go func() {
		defer ci.Close()
		r := frame.NewReader(ci, frame.MaxFrameSize)
		// Hello, PakeB: then answer like an initiator up to Confirm and vanish.
		if _, _, err := r.ReadFrame(); err != nil {
			return
		}
		_, _ = Initiate(ctx, &cutAfter{Conn: ci, frames: 1}, r, Config{Password: []byte("K3XQ7PMA"), Identity: newID(t)}, func(*Outcome) error { return nil })
	}()
	_, err := Respond(ctx, cr, "pin-ABC", Config{Password: []byte("K3XQ7PMA"), Identity: id})
	if !errors.Is(err, ErrPeerGone) {
		t.Fatalf("Respond = %v, want ErrPeerGone", err)
	}
}

// cutAfter closes the connection once frames writes went through.
type cutAfter struct {
	net.Conn
	frames int
}

func (c *cutAfter) Write(p []byte) (int, error) {
	if c.frames == 0 {
		c.Conn.Close()
		return 0, net.ErrClosed
	}
	c.frames--
	return c.Conn.Write(p)
}
