// Package testchild runs a test of the current test binary as a child
// process the parent can talk to, stop or kill -9: for tests that need a
// second process (a relay to kill, a node in a network namespace). The child
// publishes values with [Signal]; the parent reads them with
// [Child.WaitSignal]. Every child is stopped in t.Cleanup.
package testchild

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

// signalPrefix starts the lines a child prints with [Signal].
const signalPrefix = "CAIRN-TESTCHILD-SIGNAL "

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

// TestArgs are the arguments that make the test binary run only the
// top-level test testName, verbosely, once, within timeout.
func TestArgs(testName string, timeout time.Duration) []string {
	return []string{"-test.run=^" + testName + "$", "-test.v", "-test.count=1", "-test.timeout=" + timeout.String()}
}

// Env returns os.Environ() with env added, in a stable order.
func Env(env map[string]string) []string {
	out := os.Environ()
	keys := make([]string, 0, len(env))
	for k := range env {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		out = append(out, k+"="+env[k])
	}
	return out
}

// Start starts cmd, a child running one test (see [TestArgs]), named name in
// messages. Its stdout and stderr are captured; it is stopped in t.Cleanup,
// which fails the test if the child failed.
func Start(t testing.TB, name string, cmd *exec.Cmd) *Child {
	t.Helper()
	var err error
	c := &Child{name: name, cmd: cmd, out: newLineBuffer(), exited: make(chan struct{})}
	cmd.Stdout = c.out
	cmd.Stderr = c.out
	if c.stdin, err = cmd.StdinPipe(); err != nil {
		t.Fatalf("testchild: %v", err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("testchild: failed to start %s: %v", c.name, err)
	}
	go func() {
		c.waitErr = cmd.Wait()
		c.out.close()
		close(c.exited)
	}()
	t.Cleanup(func() {
		if err := c.Stop(); err != nil {
			t.Errorf("testchild: %v\n%s", err, indent(c.Output()))
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
