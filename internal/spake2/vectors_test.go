package spake2

import (
	"bufio"
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"
)

// vectorsFile holds deterministic vectors, written by TestGenerateVectors.
const vectorsFile = "testdata/vectors.txt"

// minVectors guards against a loader that silently reads nothing.
const minVectors = 12

// vector is one record of testdata/vectors.txt. A record with expect "ok"
// is a full exchange; any other expect names the error that a State of
// role, made with password and rand, must return from Finish(peer).
type vector struct {
	name   string
	expect string

	// expect: ok
	passwordA, passwordB []byte
	randA, randB         []byte
	msgA, msgB           []byte
	keyA, keyB           []byte

	// expected failures
	role     Role
	password []byte
	rand     []byte
	peer     []byte
}

var vectorErrors = map[string]error{
	"ErrWrongLength":  ErrWrongLength,
	"ErrWrongSide":    ErrWrongSide,
	"ErrInvalidPoint": ErrInvalidPoint,
	"ErrSmallOrder":   ErrSmallOrder,
	"ErrReflected":    ErrReflected,
}

var (
	okKeys   = []string{"name", "expect", "password_a", "password_b", "rand_a", "rand_b", "msg_a", "msg_b", "key_a", "key_b"}
	failKeys = []string{"name", "expect", "role", "password", "rand", "peer"}
)

// loadVectors parses the vector file strictly: unknown, missing or repeated
// keys and malformed values fail the test.
func loadVectors(t testing.TB) []vector {
	t.Helper()
	data, err := os.ReadFile(vectorsFile)
	if err != nil {
		t.Fatal(err)
	}
	var out []vector
	for i, rec := range strings.Split(string(data), "\n\n") {
		fields := map[string]string{}
		sc := bufio.NewScanner(strings.NewReader(rec))
		for sc.Scan() {
			line := sc.Text()
			if line == "" || strings.HasPrefix(line, "#") {
				continue
			}
			k, v, ok := strings.Cut(line, ": ")
			if !ok {
				t.Fatalf("record %d: malformed line %q", i, line)
			}
			if _, dup := fields[k]; dup {
				t.Fatalf("record %d: repeated key %q", i, k)
			}
			fields[k] = v
		}
		if len(fields) == 0 {
			continue
		}
		v, err := parseVector(fields)
		if err != nil {
			t.Fatalf("record %d (%s): %v", i, fields["name"], err)
		}
		out = append(out, v)
	}
	if len(out) < minVectors {
		t.Fatalf("loaded %d vectors from %s, want at least %d", len(out), vectorsFile, minVectors)
	}
	return out
}

func parseVector(f map[string]string) (vector, error) {
	keys := failKeys
	if f["expect"] == "ok" {
		keys = okKeys
	} else if _, ok := vectorErrors[f["expect"]]; !ok {
		return vector{}, fmt.Errorf("unknown expect %q", f["expect"])
	}
	if len(f) != len(keys) {
		return vector{}, fmt.Errorf("has keys %v, want exactly %v", mapKeys(f), keys)
	}
	var err error
	hx := func(k string) []byte {
		b, e := hex.DecodeString(f[k])
		if e != nil && err == nil {
			err = fmt.Errorf("%s: %w", k, e)
		}
		return b
	}
	for _, k := range keys {
		if _, ok := f[k]; !ok {
			return vector{}, fmt.Errorf("missing key %q", k)
		}
	}
	v := vector{name: f["name"], expect: f["expect"]}
	if v.expect == "ok" {
		v.passwordA, v.passwordB = hx("password_a"), hx("password_b")
		v.randA, v.randB = hx("rand_a"), hx("rand_b")
		v.msgA, v.msgB = hx("msg_a"), hx("msg_b")
		v.keyA, v.keyB = hx("key_a"), hx("key_b")
	} else {
		switch f["role"] {
		case "A":
			v.role = RoleA
		case "B":
			v.role = RoleB
		default:
			return vector{}, fmt.Errorf("unknown role %q", f["role"])
		}
		v.password, v.rand, v.peer = hx("password"), hx("rand"), hx("peer")
	}
	return v, err
}

func mapKeys(m map[string]string) []string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	return ks
}

func TestVectors(t *testing.T) {
	t.Parallel()
	for _, v := range loadVectors(t) {
		t.Run(v.name, func(t *testing.T) {
			t.Parallel()
			if v.expect == "ok" {
				a, err := New(RoleA, v.passwordA, bytes.NewReader(v.randA))
				if err != nil {
					t.Fatal(err)
				}
				b, err := New(RoleB, v.passwordB, bytes.NewReader(v.randB))
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(a.Message(), v.msgA) || !bytes.Equal(b.Message(), v.msgB) {
					t.Fatalf("messages %x %x, want %x %x", a.Message(), b.Message(), v.msgA, v.msgB)
				}
				kA, err := a.Finish(v.msgB)
				if err != nil {
					t.Fatal(err)
				}
				kB, err := b.Finish(v.msgA)
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(kA, v.keyA) || !bytes.Equal(kB, v.keyB) {
					t.Fatalf("keys %x %x, want %x %x", kA, kB, v.keyA, v.keyB)
				}
				if bytes.Equal(v.passwordA, v.passwordB) != bytes.Equal(kA, kB) {
					t.Fatal("key agreement does not follow password equality")
				}
				return
			}
			s, err := New(v.role, v.password, bytes.NewReader(v.rand))
			if err != nil {
				t.Fatal(err)
			}
			key, err := s.Finish(v.peer)
			var me *MessageError
			if !errors.Is(err, vectorErrors[v.expect]) || !errors.As(err, &me) || key != nil {
				t.Fatalf("Finish = %x, %v; want %s", key, err, v.expect)
			}
		})
	}
}
