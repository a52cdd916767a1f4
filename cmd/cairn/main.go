// Command cairn pairs devices and lets them talk privately, peer to peer.
//
// Run `cairn demo` for a tour, `cairn --help` for the commands and the exit
// codes.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

// run executes the command line args and returns the exit code.
func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	a := newApp(stdin, stdout, stderr)
	root := a.rootCommand()
	root.SetArgs(args)
	err := root.ExecuteContext(ctx)
	a.cleanup()
	if err == nil {
		return exitOK
	}
	code := exitCode(err)
	if ctx.Err() != nil && code != exitWrongSecret {
		code = exitInterrupted
		err = errInterrupted
	}
	msg := oneLine(err)
	var ue usageError
	if errors.As(err, &ue) || isCobraUsage(err) {
		path := "cairn"
		if c, _, ferr := root.Find(args); ferr == nil {
			path = c.CommandPath()
		}
		msg += fmt.Sprintf(" (see '%s --help')", path)
	}
	a.errorf("%s", msg)
	return code
}

// oneLine flattens an error (errors.Join uses newlines) into one line.
func oneLine(err error) string {
	// The library prefixes its errors with "cairn: " too; say it once.
	msg := strings.TrimPrefix(strings.TrimSpace(err.Error()), "cairn: ")
	msg = strings.ReplaceAll(msg, "\r", "")
	return strings.ReplaceAll(msg, "\n", "; ")
}

var errInterrupted = errors.New("interrupted")

func (a *app) errorf(format string, args ...any) {
	fmt.Fprintf(a.stderr, "cairn: "+format+"\n", args...)
}
