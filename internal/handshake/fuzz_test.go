package handshake

import (
	"bytes"
	"errors"
	"path/filepath"
	"testing"
)

// FuzzPayload checks the handshake payload decoder: no panic, every error
// wraps ErrBadPayload, and whatever decodes re-encodes to the same bytes (the
// encoding is canonical).
func FuzzPayload(f *testing.F) {
	seeds, _ := filepath.Glob("testdata/fuzz/FuzzPayload/*")
	if len(seeds) == 0 {
		f.Fatal("no seed corpus in testdata/fuzz/FuzzPayload")
	}
	id := testIdentity(f, "alice")
	for _, app := range []string{"", "Alice's laptop"} {
		f.Add(appendPayload(nil, payload{key: id.PublicKey(), sig: id.Sign(signedMessage(make([]byte, 32))), appData: []byte(app)}))
	}
	f.Add([]byte{1})
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := parsePayload(b)
		if err != nil {
			if !errors.Is(err, ErrBadPayload) {
				t.Fatalf("undocumented error %v", err)
			}
			return
		}
		if len(p.appData) > MaxAppData || len(b) > MaxPayloadSize {
			t.Fatal("accepted an oversized payload")
		}
		if again := appendPayload(nil, p); !bytes.Equal(again, b) {
			t.Fatalf("re-encoding differs:\n%x\n%x", again, b)
		}
	})
}
