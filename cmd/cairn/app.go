package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"runtime/debug"
	"strconv"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/cairn-dev/cairn"
)

// app holds the global flags and the process's standard streams.
type app struct {
	stdin          io.Reader
	stdout, stderr io.Writer

	dataDir    string
	relayURL   string
	listenAddr string
	jsonOut    bool
	verbose    int
	noMDNS     bool
	timeout    time.Duration

	log     *slog.Logger
	cancels []context.CancelFunc
}

func newApp(stdin io.Reader, stdout, stderr io.Writer) *app {
	return &app{stdin: stdin, stdout: stdout, stderr: stderr, log: slog.New(slog.DiscardHandler)}
}

func (a *app) cleanup() {
	for _, c := range a.cancels {
		c()
	}
}

const rootLong = `cairn pairs two devices and lets them talk privately, peer to peer.

One device shows a PIN, a QR code or a link; the other types, scans or opens
it. From then on the two find each other on the LAN (mDNS) or through a relay
(--relay), authenticate, and exchange end-to-end encrypted messages and files.

Start with:  cairn demo

Peers are named by PeerID, a unique prefix of it (4+ characters), or their name.

Environment:
  CAIRN_DATA_DIR    same as --data-dir
  CAIRN_RELAY       same as --relay
  CAIRN_NO_MDNS=1   same as --no-mdns
  CAIRN_PIN         the PIN for 'cairn pair enter' (keeps it out of ps)
  CAIRN_PASSPHRASE  seals the identity key with a passphrase

`

func (a *app) rootCommand() *cobra.Command {
	root := &cobra.Command{
		Use:           "cairn",
		Short:         "Pair devices and talk privately, peer to peer",
		Long:          rootLong + exitCodesHelp,
		Version:       versionString(),
		SilenceUsage:  true,
		SilenceErrors: true,
		Args:          cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return cmd.Help()
		},
		PersistentPreRunE: func(cmd *cobra.Command, args []string) error {
			return a.setup(cmd)
		},
	}
	root.SetIn(a.stdin)
	root.SetOut(a.stdout)
	root.SetErr(a.stderr)
	root.SetVersionTemplate("cairn {{.Version}}\n")
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error { return usageError{err} })

	pf := root.PersistentFlags()
	pf.StringVar(&a.dataDir, "data-dir", "", "directory for the identity and paired peers (default: $CAIRN_DATA_DIR or <user config dir>/cairn)")
	pf.StringVar(&a.relayURL, "relay", "", "relay URL, e.g. https://relay.example:8443 (default: $CAIRN_RELAY)")
	pf.StringVar(&a.listenAddr, "listen", cairn.DefaultListenAddr, "TCP address for direct connections from peers")
	pf.BoolVar(&a.jsonOut, "json", false, "print machine-readable JSON (one object per line)")
	pf.CountVarP(&a.verbose, "verbose", "v", "log to stderr (-vv for debug)")
	pf.BoolVar(&a.noMDNS, "no-mdns", false, "disable LAN discovery by mDNS (also CAIRN_NO_MDNS=1)")
	pf.DurationVar(&a.timeout, "timeout", 0, "give up after this long (exit code 4); 0 waits as long as it takes")

	root.AddCommand(
		a.idCommand(),
		a.pairCommand(),
		a.peersCommand(),
		a.unpairCommand(),
		a.renameCommand(),
		a.chatCommand(),
		a.sendCommand(),
		a.receiveCommand(),
		a.listenCommand(),
		a.relayCommand(),
		a.demoCommand(),
	)
	return root
}

func versionString() string {
	if version != "dev" {
		return version
	}
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return version
}

// setup applies the environment and the global flags before any command.
func (a *app) setup(cmd *cobra.Command) error {
	if a.dataDir == "" {
		a.dataDir = os.Getenv("CAIRN_DATA_DIR")
	}
	if a.relayURL == "" {
		a.relayURL = os.Getenv("CAIRN_RELAY")
	}
	if v := os.Getenv("CAIRN_NO_MDNS"); v != "" && !cmd.Flags().Changed("no-mdns") {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return usageErrorf("CAIRN_NO_MDNS=%q: want 1 or 0", v)
		}
		a.noMDNS = b
	}
	if a.timeout < 0 {
		return usageErrorf("--timeout must not be negative")
	}
	if a.verbose > 0 {
		level := slog.LevelInfo
		if a.verbose > 1 {
			level = slog.LevelDebug
		}
		a.log = slog.New(slog.NewTextHandler(a.stderr, &slog.HandlerOptions{Level: level}))
	}
	if a.timeout > 0 {
		ctx, cancel := context.WithTimeout(cmd.Context(), a.timeout)
		a.cancels = append(a.cancels, cancel)
		cmd.SetContext(ctx)
	}
	return nil
}

