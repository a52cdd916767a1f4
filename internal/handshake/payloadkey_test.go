package handshake

import (
	"bytes"
	"errors"
	"testing"
)

// TestPayloadKey: with the same payload key on both sides the handshake
// succeeds as without one; with different keys the initiator cannot open the
// responder's identity and fails at message 2.
func TestPayloadKey(t *testing.T) {
	alice, bob := testIdentity(t, "alice"), testIdentity(t, "bob")
	k1, k2 := testPSK("payload one"), testPSK("payload two")
	ci, cr := tcpPair(t)
	i, r := runPair(t.Context(), ci, cr,
		Config{Identity: alice, PayloadKey: k1, ExpectedPeer: bob.PeerID(), Payload: []byte("a")},
		Config{Identity: bob, PayloadKey: k1, Payload: []byte("b")})
	if i.err != nil || r.err != nil {
		t.Fatalf("same key: %v / %v", i.err, r.err)
	}
	if i.res.PeerID != bob.PeerID() || r.res.PeerID != alice.PeerID() || string(i.res.PeerPayload) != "b" {
		t.Fatal("same key: wrong peers or payload")
	}

	ci, cr = tcpPair(t)
	i, _ = runPair(t.Context(), ci, cr,
		Config{Identity: alice, PayloadKey: k1},
		Config{Identity: bob, PayloadKey: k2})
	if !errors.Is(i.err, ErrDecrypt) {
		t.Fatalf("different keys: initiator %v, want ErrDecrypt", i.err)
	}

	if _, err := newMachine(Config{Identity: alice, PayloadKey: []byte("short")}, true); !errors.Is(err, ErrConfig) {
		t.Fatalf("short payload key: %v", err)
	}
}

// TestMessage2HidesResponder plays the active attacker of XX: it sends its own
// message 1 and decrypts message 2 with the Noise keys it shares with the
// responder (standing in for decrypting without checking the tag, since it
// gets the prologue here). Without a payload key it reads the responder's
// identity; with one it does not.
func TestMessage2HidesResponder(t *testing.T) {
	bob, mallory := testIdentity(t, "bob"), testIdentity(t, "mallory")
	for _, tc := range []struct {
		name   string
		key    []byte
		hidden bool
	}{
		{"no payload key", nil, false},
		{"payload key", testPSK("pair secret"), true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, err := newMachine(Config{Identity: bob, PayloadKey: tc.key, Prologue: []byte("p")}, false)
			if err != nil {
				t.Fatal(err)
			}
			attacker, err := newMachine(Config{Identity: mallory, Prologue: []byte("p")}, true)
			if err != nil {
				t.Fatal(err)
			}
			m1, err := attacker.writeMsg1()
			if err != nil {
				t.Fatal(err)
			}
			if err := resp.readMsg1(m1); err != nil {
				t.Fatal(err)
			}
			m2, err := resp.writeMsg2()
			if err != nil {
				t.Fatal(err)
			}
			plain, err := attacker.read(m2)
			if err != nil {
				t.Fatalf("the attacker's Noise layer: %v", err)
			}
			if got := bytes.Contains(plain, bob.PublicKey()); got == tc.hidden {
				t.Fatalf("identity key in what the attacker reads: %v", got)
			}
		})
	}
}
