package store

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// TestWriteSeedCorpus regenerates the checked-in seed corpora:
// go test ./store -run TestWriteSeedCorpus -args -update
func TestWriteSeedCorpus(t *testing.T) {
	if !*updateSeeds {
		t.Skip("run with -args -update")
	}
	seed := []byte("0123456789abcdef0123456789abcdef")
	plain, _ := newIdentityFile(seed, nil, *fastKDF)
	sealed, _ := newIdentityFile(seed, []byte("pw"), *fastKDF)
	peers, _ := encodePeers([]Peer{testPeer(t, "alice", 1), testPeer(t, "bob", 2)})
	write := func(target string, seeds ...[]byte) {
		for i, b := range seeds {
			path := filepath.Join("testdata/fuzz", target, fmt.Sprintf("seed%d", i))
			if err := os.WriteFile(path, fmt.Appendf(nil, "go test fuzz v1\n[]byte(%q)\n", b), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	write("FuzzDecodeIdentityFile", plain, sealed, plain[:40], []byte(identityMagic+"\x03"), nil)
	write("FuzzDecodePeers", peers, []byte(`{"version":1,"peers":[]}`), peers[:len(peers)/2], []byte(`{"version":2}`), nil)
}
