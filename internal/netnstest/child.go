package netnstest

import (
	"context"
	"testing"
	"time"

	"github.com/cairn-dev/cairn/internal/testchild"
)

// Child is a test binary running in the background inside a namespace,
// started by [StartTestInNS]. The parent reads the values it publishes with
// [Signal] and stops it with Stop, which closes its stdin: the child returns
// from [WaitForParent] and finishes its test.
type Child = testchild.Child

// StartTestInNS starts the test testName of the current binary inside
// namespace ns in the background (see [TestCommand]). It is stopped in
// t.Cleanup if the test did not call Stop, and t fails if it failed.
func StartTestInNS(t testing.TB, ns, testName string, env map[string]string) *Child {
	t.Helper()
	// Not t.Context: the child must outlive it until Cleanup stops it. The
	// context only kills a child that outlives its own test timeout.
	ctx, cancel := context.WithTimeout(context.Background(), ChildTimeout+5*time.Second)
	t.Cleanup(cancel)
	cmd, err := TestCommand(ctx, ns, testName, env)
	if err != nil {
		t.Fatalf("netnstest: %v", err)
	}
	return testchild.Start(t, testName+" in "+ns, cmd)
}

// Signal publishes key=value to the parent's Child.WaitSignal. Call it
// from a child test; value must not contain a newline.
func Signal(key, value string) { testchild.Signal(key, value) }

// WaitForParent blocks a child test until the parent calls Child.Stop (its
// stdin reaches EOF) or ctx is done.
func WaitForParent(ctx context.Context) error { return testchild.WaitForParent(ctx) }
