package loadtest

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// EnvChild marks a test binary re-executed by [Start]; its value is the
// child's role, so that one test function can serve several roles.
const EnvChild = "CAIRN_LOADTEST_CHILD"

// signalPrefix starts the lines a child prints with [Signal].
const signalPrefix = "CAIRN-LOADTEST-SIGNAL "

// maxChildOutput bounds how much of a child's output is kept; later output is
// dropped.
const maxChildOutput = 1 << 20

// stopTimeout bounds how long Stop waits for a child to finish its test after
// its stdin closed; then it is killed.
const stopTimeout = 30 * time.Second

// Child is the test binary running one test in the background, started by
// [Start]. It is stopped (or killed) in t.Cleanup if the test did not do so.
type Child struct {
	name  string
	cmd   *exec.Cmd
	stdin io.WriteCloser
	out   *lineBuffer

	exited  chan struct{} // closed once the process was waited for
	waitErr error         // set before exited is closed

	stopOnce sync.Once
	stopErr  error
}

// Start runs the top-level test testName of the current test binary in a
// child process with env added to the environment and [EnvChild] set to
// role. timeout is passed as -test.timeout and bounds the child's life.
func Start(t testing.TB, testName, role string, env map[string]string, timeout time.Duration) *Child {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatalf("loadtest: failed to find the test binary: %v", err)
	}
	cmd := exec.Command(exe,
		"-test.run=^"+testName+"$",
		"-test.v",
		"-test.count=1",
		"-test.timeout="+timeout.String(),
	)
	cmd.Env = append(os.Environ(), EnvChild+"="+role)
	keys := make([]string, 0, len(env))
	for k := range env {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		cmd.Env = append(cmd.Env, k+"="+env[k])
	}
	c := &Child{name: testName + "/" + role, cmd: cmd, out: newLineBuffer(), exited: make(chan struct{})}
	cmd.Stdout = c.out
	cmd.Stderr = c.out
	if c.stdin, err = cmd.StdinPipe(); err != nil {
		t.Fatalf("loadtest: %v", err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("loadtest: failed to start %s: %v", c.name, err)
	}
	go func() {
		c.waitErr = cmd.Wait()
		c.out.close()
		close(c.exited)
	}()
	t.Cleanup(func() {
		if err := c.Stop(); err != nil {
			t.Errorf("loadtest: %v\n%s", err, indent(c.Output()))
		}
	})
	return c
}

// Pid returns the child's process id.
func (c *Child) Pid() int { return c.cmd.Process.Pid }

// WaitSignal returns the value the child published under key with
// [Signal], waiting until it appears, the child exits, or ctx is done.
func (c *Child) WaitSignal(ctx context.Context, key string) (string, error) {
	want := signalPrefix + key + "="
	for {
		notify := c.out.changed()
		for _, line := range c.out.lines() {
			if v, ok := strings.CutPrefix(line, want); ok {
				return v, nil
			}
		}
		if c.out.isClosed() {
			return "", fmt.Errorf("child %s exited without signalling %q:\n%s", c.name, key, indent(c.Output()))
		}
		select {
		case <-ctx.Done():
			return "", fmt.Errorf("waiting for %q from child %s: %w", key, c.name, ctx.Err())
		case <-notify:
		}
	}
}

// Kill sends SIGKILL to the child (kill -9: no cleanup runs in it) and waits
// until it is gone. A killed child's Stop reports no error.
func (c *Child) Kill() {
	c.stopOnce.Do(func() {
		_ = c.cmd.Process.Signal(syscall.SIGKILL)
		<-c.exited
		_ = c.stdin.Close()
	})
}

// Stop closes the child's stdin, so that [WaitForParent] returns in it, waits
// for it to exit (killing it after a while) and returns an error if it failed
// or its test did not pass. It is idempotent.
func (c *Child) Stop() error {
	c.stopOnce.Do(func() {
		_ = c.stdin.Close()
		t := time.NewTimer(stopTimeout)
		defer t.Stop()
		select {
		case <-c.exited:
		case <-t.C:
			_ = c.cmd.Process.Signal(syscall.SIGKILL)
			<-c.exited
			c.stopErr = fmt.Errorf("child %s did not stop within %v; killed", c.name, stopTimeout)
			return
		}
		switch {
		case c.waitErr != nil:
			c.stopErr = fmt.Errorf("child %s failed: %w", c.name, c.waitErr)
		case !strings.Contains(c.Output(), "--- PASS: "):
			c.stopErr = fmt.Errorf("child %s did not run and pass its test", c.name)
		}
	})
	return c.stopErr
}

// Output returns what the child printed so far (bounded).
func (c *Child) Output() string { return c.out.String() }

// Role returns the role this process was started with by [Start], or "" in
// the parent.
func Role() string { return os.Getenv(EnvChild) }

// InChild reports whether this process is a child started by [Start].
func InChild() bool { return Role() != "" }

// ChildOnly skips the test unless this process is a child started with
// role. Put it first in test functions that only make sense there.
func ChildOnly(t testing.TB, role string) {
	t.Helper()
	if Role() != role {
		t.Skip("skipping: runs only as a child process started by the load and fault tests")
	}
}

// Signal publishes key=value to the parent's [Child.WaitSignal]. value must
// not contain a newline.
func Signal(key, value string) {
	fmt.Fprintf(os.Stdout, "\n%s%s=%s\n", signalPrefix, key, value)
}

// WaitForParent blocks until the parent calls [Child.Stop] (stdin reaches
// EOF) or ctx is done. On the ctx path one goroutine stays blocked on stdin
// until the parent closes it or the process exits.
func WaitForParent(ctx context.Context) error {
	done := make(chan struct{})
	go func() {
		defer close(done)
		_, _ = io.Copy(io.Discard, os.Stdin)
	}()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// lineBuffer collects a child's output and wakes waiters on each write.
type lineBuffer struct {
	mu     sync.Mutex
	buf    bytes.Buffer
	notify chan struct{} // closed and replaced on each change
	closed bool
}

func newLineBuffer() *lineBuffer { return &lineBuffer{notify: make(chan struct{})} }

func (b *lineBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if room := maxChildOutput - b.buf.Len(); room > 0 {
		b.buf.Write(p[:min(len(p), room)])
	}
	b.wakeLocked()
	return len(p), nil
}

// wakeLocked wakes the waiters. Must hold b.mu.
func (b *lineBuffer) wakeLocked() {
	close(b.notify)
	b.notify = make(chan struct{})
}

func (b *lineBuffer) changed() <-chan struct{} {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.notify
}

func (b *lineBuffer) lines() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []string
	for line := range strings.Lines(b.buf.String()) {
		if strings.HasSuffix(line, "\n") {
			out = append(out, strings.TrimRight(line, "\r\n"))
		}
	}
	return out
}

func (b *lineBuffer) close() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.closed = true
	b.wakeLocked()
}

func (b *lineBuffer) isClosed() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.closed
}

func (b *lineBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

var _ io.Writer = (*lineBuffer)(nil)

func indent(s string) string {
	return "\t" + strings.ReplaceAll(strings.TrimRight(s, "\n"), "\n", "\n\t")
}
