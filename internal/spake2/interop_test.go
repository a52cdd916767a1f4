package spake2

import (
	"bufio"
	"bytes"
	"context"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// pythonPath is Debian's python3, which has python3-spake2; the python3
// first on PATH may be another installation without it.
const (
	pythonPath   = "/usr/bin/python3"
	pythonHelper = "testdata/spake2_peer.py"
	pythonWait   = 30 * time.Second
)

// requirePython skips the test when python-spake2 is missing, except under
// CI=true, where its absence fails the test.
func requirePython(t *testing.T) {
	t.Helper()
	out, err := exec.Command(pythonPath, "-c", "import spake2; print(spake2.__version__)").CombinedOutput()
	if err == nil {
		return
	}
	msg := fmt.Sprintf("python-spake2 not available (%s -c 'import spake2': %v: %s); install the Debian package python3-spake2",
		pythonPath, err, bytes.TrimSpace(out))
	if os.Getenv("CI") == "true" {
		t.Fatal(msg)
	}
	t.Skip(msg)
}

// pythonPeer is one python-spake2 side, talking hex lines over pipes.
type pythonPeer struct {
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	stdout *bufio.Scanner
	stderr bytes.Buffer
}

// startPython runs the helper for side "A" or "B". entropy may be nil.
func startPython(t *testing.T, side string, password, idA, idB, entropy []byte) *pythonPeer {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), pythonWait)
	t.Cleanup(cancel)
	args := []string{pythonHelper, side, hex.EncodeToString(password), hex.EncodeToString(idA), hex.EncodeToString(idB)}
	if entropy != nil {
		args = append(args, hex.EncodeToString(entropy))
	}
	p := &pythonPeer{cmd: exec.CommandContext(ctx, pythonPath, args...)}
	p.cmd.Stderr = &p.stderr
	var err error
	if p.stdin, err = p.cmd.StdinPipe(); err != nil {
		t.Fatal(err)
	}
	out, err := p.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	p.stdout = bufio.NewScanner(out)
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = p.stdin.Close()
		_ = p.cmd.Wait()
	})
	return p
}

// line reads the next "<word> <value>" line.
func (p *pythonPeer) line(t *testing.T) (string, string) {
	t.Helper()
	if !p.stdout.Scan() {
		t.Fatalf("python helper ended early: %v; stderr: %s", p.stdout.Err(), p.stderr.String())
	}
	word, value, _ := strings.Cut(p.stdout.Text(), " ")
	return word, value
}

// message returns the python side's own message.
func (p *pythonPeer) message(t *testing.T) []byte {
	t.Helper()
	word, value := p.line(t)
	if word != "msg" {
		t.Fatalf("python: want msg, got %q %q", word, value)
	}
	b, err := hex.DecodeString(value)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// finish sends the peer message and returns python's key, or its error
// class name.
func (p *pythonPeer) finish(t *testing.T, peer []byte) (key []byte, errName string) {
	t.Helper()
	if _, err := fmt.Fprintf(p.stdin, "%x\n", peer); err != nil {
		t.Fatal(err)
	}
	word, value := p.line(t)
	switch word {
	case "key":
		b, err := hex.DecodeString(value)
		if err != nil {
			t.Fatal(err)
		}
		return b, ""
	case "error":
		return nil, value
	}
	t.Fatalf("python: unexpected line %q %q", word, value)
	return nil, ""
}

func TestPythonParams(t *testing.T) {
	requirePython(t)
	out, err := exec.Command(pythonPath, pythonHelper, "params").Output()
	if err != nil {
		t.Fatal(err)
	}
	want := fmt.Sprintf("M %s\nN %s\n", mHex, nHex)
	if string(out) != want {
		t.Fatalf("python params:\n%s\nwant:\n%s", out, want)
	}
}

// TestPythonInterop runs live exchanges between Go and python-spake2 with
// fresh randomness, in both directions, with equal and different passwords.
func TestPythonInterop(t *testing.T) {
	requirePython(t)
	ids := [2][]byte{[]byte(IdentityA), []byte(IdentityB)}
	for _, tc := range []struct {
		name       string
		goRole     Role
		goPW, pyPW string
	}{
		{"goA-pyB", RoleA, "A1B2C3D4", "A1B2C3D4"},
		{"pyA-goB", RoleB, "A1B2C3D4", "A1B2C3D4"},
		{"goA-pyB-wrong", RoleA, "A1B2C3D4", "A1B2C3D5"},
		{"pyA-goB-wrong", RoleB, "A1B2C3D4", "Z1B2C3D4"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			pySide := "B"
			if tc.goRole == RoleB {
				pySide = "A"
			}
			py := startPython(t, pySide, []byte(tc.pyPW), ids[0], ids[1], nil)
			s, err := New(tc.goRole, []byte(tc.goPW), nil)
			if err != nil {
				t.Fatal(err)
			}
			pyMsg := py.message(t)
			goKey, err := s.Finish(pyMsg)
			if err != nil {
				t.Fatal(err)
			}
			pyKey, errName := py.finish(t, s.Message())
			if errName != "" {
				t.Fatalf("python rejected Go's message: %s", errName)
			}
			if same := bytes.Equal(goKey, pyKey); same != (tc.goPW == tc.pyPW) {
				t.Fatalf("keys equal = %v with passwords equal = %v", same, tc.goPW == tc.pyPW)
			}
		})
	}
}

// TestPythonVectors replays testdata/vectors.txt against python-spake2: the
// success vectors must give the same messages and keys, and the vectors that
// python also rejects (wrong side, small order, reflection) must fail there.
func TestPythonVectors(t *testing.T) {
	requirePython(t)
	idA, idB := []byte(IdentityA), []byte(IdentityB)
	checked := 0
	for _, v := range loadVectors(t) {
		switch v.expect {
		case "ok":
			for _, side := range []struct {
				name               string
				pw, rand, own, key []byte
				peer               []byte
			}{
				{"A", v.passwordA, v.randA, v.msgA, v.keyA, v.msgB},
				{"B", v.passwordB, v.randB, v.msgB, v.keyB, v.msgA},
			} {
				py := startPython(t, side.name, side.pw, idA, idB, side.rand)
				if msg := py.message(t); !bytes.Equal(msg, side.own) {
					t.Fatalf("%s side %s: python message %x, want %x", v.name, side.name, msg, side.own)
				}
				key, errName := py.finish(t, side.peer)
				if errName != "" || !bytes.Equal(key, side.key) {
					t.Fatalf("%s side %s: python key %x (%s), want %x", v.name, side.name, key, errName, side.key)
				}
				checked++
			}
		case "ErrWrongSide", "ErrSmallOrder", "ErrReflected":
			py := startPython(t, v.role.String(), v.password, idA, idB, v.rand)
			py.message(t)
			if key, errName := py.finish(t, v.peer); errName == "" {
				t.Fatalf("%s: python accepted the message (key %x)", v.name, key)
			}
			checked++
		}
	}
	if checked == 0 {
		t.Fatal("no vector was checked against python")
	}
}
