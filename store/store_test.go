package store

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/cairn-dev/cairn/identity"
)

// fastKDF keeps sealed tests quick; the format is the same.
var fastKDF = &kdfParams{time: 1, memory: 64, threads: 1}

func openStore(t *testing.T, dir string, pass string) *Store {
	t.Helper()
	s, err := Open(dir, Options{Passphrase: []byte(pass), kdf: fastKDF})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func mode(t *testing.T, path string) os.FileMode {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Mode().Perm()
}

func TestOpenCreatesDir(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "a", "data")
	openStore(t, dir, "")
	if m := mode(t, dir); m != 0o700 {
		t.Fatalf("dir mode %04o", m)
	}
}

func TestOpenRefusesWritableDir(t *testing.T) {
	dir := t.TempDir()
	if err := os.Chmod(dir, 0o777); err != nil {
		t.Fatal(err)
	}
	_, err := Open(dir, Options{})
	var pe *PermissionError
	if !errors.As(err, &pe) || pe.Path != dir || !errors.Is(err, ErrInsecurePermissions) {
		t.Fatalf("got %v", err)
	}
}

func TestIdentityCreatedAndPersisted(t *testing.T) {
	dir := t.TempDir()
	s := openStore(t, dir, "")
	id, err := s.Identity()
	if err != nil {
		t.Fatal(err)
	}
	if m := mode(t, filepath.Join(dir, identityFileName)); m != 0o600 {
		t.Fatalf("identity.key mode %04o", m)
	}
	again, _ := s.Identity()
	if again != id {
		t.Fatal("identity not cached")
	}
	s.Close()
	if _, err := s.Identity(); err != nil {
		t.Fatal("cached identity lost on close:", err)
	}
	reopened, err := openStore(t, dir, "").Identity()
	if err != nil || reopened.PeerID() != id.PeerID() {
		t.Fatalf("reopen: %v", err)
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if e.Name() != identityFileName && e.Name() != lockFileName {
			t.Fatalf("stray file %s", e.Name())
		}
	}
}

func TestIdentityRefusesInsecureFile(t *testing.T) {
	dir := t.TempDir()
	if _, err := openStore(t, dir, "").Identity(); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, identityFileName)
	before, _ := os.ReadFile(path)
	for _, m := range []os.FileMode{0o644, 0o640, 0o604, 0o660} {
		if err := os.Chmod(path, m); err != nil {
			t.Fatal(err)
		}
		_, err := openStore(t, dir, "").Identity()
		var pe *PermissionError
		if !errors.As(err, &pe) || pe.Path != path || !errors.Is(err, ErrInsecurePermissions) {
			t.Fatalf("mode %04o: got %v", m, err)
		}
	}
	after, _ := os.ReadFile(path)
	if !bytes.Equal(before, after) {
		t.Fatal("identity file changed")
	}
}

func TestIdentityCorrupt(t *testing.T) {
	for _, pass := range []string{"", "secret"} {
		dir := t.TempDir()
		if _, err := openStore(t, dir, pass).Identity(); err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(dir, identityFileName)
		good, _ := os.ReadFile(path)
		cases := map[string][]byte{
			"empty":     {},
			"truncated": good[:len(good)-1],
			"magic":     append([]byte("cairn-identity-v2\n"), good[18:]...),
			"appended":  append(bytes.Clone(good), 0),
		}
		for i := range good {
			b := bytes.Clone(good)
			b[i] ^= 0x40
			cases[fmt.Sprintf("flip %d", i)] = b
		}
		for name, b := range cases {
			if err := os.WriteFile(path, b, 0o600); err != nil {
				t.Fatal(err)
			}
			_, err := openStore(t, dir, pass).Identity()
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("pass %q, %s: got %v", pass, name, err)
			}
			if got, _ := os.ReadFile(path); !bytes.Equal(got, b) {
				t.Fatalf("%s: file rewritten", name)
			}
		}
	}
}

func TestSealed(t *testing.T) {
	dir := t.TempDir()
	s := openStore(t, dir, "correct horse")
	id, err := s.Identity()
	if err != nil {
		t.Fatal(err)
	}
	if !s.Sealed() {
		t.Fatal("not sealed")
	}
	raw, _ := os.ReadFile(filepath.Join(dir, identityFileName))
	if bytes.Contains(raw, id.UnsafeSeed()) {
		t.Fatal("seed in the clear")
	}
	got, err := openStore(t, dir, "correct horse").Identity()
	if err != nil || got.PeerID() != id.PeerID() {
		t.Fatalf("reopen: %v", err)
	}
	if _, err := openStore(t, dir, "wrong").Identity(); !errors.Is(err, ErrWrongPassphrase) {
		t.Fatalf("wrong passphrase: %v", err)
	}
	if _, err := openStore(t, dir, "").Identity(); !errors.Is(err, ErrPassphraseRequired) {
		t.Fatalf("no passphrase: %v", err)
	}
}

