package netnstest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// CommandTimeout bounds every ip command the package runs.
const CommandTimeout = 10 * time.Second

// ErrUnavailable reports that network namespaces cannot be used here.
var ErrUnavailable = errors.New("network namespaces unavailable")

// Available reports whether namespaces can be created: the process is root
// and the ip command (iproute2) is on PATH. It returns an error wrapping
// [ErrUnavailable] saying what is missing.
func Available() error {
	if os.Geteuid() != 0 {
		return fmt.Errorf("%w: not running as root", ErrUnavailable)
	}
	if _, err := exec.LookPath("ip"); err != nil {
		return fmt.Errorf("%w: ip command (iproute2) not found: %w", ErrUnavailable, err)
	}
	return nil
}

// Require skips the test with a clear message unless [Available] succeeds.
func Require(t testing.TB) {
	t.Helper()
	if err := Available(); err != nil {
		t.Skipf("skipping: %v (needs root and iproute2 to create network namespaces)", err)
	}
}

// ip runs one ip command bounded by CommandTimeout and returns its combined
// output.
func ip(ctx context.Context, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, CommandTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "ip", args...)
	var out bytes.Buffer
	cmd.Stdout = &out
	cmd.Stderr = &out
	cmd.WaitDelay = time.Second
	if err := cmd.Run(); err != nil {
		return out.String(), fmt.Errorf("failed to run ip %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(out.String()))
	}
	return out.String(), nil
}

// ipAll runs ip commands in order and stops at the first failure.
func ipAll(ctx context.Context, cmds ...[]string) error {
	for _, args := range cmds {
		if _, err := ip(ctx, args...); err != nil {
			return err
		}
	}
	return nil
}
