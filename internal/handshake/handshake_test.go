package handshake

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"testing"
	"time"

	"github.com/cairn-dev/cairn/internal/frame"
	"github.com/cairn-dev/cairn/internal/wire"
)

func TestHandshake(t *testing.T) {
	alice, bob := testIdentity(t, "alice"), testIdentity(t, "bob")
	for _, tr := range transports {
		for _, psk := range [][]byte{nil, testPSK("a")} {
			name := tr.name + "/XX"
			if psk != nil {
				name = tr.name + "/XXpsk3"
			}
			t.Run(name, func(t *testing.T) {
				t.Parallel()
				ci, cr := tr.pair(t)
				i, r := runPair(t.Context(), ci, cr,
					Config{Identity: alice, PSK: psk, ExpectedPeer: bob.PeerID(), Payload: []byte("Alice's laptop"), Prologue: []byte("p")},
					Config{Identity: bob, PSK: psk, ExpectedKey: alice.PublicKey(), Payload: []byte("Bob's phone"), Prologue: []byte("p")})
				if i.err != nil || r.err != nil {
					t.Fatalf("initiator: %v; responder: %v", i.err, r.err)
				}
				if i.res.PeerID != bob.PeerID() || r.res.PeerID != alice.PeerID() {
					t.Fatal("wrong peer ids")
				}
				if !bytes.Equal(i.res.PeerKey, bob.PublicKey()) || !bytes.Equal(r.res.PeerKey, alice.PublicKey()) {
					t.Fatal("wrong peer keys")
				}
				if string(i.res.PeerPayload) != "Bob's phone" || string(r.res.PeerPayload) != "Alice's laptop" {
					t.Fatalf("payloads %q %q", i.res.PeerPayload, r.res.PeerPayload)
				}
				if !bytes.Equal(i.res.HandshakeHash, r.res.HandshakeHash) || len(i.res.HandshakeHash) != 32 {
					t.Fatal("handshake hashes differ")
				}
				if i.res.SharedSecret != r.res.SharedSecret || i.res.SharedSecret == [32]byte{} {
					t.Fatal("shared secrets differ")
				}
				if r.res.RatchetPrivate == nil || i.res.RatchetPrivate != nil || r.res.RatchetRemote != nil {
					t.Fatal("ratchet keys on the wrong side")
				}
				if !bytes.Equal(r.res.RatchetPrivate.PublicKey().Bytes(), i.res.RatchetRemote) {
					t.Fatal("initiator's ratchet remote is not the responder's ratchet key")
				}
				// The conn is usable afterwards: no deadline left behind.
				go func() { _ = frame.NewWriter(cr).WriteFrame(frame.TypeClose, nil) }()
				if typ, _, err := frame.NewReader(ci, 0).ReadFrame(); err != nil || typ != frame.TypeClose {
					t.Fatalf("conn after handshake: %v %v", typ, err)
				}
			})
		}
	}
}

func TestFreshKeysEveryHandshake(t *testing.T) {
	alice, bob := testIdentity(t, "alice"), testIdentity(t, "bob")
	var prev *Result
	for range 2 {
		ci, cr := net.Pipe()
		i, r := runPair(t.Context(), ci, cr, Config{Identity: alice}, Config{Identity: bob})
		ci.Close()
		cr.Close()
		if i.err != nil || r.err != nil {
			t.Fatal(i.err, r.err)
		}
		if prev != nil && (bytes.Equal(prev.RatchetRemote, i.res.RatchetRemote) || prev.SharedSecret == i.res.SharedSecret) {
			t.Fatal("static key or secret reused across handshakes")
		}
		prev = i.res
	}
}

func TestWrongPSK(t *testing.T) {
	alice, bob := testIdentity(t, "alice"), testIdentity(t, "bob")
	for _, tr := range transports {
		t.Run(tr.name, func(t *testing.T) {
			t.Parallel()
			ci, cr := tr.pair(t)
			i, r := runPair(t.Context(), ci, cr,
				Config{Identity: alice, PSK: testPSK("one")},
				Config{Identity: bob, PSK: testPSK("two")})
			if !errors.Is(r.err, ErrDecrypt) || !errors.Is(r.err, ErrHandshakeFailed) {
				t.Fatalf("responder: %v", r.err)
			}
			if !errors.Is(i.err, ErrDecrypt) || !errors.Is(i.err, ErrRejected) {
				t.Fatalf("initiator: %v", i.err)
			}
			var rej *wire.RejectError
			if !errors.As(i.err, &rej) || rej.Code != wire.CodeWrongSecret {
				t.Fatalf("initiator: %v", i.err)
			}
		})
	}
}

