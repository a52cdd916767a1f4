package securelink

import (
	"bytes"
	"context"
	"errors"
	"net"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/cairn-dev/cairn/identity"
	"github.com/cairn-dev/cairn/internal/frame"
	"github.com/cairn-dev/cairn/internal/handshake"
	"github.com/cairn-dev/cairn/internal/wire"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// pair runs a Noise XX handshake over TCP on loopback and returns both links
// and the raw connection under the responder's link, for injecting frames.
func pair(t *testing.T) (ini, resp *Link, respRaw net.Conn, iniRaw net.Conn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	ci, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	cr, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	idI, _ := identity.Generate(nil)
	idR, _ := identity.Generate(nil)
	type out struct {
		l   *Link
		err error
	}
	done := make(chan out, 1)
	go func() {
		r := frame.NewReader(cr, frame.MaxFrameSize)
		res, err := handshake.Responder(ctx, cr, handshake.Config{Identity: idR, ExpectedPeer: idI.PeerID(), Reader: r})
		if err != nil {
			done <- out{nil, err}
			return
		}
		l, err := New(cr, r, res, false, nil)
		done <- out{l, err}
	}()
	r := frame.NewReader(ci, frame.MaxFrameSize)
	res, err := handshake.Initiator(ctx, ci, handshake.Config{Identity: idI, ExpectedPeer: idR.PeerID(), Reader: r})
	if err != nil {
		t.Fatal(err)
	}
	ini, err = New(ci, r, res, true, nil)
	if err != nil {
		t.Fatal(err)
	}
	o := <-done
	if o.err != nil {
		t.Fatal(o.err)
	}
	t.Cleanup(func() { ini.Close(); o.l.Close() })
	return ini, o.l, cr, ci
}

func TestRoundTrip(t *testing.T) {
	ini, resp, _, _ := pair(t)
	for i, msg := range []string{"first", "second", "", "fourth"} {
		if err := ini.Send([]byte(msg)); err != nil {
			t.Fatal(err)
		}
		got, err := resp.Recv()
		if err != nil || string(got) != msg {
			t.Fatalf("record %d: %q, %v", i, got, err)
		}
	}
	if err := resp.Send([]byte("reply")); err != nil {
		t.Fatal(err)
	}
	if got, err := ini.Recv(); err != nil || string(got) != "reply" {
		t.Fatalf("reply: %q, %v", got, err)
	}
}

// TestRecvInto: a record that fits is decrypted in the caller's buffer and
// outlives later receives; one that does not fit still arrives.
func TestRecvInto(t *testing.T) {
	ini, resp, _, _ := pair(t)
	small, large := bytes.Repeat([]byte{'s'}, 100), bytes.Repeat([]byte{'L'}, 5000)
	for _, rec := range [][]byte{small, large, small} {
		if err := ini.Send(rec); err != nil {
			t.Fatal(err)
		}
	}
	buf := make([]byte, 0, 100+RecvOverhead)
	end := &buf[:cap(buf)][cap(buf)-1]
	inBuf := func(b []byte) bool { return cap(b) > 0 && &b[:cap(b)][cap(b)-1] == end }
	kept, err := resp.RecvInto(buf)
	if err != nil || !bytes.Equal(kept, small) || !inBuf(kept) {
		t.Fatalf("fitting record: %v, %d bytes, in buf: %v", err, len(kept), inBuf(kept))
	}
	if got, err := resp.RecvInto(buf); err != nil || !bytes.Equal(got, large) {
		t.Fatalf("record larger than buf: %v, %d bytes", err, len(got))
	}
	if got, err := resp.RecvInto(make([]byte, 0, 100+RecvOverhead)); err != nil || !bytes.Equal(got, small) {
		t.Fatalf("third record: %v, %d bytes", err, len(got))
	}
	if !bytes.Equal(kept, small) {
		t.Fatal("the record kept in buf was overwritten")
	}
}

// TestBadFramesDropped injects forged, replayed and foreign frames: each is
// dropped and counted, the next good record still arrives.
func TestBadFramesDropped(t *testing.T) {
	ini, resp, _, iniRaw := pair(t)
	w := frame.NewWriter(iniRaw)
	if err := ini.Send([]byte("one")); err != nil {
		t.Fatal(err)
	}
	if got, err := resp.Recv(); err != nil || string(got) != "one" {
		t.Fatalf("%q, %v", got, err)
	}
	forged := make([]byte, 120)
	for _, f := range []struct {
		t    frame.Type
		body []byte
	}{
		{frame.TypeRatchet, forged},
		{frame.TypeRatchet, []byte{1, 2, 3}},
		{frame.TypeHandshake, []byte("stray")},
	} {
		if err := w.WriteFrame(f.t, f.body); err != nil {
			t.Fatal(err)
		}
	}
	if err := ini.Send([]byte("two")); err != nil {
		t.Fatal(err)
	}
	if got, err := resp.Recv(); err != nil || string(got) != "two" {
		t.Fatalf("after bad frames: %q, %v", got, err)
	}
	if n := resp.BadFrames(); n != 3 {
		t.Fatalf("BadFrames = %d, want 3", n)
	}
}

func TestTooManyBadFrames(t *testing.T) {
	_, resp, _, iniRaw := pair(t)
	w := frame.NewWriter(iniRaw)
	go func() {
		for range MaxBadFrames {
			if w.WriteFrame(frame.TypeRatchet, make([]byte, 100)) != nil {
				return
			}
		}
	}()
	if _, err := resp.Recv(); !errors.Is(err, ErrTooManyBadFrames) {
		t.Fatalf("Recv = %v, want ErrTooManyBadFrames", err)
	}
}

func TestRejectFrame(t *testing.T) {
	_, resp, _, iniRaw := pair(t)
	if err := frame.NewWriter(iniRaw).WriteFrame(frame.TypeReject, wire.MarshalReject(wire.CodeUnpaired)); err != nil {
		t.Fatal(err)
	}
	var rej *wire.RejectError
	if _, err := resp.Recv(); !errors.As(err, &rej) || rej.Code != wire.CodeUnpaired {
		t.Fatalf("Recv = %v, want a RejectError with CodeUnpaired", err)
	}
}

// TestSendTooLarge: a record that cannot fit a frame is refused before it is
// sealed, so the link goes on in step with the peer.
func TestSendTooLarge(t *testing.T) {
	ini, resp, _, _ := pair(t)
	if err := ini.Send(make([]byte, frame.MaxFrameSize)); !errors.Is(err, frame.ErrTooLarge) {
		t.Fatalf("oversized record: %v, want frame.ErrTooLarge", err)
	}
	if err := ini.Send([]byte("next")); err != nil {
		t.Fatal(err)
	}
	if got, err := resp.Recv(); err != nil || string(got) != "next" {
		t.Fatalf("after the refused record: %q, %v", got, err)
	}
	if n := resp.ratchet.st.SkippedKeys(); n != 0 {
		t.Fatalf("the receiver holds %d skipped keys: the refused record used a message key", n)
	}
}
