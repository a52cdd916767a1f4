package netnstest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// NamePrefix starts the name of every namespace this package creates:
// NamePrefix + "<pid>-<random>-<suffix>". The pid lets a later run recognise
// namespaces whose creator is gone.
const NamePrefix = "cairnt-"

// cleanupTimeout bounds the whole cleanup of one namespace.
const cleanupTimeout = 2 * CommandTimeout

// newPrefix returns a prefix unique to this process and call:
// "cairnt-<pid>-<6 random hex>".
func newPrefix() (string, error) {
	var b [3]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("failed to read random bytes: %w", err)
	}
	return NamePrefix + strconv.Itoa(os.Getpid()) + "-" + hex.EncodeToString(b[:]), nil
}

// List returns the names of the namespaces this package created that still
// exist, in any process.
func List(ctx context.Context) ([]string, error) {
	out, err := ip(ctx, "netns", "list")
	if err != nil {
		return nil, err
	}
	var names []string
	for line := range strings.Lines(out) {
		// Lines look like "name" or "name (id: 3)".
		name, _, _ := strings.Cut(strings.TrimSpace(line), " ")
		if strings.HasPrefix(name, NamePrefix) {
			names = append(names, name)
		}
	}
	return names, nil
}

// creatorPID extracts the pid from a name made by newPrefix.
func creatorPID(name string) (int, bool) {
	rest, ok := strings.CutPrefix(name, NamePrefix)
	if !ok {
		return 0, false
	}
	pidStr, _, _ := strings.Cut(rest, "-")
	pid, err := strconv.Atoi(pidStr)
	if err != nil || pid <= 0 {
		return 0, false
	}
	return pid, true
}

// processAlive reports whether a process with this pid exists.
func processAlive(pid int) bool {
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}

// SweepStale deletes namespaces named by this package whose creating process
// no longer exists (left by a run that crashed or was killed). Namespaces of
// live processes, including other test binaries running now, are kept.
func SweepStale(ctx context.Context) error {
	names, err := List(ctx)
	if err != nil {
		return err
	}
	var errs []error
	for _, name := range names {
		pid, ok := creatorPID(name)
		if !ok || processAlive(pid) {
			continue
		}
		if err := deleteNamespace(ctx, name); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// deleteNamespace kills the processes still inside the namespace (all of them
// started by the test that created it) and deletes it.
func deleteNamespace(ctx context.Context, name string) error {
	if out, err := ip(ctx, "netns", "pids", name); err == nil {
		for f := range strings.FieldsSeq(out) {
			if pid, err := strconv.Atoi(f); err == nil && pid > 1 && pid != os.Getpid() {
				_ = syscall.Kill(pid, syscall.SIGKILL)
			}
		}
	}
	_, err := ip(ctx, "netns", "delete", name)
	return err
}

// addNamespace creates a namespace, registers its deletion with t.Cleanup,
// and brings its loopback up with multicast on.
func addNamespace(t testing.TB, name string) {
	t.Helper()
	if _, err := ip(t.Context(), "netns", "add", name); err != nil {
		t.Fatalf("netnstest: %v", err)
	}
	t.Cleanup(func() {
		// t.Context is already cancelled when cleanups run.
		ctx, cancel := context.WithTimeout(context.Background(), cleanupTimeout)
		defer cancel()
		if err := deleteNamespace(ctx, name); err != nil {
			t.Logf("netnstest: failed to delete namespace %s: %v", name, err)
		}
	})
	err := ipAll(t.Context(),
		[]string{"-n", name, "link", "set", "lo", "multicast", "on"},
		[]string{"-n", name, "link", "set", "lo", "up"},
	)
	if err != nil {
		t.Fatalf("netnstest: failed to set up loopback in %s: %v", name, err)
	}
}

// begin checks availability, sweeps stale namespaces and returns a fresh
// prefix.
func begin(t testing.TB) string {
	t.Helper()
	Require(t)
	if err := SweepStale(t.Context()); err != nil {
		t.Logf("netnstest: sweeping stale namespaces: %v", err)
	}
	prefix, err := newPrefix()
	if err != nil {
		t.Fatalf("netnstest: %v", err)
	}
	return prefix
}

// NewNamespace creates a namespace whose only interface is lo, up, with
// multicast on (so mDNS works on it), and returns its name. It is deleted in
// t.Cleanup. The test is skipped if namespaces are unavailable.
func NewNamespace(t testing.TB) string {
	t.Helper()
	name := begin(t) + "-lo"
	addNamespace(t, name)
	return name
}

// waitLinkUp polls until the interface's operational state is UP or the
// bounded wait ends.
func waitLinkUp(ctx context.Context, ns, iface string) error {
	const (
		attempts = 50
		pause    = 100 * time.Millisecond
	)
	var last string
	for range attempts {
		out, err := ip(ctx, "-n", ns, "-br", "link", "show", "dev", iface)
		if err != nil {
			return err
		}
		if f := strings.Fields(out); len(f) > 1 && f[1] == "UP" {
			return nil
		}
		last = strings.TrimSpace(out)
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(pause):
		}
	}
	return fmt.Errorf("interface %s in %s not up: %s", iface, ns, last)
}
