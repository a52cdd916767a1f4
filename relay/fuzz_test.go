package relay

import (
	"errors"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// checkSeedCorpus fails if the checked-in corpus of the fuzz target is empty.
func checkSeedCorpus(t *testing.F, name string) {
	files, err := filepath.Glob(filepath.Join("testdata", "fuzz", name, "*"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no seed corpus for %s", name)
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil || !strings.HasPrefix(string(b), "go test fuzz v1\n") {
			t.Fatalf("bad corpus file %s", f)
		}
	}
}

// refValidSlot is the slot rule written differently from ValidSlot.
func refValidSlot(s string) bool {
	return len(s) >= 1 && len(s) <= MaxSlotLen && !slices.Contains([]string{".", ".."}, s) &&
		strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-.") == ""
}

func FuzzValidSlot(f *testing.F) {
	checkSeedCorpus(f, "FuzzValidSlot")
	for _, s := range []string{"", "a", "A1B", "cairn-pair.A1B_x", "a/b", "a b", "é", strings.Repeat("z", 128), strings.Repeat("z", 129), "..", ".", "...", "%41"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		ok := ValidSlot(s)
		if ok != refValidSlot(s) {
			t.Fatalf("ValidSlot(%q) = %v, reference says otherwise", s, ok)
		}
		err := checkSlot(s)
		if (err == nil) != ok {
			t.Fatalf("checkSlot(%q) = %v, ValidSlot = %v", s, err, ok)
		}
		var re *RequestError
		if err != nil && (!errors.As(err, &re) || !errors.Is(err, ErrBadRequest)) {
			t.Fatalf("checkSlot error %v is not a *RequestError", err)
		}
		// Round trip: the client's URL for a valid slot parses back to it.
		for _, mode := range []string{ModeHost, ModeJoin} {
			u, err := slotURL("https://relay.example:8443/prefix/", s, mode)
			if !ok {
				if err == nil {
					t.Fatalf("slotURL accepted invalid slot %q", s)
				}
				continue
			}
			if err != nil {
				t.Fatalf("slotURL(%q): %v", s, err)
			}
			pu, err := url.Parse(u)
			if err != nil {
				t.Fatal(err)
			}
			got, err := parseSlotRequest(strings.TrimPrefix(pu.EscapedPath(), "/prefix"), pu.RawQuery)
			if err != nil || got.Slot != s || got.Mode != mode {
				t.Fatalf("round trip of %q/%s: %+v, %v", s, mode, got, err)
			}
		}
	})
}

func FuzzParseSlotRequest(f *testing.F) {
	checkSeedCorpus(f, "FuzzParseSlotRequest")
	f.Add("/v1/slot/abc", "mode=host")
	f.Add("/v1/slot/abc", "mode=join&x=1")
	f.Add("/v1/slot/a%2Fb", "mode=host")
	f.Add("/v1/slot/", "mode=host")
	f.Add("/v1/slot/abc", "mode=host&mode=join")
	f.Add("/v2/slot/abc", "mode=host")
	f.Add("/v1/slot/%zz", "mode=%zz")
	f.Add("/v1/slot/a;b", "mode=host;x")
	f.Fuzz(func(t *testing.T, path, query string) {
		req, err := parseSlotRequest(path, query)
		if err != nil {
			var re *RequestError
			if !errors.As(err, &re) || !errors.Is(err, ErrBadRequest) {
				t.Fatalf("error %v is not a *RequestError", err)
			}
			return
		}
		if !ValidSlot(req.Slot) || (req.Mode != ModeHost && req.Mode != ModeJoin) {
			t.Fatalf("accepted %+v from %q?%q", req, path, query)
		}
		// Re-encode with the client's builder and parse again: same request.
		u, err := slotURL("http://127.0.0.1:1", req.Slot, req.Mode)
		if err != nil {
			t.Fatal(err)
		}
		pu, err := url.Parse(u)
		if err != nil {
			t.Fatal(err)
		}
		again, err := parseSlotRequest(pu.EscapedPath(), pu.RawQuery)
		if err != nil || again != req {
			t.Fatalf("re-encoded %+v parses as %+v, %v", req, again, err)
		}
	})
}