func TestPSKOnOneSideOnly(t *testing.T) {
	alice, bob := testIdentity(t, "alice"), testIdentity(t, "bob")
	ci, cr := net.Pipe()
	defer ci.Close()
	defer cr.Close()
	i, r := runPair(t.Context(), ci, cr, Config{Identity: alice, PSK: testPSK("one")}, Config{Identity: bob})
	if i.err == nil || r.err == nil {
		t.Fatalf("psk mismatch accepted: %v / %v", i.err, r.err)
	}
}

func TestExpectedPeerMismatch(t *testing.T) {
	alice, bob, carol := testIdentity(t, "alice"), testIdentity(t, "bob"), testIdentity(t, "carol")
	for _, tr := range transports {
		t.Run(tr.name+"/initiator-expects", func(t *testing.T) {
			t.Parallel()
			ci, cr := tr.pair(t)
			i, r := runPair(t.Context(), ci, cr,
				Config{Identity: alice, ExpectedPeer: carol.PeerID()},
				Config{Identity: bob})
			var mm *PeerIDMismatchError
			if !errors.As(i.err, &mm) || mm.Expected != carol.PeerID() || mm.Actual != bob.PeerID() {
				t.Fatalf("initiator: %v", i.err)
			}
			if !errors.Is(i.err, ErrPeerMismatch) {
				t.Fatal("not ErrPeerMismatch")
			}
			var rej *wire.RejectError
			if !errors.As(r.err, &rej) || rej.Code != wire.CodeUnknownPeer || !errors.Is(r.err, ErrRejected) {
				t.Fatalf("responder: %v", r.err)
			}
		})
		t.Run(tr.name+"/responder-pins-key", func(t *testing.T) {
			t.Parallel()
			ci, cr := tr.pair(t)
			i, r := runPair(t.Context(), ci, cr,
				Config{Identity: alice},
				Config{Identity: bob, ExpectedKey: carol.PublicKey()})
			var mm *PeerIDMismatchError
			if !errors.As(r.err, &mm) || mm.Expected != carol.PeerID() || mm.Actual != alice.PeerID() {
				t.Fatalf("responder: %v", r.err)
			}
			if !errors.Is(i.err, ErrRejected) {
				t.Fatalf("initiator: %v", i.err)
			}
		})
	}
}

func TestBadConfig(t *testing.T) {
	alice := testIdentity(t, "alice")
	for name, cfg := range map[string]Config{
		"no identity":  {},
		"short psk":    {Identity: alice, PSK: make([]byte, 16)},
		"long payload": {Identity: alice, Payload: make([]byte, MaxAppData+1)},
		"bad key":      {Identity: alice, ExpectedKey: make([]byte, 3)},
	} {
		var buf bytes.Buffer
		_, err := Initiator(t.Context(), &buf, cfg)
		if !errors.Is(err, ErrConfig) || buf.Len() != 0 {
			t.Errorf("%s: %v, wrote %d bytes", name, err, buf.Len())
		}
	}
}

func TestGarbageFrames(t *testing.T) {
	bob := testIdentity(t, "bob")
	tests := []struct {
		name  string
		input []byte
		want  error
	}{
		{"wrong type", mustFrame(frame.TypeRatchet, make([]byte, 32)), ErrBadMessage},
		{"short message", mustFrame(frame.TypeHandshake, make([]byte, 10)), ErrBadMessage},
		{"payload in message 1", mustFrame(frame.TypeHandshake, make([]byte, 40)), ErrBadMessage},
		{"huge frame", []byte{0x7f, 0, 0, 0, 1}, ErrBadMessage},
		{"empty frame", []byte{0, 0, 0, 0}, ErrBadMessage},
		{"truncated", []byte{0, 0, 0, 33, 1, 2, 3}, frame.ErrTruncated},
		{"bad reject", mustFrame(frame.TypeReject, nil), ErrBadMessage},
		{"reject", mustFrame(frame.TypeReject, wire.MarshalReject(wire.CodeBusy)), ErrRejected},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			conn := &fakeConn{in: bytes.NewReader(tt.input)}
			_, err := Responder(t.Context(), conn, Config{Identity: bob})
			if !errors.Is(err, tt.want) || !errors.Is(err, ErrHandshakeFailed) {
				t.Fatalf("got %v, want %v", err, tt.want)
			}
		})
	}
}

