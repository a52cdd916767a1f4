package netnstest

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"
)

// signalPrefix starts the lines a child prints with [Signal].
const signalPrefix = "NETNSTEST-SIGNAL "

// maxChildOutput bounds how much of a background child's output is kept;
// later output is dropped (the test binary's own output is small).
const maxChildOutput = 1 << 20

// Child is a test binary running in the background inside a namespace,
// started by [StartTestInNS]. The parent reads the values it publishes with
// [Signal] and stops it with [Child.Stop], which closes its stdin: the child
// returns from [WaitForParent] and finishes its test.
type Child struct {
	name  string
	cmd   *exec.Cmd
	stdin io.WriteCloser
	out   *lineBuffer

	stopOnce sync.Once
	stopErr  error
}

// StartTestInNS starts the test testName of the current binary inside
// namespace ns in the background (see [TestCommand]). It is stopped in
// t.Cleanup if the test did not call Stop.
func StartTestInNS(t testing.TB, ns, testName string, env map[string]string) *Child {
	t.Helper()
	// Not t.Context: the child must outlive it until Cleanup stops it.
	ctx, cancel := context.WithTimeout(context.Background(), ChildTimeout+5*time.Second)
	cmd, err := TestCommand(ctx, ns, testName, env)
	if err != nil {
		cancel()
		t.Fatalf("netnstest: %v", err)
	}
	c := &Child{name: testName + " in " + ns, cmd: cmd, out: newLineBuffer()}
	cmd.Stdout = c.out
	cmd.Stderr = c.out
	if c.stdin, err = cmd.StdinPipe(); err != nil {
		cancel()
		t.Fatalf("netnstest: %v", err)
	}
	if err := cmd.Start(); err != nil {
		cancel()
		t.Fatalf("netnstest: failed to start %s: %v", c.name, err)
	}
	t.Cleanup(func() {
		defer cancel()
		if err := c.Stop(); err != nil {
			t.Logf("netnstest: %v", err)
		}
		t.Logf("netnstest: child %s:\n%s", c.name, indent(c.Output()))
	})
	return c
}

// WaitSignal returns the value the child published under key with [Signal],
// waiting until it appears, the child exits, or ctx is done.
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
			return "", fmt.Errorf("child %s exited without signalling %q", c.name, key)
		}
		select {
		case <-ctx.Done():
			return "", fmt.Errorf("waiting for %q from child %s: %w", key, c.name, ctx.Err())
		case <-notify:
		}
	}
}

// Stop closes the child's stdin, waits for it to exit (killing it after
// ChildTimeout) and returns an error if it failed or its test did not pass.
// It is idempotent.
func (c *Child) Stop() error {
	c.stopOnce.Do(func() {
		_ = c.stdin.Close()
		err := c.cmd.Wait()
		c.out.close()
		switch {
		case err != nil:
			c.stopErr = fmt.Errorf("child %s failed: %w", c.name, err)
		case !strings.Contains(c.Output(), "--- PASS: "):
			c.stopErr = fmt.Errorf("child %s did not run and pass its test", c.name)
		}
	})
	return c.stopErr
}

// Output returns what the child printed so far (bounded by maxChildOutput).
func (c *Child) Output() string { return c.out.String() }

// Signal publishes key=value to the parent's [Child.WaitSignal]. Call it
// from a child test; value must not contain a newline.
func Signal(key, value string) {
	fmt.Fprintf(os.Stdout, "\n%s%s=%s\n", signalPrefix, key, value)
}

// WaitForParent blocks a child test until the parent calls [Child.Stop]
// (its stdin reaches EOF) or ctx is done. On the ctx path one goroutine
// stays blocked on stdin until the parent closes it or the child exits.
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
		if strings.HasSuffix(line, "\n") { // complete lines only
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