func TestSealedDefaultParams(t *testing.T) {
	if testing.Short() {
		t.Skip("argon2id with 64 MiB")
	}
	dir := t.TempDir()
	s, err := Open(dir, Options{Passphrase: []byte("pw")})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	id, err := s.Identity()
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := os.ReadFile(filepath.Join(dir, identityFileName))
	f, err := decodeIdentityFile(raw)
	if err != nil || f.kdf != defaultKDF {
		t.Fatalf("%v %+v", err, f.kdf)
	}
	s2, _ := Open(dir, Options{Passphrase: []byte("pw")})
	defer s2.Close()
	if got, err := s2.Identity(); err != nil || got.PeerID() != id.PeerID() {
		t.Fatal(err)
	}
}

func TestConcurrentIdentityCreation(t *testing.T) {
	dir := t.TempDir()
	var wg sync.WaitGroup
	ids := make([]identity.PeerID, 8)
	for i := range ids {
		wg.Go(func() {
			s, err := Open(dir, Options{})
			if err != nil {
				t.Error(err)
				return
			}
			defer s.Close()
			id, err := s.Identity()
			if err != nil {
				t.Error(err)
				return
			}
			ids[i] = id.PeerID()
		})
	}
	wg.Wait()
	for _, id := range ids[1:] {
		if id != ids[0] {
			t.Fatal("two identities created")
		}
	}
}

func testPeer(t testing.TB, name string, n byte) Peer {
	id, err := identity.FromSeed(bytes.Repeat([]byte{n}, 32))
	if err != nil {
		t.Fatal(err)
	}
	p := Peer{ID: id.PeerID(), PublicKey: id.PublicKey(), Name: name,
		PairedAt: time.Date(2025, 1, 2, 3, 4, 5, 6, time.UTC), LastSeen: time.Date(2025, 2, 2, 3, 4, 5, 0, time.UTC)}
	p.PairingSecret[0], p.PairingSecret[31] = n, 1
	return p
}

func samePeer(a, b Peer) bool {
	return a.ID == b.ID && bytes.Equal(a.PublicKey, b.PublicKey) && a.Name == b.Name &&
		a.PairingSecret == b.PairingSecret && a.PairedAt.Equal(b.PairedAt) && a.LastSeen.Equal(b.LastSeen)
}

func TestPeers(t *testing.T) {
	dir := t.TempDir()
	s := openStore(t, dir, "")
	if ps, err := s.Peers(); err != nil || len(ps) != 0 {
		t.Fatalf("empty store: %v %v", ps, err)
	}
	bob, alice, anon := testPeer(t, "bob", 1), testPeer(t, "alice", 2), testPeer(t, "", 3)
	for _, p := range []Peer{bob, alice, anon} {
		if err := s.PutPeer(p); err != nil {
			t.Fatal(err)
		}
	}
	if m := mode(t, filepath.Join(dir, peersFileName)); m != 0o600 {
		t.Fatalf("peers.json mode %04o", m)
	}
	ps, err := s.Peers()
	if err != nil || len(ps) != 3 || ps[0].Name != "" || ps[1].Name != "alice" || ps[2].Name != "bob" {
		t.Fatalf("peers %v %v", ps, err)
	}
	got, err := s.Peer(alice.ID)
	if err != nil || !samePeer(got, alice) {
		t.Fatalf("Peer: %+v %v", got, err)
	}
	if err := s.RenamePeer(alice.ID, "Alice's laptop"); err != nil {
		t.Fatal(err)
	}
	seen := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	if err := s.TouchPeer(alice.ID, seen); err != nil {
		t.Fatal(err)
	}
	if err := s.DeletePeer(bob.ID); err != nil {
		t.Fatal(err)
	}
	for _, err := range []error{s.DeletePeer(bob.ID), s.RenamePeer(bob.ID, "x"), s.TouchPeer(bob.ID, seen)} {
		if !errors.Is(err, ErrUnknownPeer) {
			t.Fatalf("unknown peer: %v", err)
		}
	}
	if _, err := s.Peer(bob.ID); !errors.Is(err, ErrUnknownPeer) {
		t.Fatal(err)
	}
	// Reopen: everything persisted.
	s2 := openStore(t, dir, "")
	got, err = s2.Peer(alice.ID)
	if err != nil || got.Name != "Alice's laptop" || !got.LastSeen.Equal(seen) || got.PairingSecret != alice.PairingSecret {
		t.Fatalf("after reopen: %+v %v", got, err)
	}
	if ps, _ := s2.Peers(); len(ps) != 2 {
		t.Fatalf("%d peers after reopen", len(ps))
	}
}

func TestPutPeerInvalid(t *testing.T) {
	s := openStore(t, t.TempDir(), "")
	good := testPeer(t, "x", 1)
	other := testPeer(t, "y", 2)
	bad := map[string]Peer{}
	p := good
	p.ID = other.ID
	bad["id mismatch"] = p
	p = good
	p.PublicKey = p.PublicKey[:10]
	bad["short key"] = p
	p = good
	p.PairingSecret = [32]byte{}
	bad["no secret"] = p
	p = good
	p.Name = string(make([]byte, MaxNameLen+1))
	bad["long name"] = p
	p = good
	p.Name = "\xff"
	bad["bad utf8"] = p
	for name, p := range bad {
		if err := s.PutPeer(p); !errors.Is(err, ErrInvalidPeer) {
			t.Errorf("%s: %v", name, err)
		}
	}
	p = good
	p.ID = identity.PeerID{}
	if err := s.PutPeer(p); err != nil {
		t.Fatalf("zero id: %v", err)
	}
	if _, err := s.Peer(good.ID); err != nil {
		t.Fatal(err)
	}
}

