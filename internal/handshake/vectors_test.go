package handshake

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"flag"
	"os"
	"testing"

	"github.com/flynn/noise"
)

var update = flag.Bool("update", false, "rewrite testdata/vectors.json")

// vector is one deterministic handshake. Each side's randomness is the
// stream SHA-256(label || u64be(0)) || SHA-256(label || u64be(1)) || ...
// (see detRand); it draws its static key first, then its ephemeral key.
// Identities come from identity.Generate on the stream "identity " + name.
type vector struct {
	Name          string `json:"name"`
	Initiator     string `json:"initiator"`
	Responder     string `json:"responder"`
	PSK           string `json:"psk"`
	Prologue      string `json:"prologue"`
	InitPayload   string `json:"initiator_payload"`
	RespPayload   string `json:"responder_payload"`
	Msg1          string `json:"msg1"`
	Msg2          string `json:"msg2"`
	Msg3          string `json:"msg3"`
	Msg4          string `json:"msg4"`
	HandshakeHash string `json:"handshake_hash"`
	SharedSecret  string `json:"shared_secret"`
	RatchetKey    string `json:"responder_ratchet_public"`
}

var vectorInputs = []vector{
	{Name: "XX", Initiator: "alice", Responder: "bob", Prologue: "", InitPayload: "", RespPayload: ""},
	{Name: "XX with payloads", Initiator: "alice", Responder: "bob", Prologue: hex.EncodeToString([]byte("cairn")),
		InitPayload: hex.EncodeToString([]byte("Alice")), RespPayload: hex.EncodeToString([]byte("Bob"))},
	{Name: "XXpsk3", Initiator: "alice", Responder: "bob", PSK: hex.EncodeToString(testPSK("vector")),
		InitPayload: hex.EncodeToString([]byte("Alice")), RespPayload: hex.EncodeToString([]byte("Bob"))},
}

func unhex(t *testing.T, s string) []byte {
	t.Helper()
	if s == "" {
		return nil
	}
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// runVector drives both machines in process and fills in the outputs.
func runVector(t *testing.T, in vector) (vector, *machine, *machine) {
	t.Helper()
	icfg := Config{Identity: testIdentity(t, in.Initiator), PSK: unhex(t, in.PSK), Prologue: unhex(t, in.Prologue),
		Payload: unhex(t, in.InitPayload), Rand: newDetRand("rand " + in.Initiator)}
	rcfg := Config{Identity: testIdentity(t, in.Responder), PSK: unhex(t, in.PSK), Prologue: unhex(t, in.Prologue),
		Payload: unhex(t, in.RespPayload), Rand: newDetRand("rand " + in.Responder)}
	i, err := newMachine(icfg, true)
	if err != nil {
		t.Fatal(err)
	}
	r, err := newMachine(rcfg, false)
	if err != nil {
		t.Fatal(err)
	}
	out := in
	m1, err := i.writeMsg1()
	if err != nil {
		t.Fatal(err)
	}
	if err := r.readMsg1(m1); err != nil {
		t.Fatal(err)
	}
	m2, _ := r.writeMsg2()
	if err := i.readMsg2(m2); err != nil {
		t.Fatal(err)
	}
	m3, _ := i.writeMsg3()
	if err := r.readMsg3(m3); err != nil {
		t.Fatal(err)
	}
	m4, _ := r.writeFinished()
	if err := i.readFinished(m4); err != nil {
		t.Fatal(err)
	}
	ir, rr := i.result(), r.result()
	if !bytes.Equal(ir.HandshakeHash, rr.HandshakeHash) || ir.SharedSecret != rr.SharedSecret {
		t.Fatal("sides disagree")
	}
	out.Msg1, out.Msg2, out.Msg3, out.Msg4 = hex.EncodeToString(m1), hex.EncodeToString(m2), hex.EncodeToString(m3), hex.EncodeToString(m4)
	out.HandshakeHash = hex.EncodeToString(ir.HandshakeHash)
	out.SharedSecret = hex.EncodeToString(ir.SharedSecret[:])
	out.RatchetKey = hex.EncodeToString(rr.RatchetPrivate.PublicKey().Bytes())
	return out, i, r
}

func TestVectors(t *testing.T) {
	const path = "testdata/vectors.json"
	if *update {
		var all []vector
		for _, in := range vectorInputs {
			v, _, _ := runVector(t, in)
			all = append(all, v)
		}
		b, _ := json.MarshalIndent(all, "", "  ")
		if err := os.WriteFile(path, append(b, '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	dec := json.NewDecoder(f)
	dec.DisallowUnknownFields()
	var want []vector
	if err := dec.Decode(&want); err != nil {
		t.Fatal(err)
	}
	if len(want) != len(vectorInputs) {
		t.Fatalf("%d vectors in %s, want %d", len(want), path, len(vectorInputs))
	}
	for _, w := range want {
		t.Run(w.Name, func(t *testing.T) {
			got, _, _ := runVector(t, w)
			if got != w {
				t.Fatalf("got  %+v\nwant %+v", got, w)
			}
		})
	}
}

// TestVectorsWithFlynnDH replays the vectors with flynn/noise's own DH25519
// on both sides (raw HandshakeStates, the same keys and payloads), checking
// that the keyring changes nothing on the wire.
func TestVectorsWithFlynnDH(t *testing.T) {
	for _, in := range vectorInputs {
		t.Run(in.Name, func(t *testing.T) {
			want, im, rm := runVector(t, in)
			side := func(m *machine, label string, initiator bool) *noise.HandshakeState {
				rng := newDetRand("rand " + label)
				static, err := noise.DH25519.GenerateKeypair(rng)
				if err != nil {
					t.Fatal(err)
				}
				cfg := noise.Config{CipherSuite: noise.NewCipherSuite(noise.DH25519, noise.CipherChaChaPoly, noise.HashSHA256),
					Random: rng, Pattern: noise.HandshakeXX, Initiator: initiator, Prologue: unhex(t, in.Prologue), StaticKeypair: static}
				if in.PSK != "" {
					cfg.PresharedKey, cfg.PresharedKeyPlacement = unhex(t, in.PSK), 3
				}
				hs, err := noise.NewHandshakeState(cfg)
				if err != nil {
					t.Fatal(err)
				}
				return hs
			}
			i, r := side(im, in.Initiator, true), side(rm, in.Responder, false)
			m1, _, _, _ := i.WriteMessage(nil, nil)
			if _, _, _, err := r.ReadMessage(nil, m1); err != nil {
				t.Fatal(err)
			}
			m2, _, _, _ := r.WriteMessage(nil, rm.payload)
			if _, _, _, err := i.ReadMessage(nil, m2); err != nil {
				t.Fatal(err)
			}
			m3, _, _, _ := i.WriteMessage(nil, im.payload)
			if _, _, _, err := r.ReadMessage(nil, m3); err != nil {
				t.Fatal(err)
			}
			if hex.EncodeToString(m1) != want.Msg1 || hex.EncodeToString(m2) != want.Msg2 || hex.EncodeToString(m3) != want.Msg3 {
				t.Fatal("messages differ from flynn/noise's DH25519")
			}
			if hex.EncodeToString(i.ChannelBinding()) != want.HandshakeHash {
				t.Fatal("handshake hash differs from flynn/noise's DH25519")
			}
		})
	}
}
