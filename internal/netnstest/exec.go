package netnstest

import (
	"bytes"
	"context"
	"fmt"
	"github.com/cairn-dev/cairn/internal/testchild"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// EnvChild marks a test binary re-executed by [TestCommand]; its value is the
// namespace name.
const EnvChild = "CAIRN_NETNSTEST_NS"

// ChildTimeout bounds a child test run by [RunTestInNS]; it is also passed
// to the child as -test.timeout.
const ChildTimeout = 60 * time.Second

// waitDelay is how long Wait waits for output pipes after the process was
// killed.
const waitDelay = 2 * time.Second

// Command returns a command that runs name with args inside namespace ns
// (ip netns exec). The context kills it when done; callers that start it in
// the background must also Wait for it.
func Command(ctx context.Context, ns, name string, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, "ip", append([]string{"netns", "exec", ns, name}, args...)...)
	cmd.WaitDelay = waitDelay
	return cmd
}

// TestCommand returns a command that re-executes the current test binary
// inside namespace ns, running only the top-level test testName, with env
// added to the environment and [EnvChild] set to ns. Nothing is started yet.
func TestCommand(ctx context.Context, ns, testName string, env map[string]string) (*exec.Cmd, error) {
	// Resolved here: inside "ip netns exec", /proc/self/exe would be ip.
	exe, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("failed to find the test binary: %w", err)
	}
	cmd := Command(ctx, ns, exe, testchild.TestArgs(testName, ChildTimeout)...)
	cmd.Env = append(testchild.Env(env), EnvChild+"="+ns)
	return cmd, nil
}

// RunTestInNS runs the test testName of the current binary inside namespace
// ns (see [TestCommand]), bounded by [ChildTimeout], logs its output and
// fails t unless the child ran that test and it passed. It returns the
// child's output.
func RunTestInNS(t testing.TB, ns, testName string, env map[string]string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), ChildTimeout+5*time.Second)
	defer cancel()
	cmd, err := TestCommand(ctx, ns, testName, env)
	if err != nil {
		t.Fatalf("netnstest: %v", err)
	}
	var out bytes.Buffer
	cmd.Stdout = &out
	cmd.Stderr = &out
	err = cmd.Run()
	t.Logf("netnstest: child %s in %s:\n%s", testName, ns, indent(out.String()))
	if err != nil {
		t.Fatalf("netnstest: child %s in %s failed: %v", testName, ns, err)
	}
	if !strings.Contains(out.String(), "--- PASS: "+testName+" ") {
		t.Fatalf("netnstest: child did not run and pass %s (skipped or not found)", testName)
	}
	return out.String()
}

// InChild reports whether this process is a test binary re-executed inside a
// namespace by [TestCommand].
func InChild() bool { return os.Getenv(EnvChild) != "" }

// Namespace returns the namespace this child runs in, or "" outside one.
func Namespace() string { return os.Getenv(EnvChild) }

// ChildOnly skips the test unless it runs as a child inside a namespace. Put
// it first in test functions that only make sense there (and must never run
// on the host's network).
func ChildOnly(t testing.TB) {
	t.Helper()
	if !InChild() {
		t.Skip("skipping: runs only re-executed inside a test network namespace")
	}
}

func indent(s string) string {
	return "\t" + strings.ReplaceAll(strings.TrimRight(s, "\n"), "\n", "\n\t")
}