// TestGarbageMessage2 feeds the initiator garbage where message 2 belongs.
func TestGarbageMessage2(t *testing.T) {
	alice := testIdentity(t, "alice")
	for name, msg := range map[string][]byte{
		"zero key": make([]byte, 32+48+MaxPayloadSize),
		"random":   bytes.Repeat([]byte{0x5a}, 200),
	} {
		conn := &fakeConn{in: bytes.NewReader(mustFrame(frame.TypeHandshake, msg))}
		_, err := Initiator(t.Context(), conn, Config{Identity: alice})
		if !errors.Is(err, ErrBadMessage) && !errors.Is(err, ErrDecrypt) {
			t.Fatalf("%s: %v", name, err)
		}
		// A Reject follows message 1.
		r := frame.NewReader(&conn.out, 0)
		if typ, _, err := r.ReadFrame(); err != nil || typ != frame.TypeHandshake {
			t.Fatalf("%s: first frame %v %v", name, typ, err)
		}
		if typ, _, err := r.ReadFrame(); err != nil || typ != frame.TypeReject {
			t.Fatalf("%s: second frame %v %v", name, typ, err)
		}
	}
}

func TestCancel(t *testing.T) {
	alice := testIdentity(t, "alice")
	for _, tr := range transports {
		t.Run(tr.name, func(t *testing.T) {
			ci, cr := tr.pair(t)
			// The peer reads message 1 and then says nothing.
			go func() { _, _, _ = frame.NewReader(cr, 0).ReadFrame() }()
			ctx, cancel := context.WithCancel(t.Context())
			time.AfterFunc(50*time.Millisecond, cancel)
			start := time.Now()
			_, err := Initiator(ctx, ci, Config{Identity: alice})
			if !errors.Is(err, context.Canceled) || !errors.Is(err, ErrHandshakeFailed) {
				t.Fatalf("got %v", err)
			}
			if d := time.Since(start); d > 5*time.Second {
				t.Fatalf("took %v", d)
			}
			// The deadline was cleared: the conn still works.
			go func() { _ = frame.NewWriter(cr).WriteFrame(frame.TypeClose, nil) }()
			if _, _, err := frame.NewReader(ci, 0).ReadFrame(); err != nil {
				t.Fatalf("conn unusable after cancel: %v", err)
			}
		})
	}
}

func TestDeadline(t *testing.T) {
	alice := testIdentity(t, "alice")
	ci, cr := net.Pipe()
	defer ci.Close()
	defer cr.Close()
	go func() { _, _, _ = frame.NewReader(cr, 0).ReadFrame() }()
	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	_, err := Initiator(ctx, ci, Config{Identity: alice})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("got %v", err)
	}
}

func TestCancelledBeforeStart(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	var buf bytes.Buffer
	_, err := Initiator(ctx, &buf, Config{Identity: testIdentity(t, "alice")})
	if !errors.Is(err, context.Canceled) || buf.Len() != 0 {
		t.Fatalf("got %v", err)
	}
}