// dataDirectory returns --data-dir or the default.
func (a *app) dataDirectory() (string, error) {
	if a.dataDir != "" {
		return a.dataDir, nil
	}
	dir, err := os.UserConfigDir()
	if err != nil {
		return "", fmt.Errorf("no default data directory (%v): set --data-dir or CAIRN_DATA_DIR", err)
	}
	return filepath.Join(dir, "cairn"), nil
}

// nodeMode says whether a command talks to peers.
type nodeMode int

const (
	offline nodeMode = iota // local only: no discovery, no relay, loopback listener
	online
)

// openNode starts the node of this data directory.
func (a *app) openNode(mode nodeMode, extra ...cairn.Option) (*cairn.Node, error) {
	dir, err := a.dataDirectory()
	if err != nil {
		return nil, err
	}
	opts := []cairn.Option{cairn.WithDataDir(dir), cairn.WithLogger(a.log)}
	if mode == offline {
		opts = append(opts, cairn.WithMDNS(false), cairn.WithListenAddr("127.0.0.1:0"))
	} else {
		opts = append(opts, cairn.WithMDNS(!a.noMDNS), cairn.WithListenAddr(a.listenAddr))
		if a.relayURL != "" {
			opts = append(opts, cairn.WithRelay(a.relayURL))
		}
	}
	passphrase := os.Getenv("CAIRN_PASSPHRASE")
	if passphrase != "" {
		opts = append(opts, cairn.WithPassphrase([]byte(passphrase)))
	}
	opts = append(opts, extra...)
	n, err := cairn.New(opts...)
	if err != nil {
		return nil, err
	}
	if passphrase != "" && !n.IdentitySealed() {
		a.status("note: the identity key was created without a passphrase; CAIRN_PASSPHRASE does not seal it\n")
	}
	if mode == online && a.relayURL == "" && a.noMDNS {
		n.Close()
		return nil, fmt.Errorf("%w: pass --relay URL (or CAIRN_RELAY), or allow mDNS", cairn.ErrNoTransport)
	}
	return n, nil
}

// emit prints v as one line of JSON.
func (a *app) emit(v any) error {
	enc := json.NewEncoder(a.stdout)
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}

// printf prints human output (nothing in --json mode).
func (a *app) printf(format string, args ...any) {
	if !a.jsonOut {
		fmt.Fprintf(a.stdout, format, args...)
	}
}

// status prints progress messages for people on stderr (nothing in --json mode).
func (a *app) status(format string, args ...any) {
	if !a.jsonOut {
		fmt.Fprintf(a.stderr, format, args...)
	}
}

// isTerminal reports whether w is a terminal.
func isTerminal(v any) bool {
	f, ok := v.(interface{ Fd() uintptr })
	return ok && term.IsTerminal(int(f.Fd()))
}

// peerLabel is "name (Qm...short)" or the short id.
func peerLabel(id cairn.PeerID, name string) string {
	if name != "" {
		return fmt.Sprintf("%s (%s)", sanitizeName(name), id.Short())
	}
	return id.Short()
}

// cmdContext is the command's context (with --timeout applied).
func cmdContext(cmd *cobra.Command) context.Context { return cmd.Context() }

// argsUsage wraps a cobra argument check so its failures exit with code 2.
func argsUsage(check cobra.PositionalArgs) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if err := check(cmd, args); err != nil {
			return usageError{err}
		}
		return nil
	}
}

// timeoutOr turns a context error into a clear one.
func timeoutOr(ctx context.Context, err error) error {
	switch {
	case ctx.Err() != nil && errors.Is(ctx.Err(), context.DeadlineExceeded):
		return errTimedOut{} // the command's own --timeout
	case errors.Is(err, cairn.ErrPeerNotFound):
		return err // the search for the peer gave up: unreachable, not a timeout
	case errors.Is(err, context.DeadlineExceeded):
		return errTimedOut{}
	}
	return err
}

// errTimedOut is context.DeadlineExceeded (exit code 4), said plainly.
type errTimedOut struct{}

func (errTimedOut) Error() string        { return "timed out" }
func (errTimedOut) Is(target error) bool { return target == context.DeadlineExceeded }
