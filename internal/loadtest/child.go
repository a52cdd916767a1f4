package loadtest

import (
	"context"
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/cairn-dev/cairn/internal/testchild"
)

// EnvChild marks a test binary re-executed by [Start]; its value is the
// child's role, so that one test function can serve several roles.
const EnvChild = "CAIRN_LOADTEST_CHILD"

// Child is a test binary running one test in the background.
type Child = testchild.Child

// Start runs the top-level test testName of the current test binary in a
// child process with env added to the environment and [EnvChild] set to
// role. timeout is passed as -test.timeout and bounds the child's life.
func Start(t testing.TB, testName, role string, env map[string]string, timeout time.Duration) *Child {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatalf("loadtest: failed to find the test binary: %v", err)
	}
	cmd := exec.Command(exe, testchild.TestArgs(testName, timeout)...)
	cmd.Env = append(testchild.Env(env), EnvChild+"="+role)
	return testchild.Start(t, testName+"/"+role, cmd)
}

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

// Signal publishes key=value to the parent's [Child.WaitSignal].
func Signal(key, value string) { testchild.Signal(key, value) }

// WaitForParent blocks until the parent calls [Child.Stop] or ctx is done.
func WaitForParent(ctx context.Context) error { return testchild.WaitForParent(ctx) }
