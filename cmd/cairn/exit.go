package main

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/cairn-dev/cairn"
)

// Exit codes, documented in `cairn --help` and the README.
const (
	exitOK          = 0   // success
	exitError       = 1   // any other failure
	exitUsage       = 2   // bad command line or malformed input (PIN, link, QR data)
	exitWrongSecret = 3   // wrong PIN or code, or the PIN was invalidated after too many attempts
	exitTimeout     = 4   // timed out (--timeout) or the pairing material expired
	exitUnknownPeer = 5   // no such paired peer, or an ambiguous name or prefix
	exitUnreachable = 6   // the peer is paired but could not be reached
	exitInterrupted = 130 // Ctrl-C or SIGTERM
)

const exitCodesHelp = `Exit codes:
  0    success
  1    error
  2    usage: bad command line, or a malformed PIN, link or QR code
  3    wrong secret: the PIN or code did not match, no device is showing it, or it was used up
  4    timeout: --timeout passed, or the PIN, QR code or link expired
  5    unknown peer, or a name or prefix that matches several peers
  6    peer unreachable: paired, but not found on the LAN or at the relay
  130  interrupted (Ctrl-C); 'cairn relay' shuts down cleanly and exits 0`

// usageError marks command-line mistakes (exit code 2).
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

func usageErrorf(format string, args ...any) error {
	return usageError{fmt.Errorf(format, args...)}
}

// errInvalidInput marks malformed input that is not a command-line mistake
// (exit code 2, but no pointer to --help).
var errInvalidInput = errors.New("invalid input")

// exitCode maps an error to the documented exit codes.
func exitCode(err error) int {
	var ue usageError
	switch {
	case err == nil:
		return exitOK
	case errors.As(err, &ue), isCobraUsage(err):
		return exitUsage
	case errors.Is(err, cairn.ErrWrongSecret), errors.Is(err, cairn.ErrTooManyAttempts), errors.Is(err, cairn.ErrNoSuchPairing):
		return exitWrongSecret
	case errors.Is(err, cairn.ErrUnknownPeer), errors.Is(err, cairn.ErrAmbiguousPeer):
		return exitUnknownPeer
	// Before the timeout case: the search for a peer ends with its own
	// deadline, and an offline peer is unreachable, not a timeout.
	case errors.Is(err, cairn.ErrPeerNotFound), errors.Is(err, cairn.ErrNoTransport):
		return exitUnreachable
	case errors.Is(err, cairn.ErrExpired), errors.Is(err, context.DeadlineExceeded):
		return exitTimeout
	case errors.Is(err, cairn.ErrInvalidCode), errors.Is(err, errInvalidInput):
		return exitUsage
	}
	return exitError
}

// isCobraUsage recognises the errors cobra makes itself for unknown commands
// and flags (it has no typed errors for them).
func isCobraUsage(err error) bool {
	msg := err.Error()
	for _, p := range []string{"unknown command", "unknown flag", "unknown shorthand flag", "accepts ", "requires at least", "requires at most", "invalid argument", "flag needs an argument", "bad flag syntax", "if any flags in the group"} {
		if strings.HasPrefix(msg, p) {
			return true
		}
	}
	return false
}
