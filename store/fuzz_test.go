package store

import (
	"bytes"
	"errors"
	"path/filepath"
	"testing"
)

func needSeeds(f *testing.F, name string) {
	seeds, _ := filepath.Glob("testdata/fuzz/" + name + "/*")
	if len(seeds) == 0 {
		f.Fatalf("no seed corpus in testdata/fuzz/%s", name)
	}
}

// FuzzDecodeIdentityFile: no panic, errors wrap ErrCorrupt, and a file that
// decodes re-encodes to the same bytes.
func FuzzDecodeIdentityFile(f *testing.F) {
	needSeeds(f, "FuzzDecodeIdentityFile")
	seed := bytes.Repeat([]byte{7}, 32)
	plain, _ := newIdentityFile(seed, nil, *fastKDF)
	sealed, _ := newIdentityFile(seed, []byte("pw"), *fastKDF)
	f.Add(plain)
	f.Add(sealed)
	f.Add([]byte(identityMagic))
	f.Fuzz(func(t *testing.T, b []byte) {
		id, err := decodeIdentityFile(b)
		if err != nil {
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("undocumented error %v", err)
			}
			return
		}
		if again := encodeIdentityFile(id); !bytes.Equal(again, b) {
			t.Fatalf("re-encoding differs")
		}
	})
}

// FuzzDecodePeers: no panic, errors wrap ErrCorrupt, and a trust store that
// decodes encodes to one that decodes to the same peers and encodes to the
// same bytes again.
func FuzzDecodePeers(f *testing.F) {
	needSeeds(f, "FuzzDecodePeers")
	good, _ := encodePeers([]Peer{testPeer(f, "alice", 1), testPeer(f, "", 2)})
	f.Add(good)
	f.Add([]byte(`{"version":1,"peers":[]}`))
	f.Add([]byte(`{"version":1,"peers":null}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		peers, err := decodePeers(b)
		if err != nil {
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("undocumented error %v", err)
			}
			return
		}
		enc, err := encodePeers(peers)
		if err != nil {
			t.Fatalf("valid trust store does not encode: %v", err)
		}
		again, err := decodePeers(enc)
		if err != nil {
			t.Fatalf("re-encoded trust store does not decode: %v", err)
		}
		if len(again) != len(peers) {
			t.Fatal("peer count changed")
		}
		for i := range peers {
			if !samePeer(peers[i], again[i]) {
				t.Fatalf("peer %d changed", i)
			}
		}
		if enc2, _ := encodePeers(again); !bytes.Equal(enc, enc2) {
			t.Fatal("encoding not stable")
		}
	})
}
