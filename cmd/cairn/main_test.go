package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/cairn-dev/cairn/relay"
	"github.com/cairn-dev/cairn/relay/relaytest"
)

// cairnBin is the binary TestMain builds once for every test.
var cairnBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "cairn-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	cairnBin = filepath.Join(dir, "cairn")
	build := exec.Command("go", "build", "-o", cairnBin, ".")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "building cairn:", err)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	if code == 0 {
		if err := goleak.Find(); err != nil {
			fmt.Fprintln(os.Stderr, "goleak:", err)
			code = 1
		}
	}
	os.Exit(code)
}

const (
	// cmdTimeout bounds every run of the binary.
	cmdTimeout = 45 * time.Second
	// lineTimeout bounds every wait for a line of output.
	lineTimeout = 20 * time.Second
)

// device is one cairn data directory, talking through one relay.
type device struct {
	t     *testing.T
	dir   string
	relay string
}

func newDevice(t *testing.T, relayURL string) *device {
	return &device{t: t, dir: t.TempDir(), relay: relayURL}
}

// startRelay runs a relay on loopback for the test.
func startRelay(t *testing.T) string {
	url, _ := relaytest.Start(t, relay.Config{})
	return url
}

// baseArgs keep every test off the host network: no mDNS, loopback only.
func (d *device) args(args ...string) []string {
	base := []string{"--data-dir", d.dir, "--listen", "127.0.0.1:0", "--no-mdns"}
	if d.relay != "" {
		base = append(base, "--relay", d.relay)
	}
	return append(base, args...)
}

// command prepares the binary with env CAIRN_NO_MDNS=1 and no inherited
// CAIRN_* settings.
func command(ctx context.Context, env []string, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, cairnBin, args...)
	for _, e := range os.Environ() {
		if !strings.HasPrefix(e, "CAIRN_") {
			cmd.Env = append(cmd.Env, e)
		}
	}
	cmd.Env = append(cmd.Env, "CAIRN_NO_MDNS=1")
	cmd.Env = append(cmd.Env, env...)
	cmd.WaitDelay = 5 * time.Second
	return cmd
}

// result is a finished run.
type result struct {
	stdout, stderr string
	code           int
}

// run runs the binary to completion.
func (d *device) run(stdin string, env []string, args ...string) result {
	d.t.Helper()
	return runCairn(d.t, stdin, env, d.args(args...)...)
}

func runCairn(t *testing.T, stdin string, env []string, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), cmdTimeout)
	defer cancel()
	cmd := command(ctx, env, args...)
	cmd.Stdin = strings.NewReader(stdin)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	if err != nil {
		ee, ok := err.(*exec.ExitError)
		if !ok {
			t.Fatalf("cairn %v: %v", args, err)
		}
		code = ee.ExitCode()
	}
	if ctx.Err() != nil {
		t.Fatalf("cairn %v timed out; stderr: %s", args, errb.String())
	}
	return result{out.String(), errb.String(), code}
}

// proc is a running cairn process whose output is read line by line.
type proc struct {
	t      *testing.T
	cmd    *exec.Cmd
	cancel context.CancelFunc
	lines  chan string
	stderr *syncBuffer
	stdin  io.WriteCloser
	done   chan struct{}
	code   int
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// start starts the binary in the background; the test ends it.
func (d *device) start(env []string, args ...string) *proc {
	d.t.Helper()
	return startCairn(d.t, env, d.args(args...)...)
}

// startCairn starts the binary; with "--shell", SCRIPT first, it runs as
// sh -c SCRIPT cairn ARGS... (SCRIPT ends with exec "$@").
func startCairn(t *testing.T, env []string, args ...string) *proc {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), cmdTimeout)
	cmd := command(ctx, env, args...)
	if len(args) > 1 && args[0] == "--shell" {
		cmd = command(ctx, env, args[2:]...)
		cmd.Path, _ = exec.LookPath("sh")
		cmd.Args = append([]string{"sh", "-c", args[1], "sh", cairnBin}, args[2:]...)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	p := &proc{t: t, cmd: cmd, cancel: cancel, lines: make(chan string, 256), stderr: &syncBuffer{}, stdin: stdin, done: make(chan struct{})}
	cmd.Stderr = p.stderr
	if err := cmd.Start(); err != nil {
		cancel()
		t.Fatal(err)
	}
	readDone := make(chan struct{})
	go func() {
		defer close(readDone)
		defer close(p.lines)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			p.lines <- sc.Text()
		}
	}()
	go func() {
		<-readDone
		err := cmd.Wait()
		p.code = 0
		if ee, ok := err.(*exec.ExitError); ok {
			p.code = ee.ExitCode()
		} else if err != nil {
			p.code = -1
		}
		close(p.done)
	}()
	t.Cleanup(func() {
		cancel()
		<-p.done
	})
	return p
}