func TestPeersCorrupt(t *testing.T) {
	dir := t.TempDir()
	s := openStore(t, dir, "")
	if err := s.PutPeer(testPeer(t, "a", 1)); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, peersFileName)
	good, _ := os.ReadFile(path)
	for name, b := range map[string][]byte{
		"empty":     {},
		"truncated": good[:len(good)/2],
		"garbage":   []byte("\x00\x01"),
		"trailing":  append(bytes.Clone(good), "{}"...),
		"version":   bytes.Replace(good, []byte(`"version": 1`), []byte(`"version": 2`), 1),
		"unknown":   bytes.Replace(good, []byte(`"version": 1`), []byte(`"version": 1, "x": 0`), 1),
	} {
		if err := os.WriteFile(path, b, 0o600); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Peers(); !errors.Is(err, ErrCorrupt) {
			t.Fatalf("%s: Peers: %v", name, err)
		}
		if err := s.PutPeer(testPeer(t, "b", 2)); !errors.Is(err, ErrCorrupt) {
			t.Fatalf("%s: PutPeer: %v", name, err)
		}
		if got, _ := os.ReadFile(path); !bytes.Equal(got, b) {
			t.Fatalf("%s: corrupt trust store overwritten", name)
		}
	}
	if err := os.WriteFile(path, good, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Peers(); !errors.Is(err, ErrInsecurePermissions) {
		t.Fatalf("0644 peers.json: %v", err)
	}
}

func TestConcurrentPutPeer(t *testing.T) {
	dir := t.TempDir()
	s1 := openStore(t, dir, "")
	s2 := openStore(t, dir, "") // a second handle: its own flock file description
	var wg sync.WaitGroup
	const n = 20
	for i := range n {
		s := s1
		if i%2 == 1 {
			s = s2
		}
		wg.Go(func() {
			if err := s.PutPeer(testPeer(t, fmt.Sprintf("p%02d", i), byte(i+1))); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	ps, err := s1.Peers()
	if err != nil || len(ps) != n {
		t.Fatalf("%d peers, %v", len(ps), err)
	}
}

func TestState(t *testing.T) {
	dir := t.TempDir()
	s := openStore(t, dir, "")
	if _, err := s.State("sess-1"); !errors.Is(err, ErrNoState) {
		t.Fatal(err)
	}
	if err := s.PutState("sess-1", []byte("v1")); err != nil {
		t.Fatal(err)
	}
	if err := s.PutState("sess-1", []byte("v2")); err != nil {
		t.Fatal(err)
	}
	got, err := openStore(t, dir, "").State("sess-1")
	if err != nil || string(got) != "v2" {
		t.Fatalf("%q %v", got, err)
	}
	path := filepath.Join(dir, stateDirName, "sess-1")
	if m := mode(t, path); m != 0o600 {
		t.Fatalf("state mode %04o", m)
	}
	if m := mode(t, filepath.Join(dir, stateDirName)); m != 0o700 {
		t.Fatalf("state dir mode %04o", m)
	}
	raw, _ := os.ReadFile(path)
	raw[len(raw)-1] ^= 1
	_ = os.WriteFile(path, raw, 0o600)
	if _, err := s.State("sess-1"); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("corrupt: %v", err)
	}
	if err := s.DeleteState("sess-1"); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteState("sess-1"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.State("sess-1"); !errors.Is(err, ErrNoState) {
		t.Fatal(err)
	}
	if err := s.PutState("empty", nil); err != nil {
		t.Fatal(err)
	}
	if got, err := s.State("empty"); err != nil || len(got) != 0 {
		t.Fatal(got, err)
	}
	for _, name := range []string{"", ".hidden", "../x", "a/b", "a b", string(make([]byte, 129))} {
		if err := s.PutState(name, nil); !errors.Is(err, ErrInvalidName) {
			t.Errorf("PutState(%q): %v", name, err)
		}
		if _, err := s.State(name); !errors.Is(err, ErrInvalidName) {
			t.Errorf("State(%q): %v", name, err)
		}
		if err := s.DeleteState(name); !errors.Is(err, ErrInvalidName) {
			t.Errorf("DeleteState(%q): %v", name, err)
		}
	}
}

func TestClosed(t *testing.T) {
	s := openStore(t, t.TempDir(), "")
	s.Close()
	if err := s.PutPeer(testPeer(t, "a", 1)); !errors.Is(err, ErrClosed) {
		t.Fatal(err)
	}
	if _, err := s.Identity(); !errors.Is(err, ErrClosed) {
		t.Fatal(err)
	}
}
