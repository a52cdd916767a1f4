package transfer

import (
	"errors"
	"strings"
	"testing"
)

func TestValidName(t *testing.T) {
	good := []string{"a", "a.txt", "dir/a.txt", "d/e/f", "ünïcode.txt", "with space", ".hidden", "a..b", strings.Repeat("a", 244), strings.Repeat("d", 255) + "/a"}
	bad := []string{"", ".", "..", "../a", "a/..", "a/../b", "/abs", "a//b", "a/", "./a", "a\\b", "a\x00b", "a\nb",
		"a\x1b[2J", "a\u202eb", "x" + PartSuffix, "\xff", strings.Repeat("a", 256), strings.Repeat("a", 245), "d/" + strings.Repeat("a", 245), strings.Repeat("a/", 3000)}
	for _, n := range good {
		if err := ValidName(n); err != nil {
			t.Errorf("ValidName(%q) = %v", n, err)
		}
	}
	for _, n := range bad {
		err := ValidName(n)
		if !errors.Is(err, ErrBadName) {
			t.Errorf("ValidName(%q) = %v, want ErrBadName", n, err)
			continue
		}
		if strings.ContainsAny(err.Error(), "\x00\n\x1b\u202e") {
			t.Errorf("ValidName(%q) error carries control characters: %q", n, err)
		}
	}
}

func FuzzValidName(f *testing.F) {
	for _, s := range []string{"a", "../a", "a/b", "\x1b"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, name string) {
		if ValidName(name) != nil {
			return
		}
		if strings.HasPrefix(name, "/") || strings.Contains(name, "..") && strings.Contains("/"+name+"/", "/../") {
			t.Fatalf("accepted %q", name)
		}
	})
}