// TestTamperedSignature drives both machines directly and corrupts the
// responder's signature before message 2.
func TestTamperedSignature(t *testing.T) {
	alice, bob := testIdentity(t, "alice"), testIdentity(t, "bob")
	for _, tamper := range []struct {
		name string
		f    func(p []byte)
		want error
	}{
		{"signature", func(p []byte) { p[1+32] ^= 1 }, ErrBadSignature},
		{"key", func(p []byte) { p[1] ^= 1 }, ErrBadSignature},
		{"version", func(p []byte) { p[0] = 2 }, ErrBadPayload},
		{"length", func(p []byte) { p[payloadHeaderSize-1]++ }, ErrBadPayload},
	} {
		t.Run(tamper.name, func(t *testing.T) {
			i, err := newMachine(Config{Identity: alice}, true)
			if err != nil {
				t.Fatal(err)
			}
			r, err := newMachine(Config{Identity: bob, Payload: []byte("x")}, false)
			if err != nil {
				t.Fatal(err)
			}
			msg1, _ := i.writeMsg1()
			if err := r.readMsg1(msg1); err != nil {
				t.Fatal(err)
			}
			tamper.f(r.payload)
			msg2, _ := r.writeMsg2()
			if err := i.readMsg2(msg2); !errors.Is(err, tamper.want) {
				t.Fatalf("got %v, want %v", err, tamper.want)
			}
		})
	}
}

// TestSignatureBindsStaticKey replays a valid payload (from another
// handshake) with a different static key.
func TestSignatureBindsStaticKey(t *testing.T) {
	alice, bob := testIdentity(t, "alice"), testIdentity(t, "bob")
	other, err := newMachine(Config{Identity: bob}, false)
	if err != nil {
		t.Fatal(err)
	}
	i, _ := newMachine(Config{Identity: alice}, true)
	r, _ := newMachine(Config{Identity: bob}, false)
	msg1, _ := i.writeMsg1()
	if err := r.readMsg1(msg1); err != nil {
		t.Fatal(err)
	}
	r.payload = other.payload
	msg2, _ := r.writeMsg2()
	if err := i.readMsg2(msg2); !errors.Is(err, ErrBadSignature) {
		t.Fatalf("got %v", err)
	}
}

func TestKeyring(t *testing.T) {
	var k keyring
	a, _, err := k.newKey(newDetRand("a"))
	if err != nil {
		t.Fatal(err)
	}
	var k2 keyring
	b, _, _ := k2.newKey(newDetRand("b"))
	x, err := k.DH(a.Private, b.Public)
	if err != nil {
		t.Fatal(err)
	}
	// A key the ring does not hold still works (the slow way).
	y, err := (&keyring{}).DH(bytes.Clone(b.Private), a.Public)
	if err != nil || !bytes.Equal(x, y) {
		t.Fatalf("DH mismatch: %v", err)
	}
	if _, err := k.DH(a.Private, make([]byte, 32)); !errors.Is(err, errLowOrder) {
		t.Fatalf("low-order key: %v", err)
	}
	k.wipe()
	if !bytes.Equal(a.Private, make([]byte, 32)) {
		t.Fatal("wipe left private bytes")
	}
}

func TestPeerIDMismatchErrorText(t *testing.T) {
	a, b := testIdentity(t, "a").PeerID(), testIdentity(t, "b").PeerID()
	err := error(&PeerIDMismatchError{Expected: a, Actual: b})
	if err.Error() != "peer id mismatch: expected "+a.String()+", got "+b.String() {
		t.Fatal(err)
	}
}

func mustFrame(t frame.Type, body []byte) []byte {
	b, err := frame.AppendFrame(nil, t, body)
	if err != nil {
		panic(err)
	}
	return b
}

// fakeConn reads a fixed input and records what is written.
type fakeConn struct {
	in  *bytes.Reader
	out bytes.Buffer
}

func (c *fakeConn) Read(p []byte) (int, error)  { return c.in.Read(p) }
func (c *fakeConn) Write(p []byte) (int, error) { return c.out.Write(p) }

func TestIsPeerFault(t *testing.T) {
	for _, err := range []error{ErrDecrypt, ErrBadMessage, ErrBadPayload, ErrBadSignature, ErrRejected} {
		if !IsPeerFault(fmt.Errorf("%w: step: %w", ErrHandshakeFailed, err)) {
			t.Errorf("IsPeerFault(%v) = false", err)
		}
	}
	for _, err := range []error{io.EOF, context.Canceled, &PeerIDMismatchError{}, ErrConfig} {
		if IsPeerFault(fmt.Errorf("%w: %w", ErrHandshakeFailed, err)) {
			t.Errorf("IsPeerFault(%v) = true", err)
		}
	}
}
