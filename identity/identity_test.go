package identity

import (
	"bytes"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

func TestPeerIDKnownValue(t *testing.T) {
	// All-zero seed; the expected value was computed independently with Python
	// (hashlib + a base58 encoder) from the RFC 8032 public key of that seed.
	id, err := FromSeed(make([]byte, SeedSize))
	if err != nil {
		t.Fatal(err)
	}
	s := id.PeerID().String()
	if len(s) != PeerIDStringLen || !strings.HasPrefix(s, "Qm") {
		t.Fatalf("PeerID %q: want 46 characters starting Qm", s)
	}
	const want = "QmPfEPYqQaFsCfVoqhLqwQmh2DqQFeAsQp8wCuorsVFB3d"
	if s != want {
		t.Fatalf("PeerID of zero seed = %s, want %s", s, want)
	}
	p, err := ParsePeerID(s)
	if err != nil || p != id.PeerID() {
		t.Fatalf("ParsePeerID roundtrip: %v %v", p, err)
	}
	if !p.Matches(id.PublicKey()) {
		t.Fatal("Matches(own key) = false")
	}
	other, _ := Generate(nil)
	if p.Matches(other.PublicKey()) || p == other.PeerID() {
		t.Fatal("distinct identities match")
	}
}

func TestParsePeerIDErrors(t *testing.T) {
	good, _ := Generate(nil)
	s := good.PeerID().String()
	bad := []string{"", "Qm", s[:45], s + "1", strings.Replace(s, s[5:6], "0", 1), strings.Repeat("1", 46)}
	for _, in := range bad {
		_, err := ParsePeerID(in)
		var pe *PeerIDError
		if !errors.Is(err, ErrInvalidPeerID) || !errors.As(err, &pe) {
			t.Errorf("ParsePeerID(%q) = %v, want *PeerIDError", in, err)
		}
	}
	if _, err := PeerIDFromBytes(append([]byte{0x13, 0x20}, make([]byte, 32)...)); !errors.Is(err, ErrInvalidPeerID) {
		t.Errorf("wrong multihash code accepted: %v", err)
	}
}

func TestPeerIDJSON(t *testing.T) {
	id, _ := Generate(nil)
	in := struct{ Peer PeerID }{id.PeerID()}
	b, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(b, []byte(id.PeerID().String())) {
		t.Fatalf("JSON %s lacks the text form", b)
	}
	var out struct{ Peer PeerID }
	if err := json.Unmarshal(b, &out); err != nil || out != in {
		t.Fatalf("roundtrip: %v %v", out, err)
	}
	if err := json.Unmarshal([]byte(`{"Peer":"nope"}`), &out); !errors.Is(err, ErrInvalidPeerID) {
		t.Fatalf("bad JSON: %v", err)
	}
}

func TestIdentitySign(t *testing.T) {
	id, _ := Generate(nil)
	sig := id.Sign([]byte("m"))
	if !ed25519.Verify(id.PublicKey(), []byte("m"), sig) {
		t.Fatal("signature does not verify")
	}
	if strings.Contains(id.String(), string(id.UnsafeSeed())) {
		t.Fatal("String leaks")
	}
	if _, err := FromSeed([]byte{1}); err == nil {
		t.Fatal("short seed accepted")
	}
}

func FuzzParsePeerID(f *testing.F) {
	f.Add("QmPfEPYqQaFsCfVoqhLqwQmh2DqQFeAsQp8wCuorsVFB3d")
	f.Add("")
	f.Add("Qm0000000000000000000000000000000000000000000O")
	f.Fuzz(func(t *testing.T, s string) {
		id, err := ParsePeerID(s)
		if err != nil {
			if !errors.Is(err, ErrInvalidPeerID) {
				t.Fatalf("untyped error %v", err)
			}
			return
		}
		if id.String() != s {
			t.Fatalf("roundtrip %q -> %q", s, id.String())
		}
	})
}