// line waits for the next stdout line matching re and returns its submatches.
func (p *proc) line(re string) []string {
	p.t.Helper()
	rx := regexp.MustCompile(re)
	timer := time.NewTimer(lineTimeout)
	defer timer.Stop()
	var seen []string
	for {
		select {
		case l, ok := <-p.lines:
			if !ok {
				p.t.Fatalf("cairn ended without printing %q; stdout %q; stderr: %s", re, seen, p.stderr.String())
			}
			seen = append(seen, l)
			if m := rx.FindStringSubmatch(l); m != nil {
				return m
			}
		case <-timer.C:
			p.t.Fatalf("no line matching %q within %v; stdout %q; stderr: %s", re, lineTimeout, seen, p.stderr.String())
		}
	}
}

// jsonEvent waits for the next JSON line whose "event" is ev.
func (p *proc) jsonEvent(ev string) map[string]any {
	p.t.Helper()
	m := p.line(`^\{.*"event":"` + ev + `".*\}$`)
	var out map[string]any
	if err := json.Unmarshal([]byte(m[0]), &out); err != nil {
		p.t.Fatalf("bad JSON %q: %v", m[0], err)
	}
	return out
}

// wait waits for the process to exit and returns its exit code.
func (p *proc) wait() int {
	p.t.Helper()
	go func() { // keep draining stdout
		for range p.lines {
		}
	}()
	select {
	case <-p.done:
		return p.code
	case <-time.After(cmdTimeout):
		p.t.Fatalf("cairn did not exit; stderr: %s", p.stderr.String())
		return -1
	}
}

// stop interrupts the process (like Ctrl-C) and returns its exit code.
func (p *proc) stop() int {
	p.t.Helper()
	_ = p.cmd.Process.Signal(os.Interrupt)
	return p.wait()
}

var pinRe = `([0-9A-Z]{4}-[0-9A-Z]{4})`

// pair pairs a (showing the PIN) with b through the binary and returns
// their PeerIDs.
func pair(t *testing.T, a, b *device, extra ...string) (aID, bID string) {
	t.Helper()
	p := a.start(nil, append([]string{"pair", "pin"}, extra...)...)
	pin := p.line(`PIN:\s+` + pinRe)[1]
	r := b.run("", []string{"CAIRN_PIN=" + pin}, append([]string{"pair", "enter"}, extra...)...)
	if r.code != 0 {
		t.Fatalf("pair enter: exit %d: %s", r.code, r.stderr)
	}
	m := p.line(`^Paired with: (Qm\w+)`)
	if code := p.wait(); code != 0 {
		t.Fatalf("pair pin: exit %d: %s", code, p.stderr.String())
	}
	bID = m[1]
	aID = regexp.MustCompile(`Paired with: (Qm\w+)`).FindStringSubmatch(r.stdout)[1]
	return aID, bID
}

func fileHash(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

func writeFile(t *testing.T, name string, data []byte) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(name), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(name, data, 0o644); err != nil {
		t.Fatal(err)
	}
}
