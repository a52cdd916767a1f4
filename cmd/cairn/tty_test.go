package main

import (
	"crypto/rand"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// tmuxSession runs one shell command in a detached tmux server of its own.
type tmuxSession struct {
	t    *testing.T
	sock string
}

func newTmux(t *testing.T, command string) *tmuxSession {
	t.Helper()
	if _, err := exec.LookPath("tmux"); err != nil {
		t.Skip("tmux not installed (.ci/run installs it)")
	}
	dir, err := os.MkdirTemp("", "cairn-tmux-") // short: socket paths are limited
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	s := &tmuxSession{t: t, sock: filepath.Join(dir, "s")}
	cmd := exec.Command("tmux", "-S", s.sock, "-f", "/dev/null", "new-session", "-d", "-x", "160", "-y", "50", command)
	cmd.Env = append(os.Environ(), "CAIRN_NO_MDNS=1")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Skipf("cannot start tmux: %v: %s", err, out)
	}
	t.Cleanup(func() { _ = exec.Command("tmux", "-S", s.sock, "kill-server").Run() })
	return s
}

func (s *tmuxSession) capture() string {
	out, err := exec.Command("tmux", "-S", s.sock, "capture-pane", "-p", "-S", "-100").Output()
	if err != nil {
		s.t.Fatalf("tmux capture-pane: %v", err)
	}
	return string(out)
}

func (s *tmuxSession) sendKeys(keys ...string) {
	if out, err := exec.Command("tmux", append([]string{"-S", s.sock, "send-keys"}, keys...)...).CombinedOutput(); err != nil {
		s.t.Fatalf("tmux send-keys: %v: %s", err, out)
	}
}

// waitFor polls the pane until it contains want.
func (s *tmuxSession) waitFor(want string) string {
	s.t.Helper()
	deadline := time.Now().Add(lineTimeout)
	for {
		pane := s.capture()
		if strings.Contains(pane, want) {
			return pane
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("the terminal never showed %q:\n%s", want, pane)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func shellQuote(args []string) string {
	q := make([]string, len(args))
	for i, a := range args {
		q[i] = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
	}
	return strings.Join(q, " ")
}

// TestTerminalPINPromptAndProgress types a PIN at the hidden prompt of
// `cairn pair enter` in a real terminal (tmux) and checks it is not echoed,
// then checks `cairn send` draws a progress bar there.
func TestTerminalPINPromptAndProgress(t *testing.T) {
	t.Parallel()
	url := startRelay(t)
	a, b := newDevice(t, url), newDevice(t, url)
	p := a.start(nil, "pair", "pin")
	pin := p.line(`PIN:\s+` + pinRe)[1]

	tm := newTmux(t, shellQuote(append([]string{cairnBin}, b.args("pair", "enter")...))+"; echo EXIT=$?; sleep 60")
	tm.waitFor("PIN:")
	tm.sendKeys("-l", pin)
	tm.sendKeys("Enter")
	pane := tm.waitFor("EXIT=")
	if !strings.Contains(pane, "EXIT=0") || !strings.Contains(pane, "Paired with: Qm") {
		t.Fatalf("pair enter in a terminal:\n%s", pane)
	}
	if strings.Contains(pane, pin) || strings.Contains(pane, strings.ReplaceAll(pin, "-", "")) {
		t.Fatalf("the PIN was echoed:\n%s", pane)
	}
	if code := p.wait(); code != 0 {
		t.Fatalf("pair pin: exit %d", code)
	}

	// Progress bar on a terminal.
	src := filepath.Join(t.TempDir(), "big.bin")
	data := make([]byte, 8<<20)
	rand.Read(data)
	writeFile(t, src, data)
	recv := a.start(nil, "receive", "--dir", t.TempDir())
	recv.stderrWait(t, "Waiting for files")
	tm2 := newTmux(t, shellQuote(append([]string{cairnBin}, b.args("send", aIDOf(t, a), src)...))+"; echo EXIT=$?; sleep 60")
	pane = tm2.waitFor("EXIT=")
	if !strings.Contains(pane, "EXIT=0") || !strings.Contains(pane, "big.bin") || !strings.Contains(pane, "100%") || !strings.Contains(pane, "MB") {
		t.Fatalf("no progress bar on the terminal:\n%s", pane)
	}
	if code := recv.wait(); code != 0 {
		t.Fatalf("receive: exit %d", code)
	}
}

// aIDOf returns a device's PeerID.
func aIDOf(t *testing.T, d *device) string {
	t.Helper()
	r := d.run("", nil, "id")
	if r.code != 0 {
		t.Fatalf("id: %d %s", r.code, r.stderr)
	}
	return strings.TrimSpace(r.stdout)
}
