package main

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"

	"github.com/cairn-dev/cairn"
	"github.com/cairn-dev/cairn/cmd/cairn/internal/transfer"
)

const (
	// channelWait bounds how long an accepted session may take to open the
	// channel it came for.
	channelWait = 30 * time.Second
	// closeWait bounds how long a receiver waits for the sender to hang up.
	closeWait = 5 * time.Second
)

func (a *app) sendCommand() *cobra.Command {
	var stdinName string
	c := &cobra.Command{
		Use:   "send PEER FILE...",
		Short: "Send files and folders to a peer (FILE '-' reads stdin)",
		Long: `Send files and folders to a paired peer that runs 'cairn receive' or 'cairn listen --dir D'.

An interrupted file resumes where it stopped when sent again; every file is
checked with SHA-256 at the end. 'cairn send PEER -' sends stdin (named by
--name).`,
		Args: argsUsage(cobra.MinimumNArgs(2)),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmdContext(cmd)
			items, err := a.collect(args[1:], stdinName)
			if err != nil {
				return err
			}
			n, err := a.openNode(online)
			if err != nil {
				return err
			}
			defer n.Close()
			peer, err := n.ResolvePeer(args[0])
			if err != nil {
				return err
			}
			sess, err := a.connect(ctx, n, peer)
			if err != nil {
				return err
			}
			defer sess.Close()
			ch, err := sess.OpenChannel(ctx, transfer.ChannelName)
			if err != nil {
				return fmt.Errorf("failed to start the transfer: %w", err)
			}
			started := time.Now()
			results, err := transfer.Send(ctx, ch, items, a.progress())
			return a.reportTransfer("sent", sess, "", results, time.Since(started), timeoutOr(ctx, err))
		},
	}
	c.Flags().StringVar(&stdinName, "name", "stdin", "file name for data read from stdin ('-')")
	return c
}

// collect turns the FILE arguments into transfer items.
func (a *app) collect(files []string, stdinName string) ([]transfer.Item, error) {
	var items []transfer.Item
	names := map[string]bool{}
	usedStdin := false
	for _, f := range files {
		var its []transfer.Item
		if f == "-" {
			if usedStdin {
				return nil, usageErrorf("stdin ('-') can be sent only once")
			}
			usedStdin = true
			if err := transfer.ValidName(stdinName); err != nil || stdinName != sanitizeName(stdinName) {
				return nil, usageErrorf("--name %q is not a plain file name", sanitizeName(stdinName))
			}
			its = []transfer.Item{{Name: stdinName, Reader: a.stdin, Size: -1, Mode: 0o644}}
		} else {
			var err error
			its, err = transfer.Collect([]string{f}, func(path, why string) {
				a.status("skipping %s: %s\n", path, why)
			})
			if err != nil {
				return nil, err
			}
		}
		for _, it := range its {
			if names[it.Name] {
				return nil, usageErrorf("two files would both be named %q", sanitizeName(it.Name))
			}
			names[it.Name] = true
		}
		items = append(items, its...)
	}
	return items, nil
}

// connect opens a session with peer.
func (a *app) connect(ctx context.Context, n *cairn.Node, peer cairn.PeerID) (*cairn.Session, error) {
	a.status("Connecting to %s...\n", peer.Short())
	s, err := n.Connect(ctx, peer)
	if err != nil {
		return nil, timeoutOr(ctx, err)
	}
	return s, nil
}

// reportTransfer prints the results of a transfer and turns failed files
// into an error.
func (a *app) reportTransfer(verb string, sess *cairn.Session, dir string, results []transfer.Result, took time.Duration, err error) error {
	var bytes int64
	failed := 0
	for _, r := range results {
		if !r.OK() {
			failed++
		} else if !r.Dir {
			bytes += r.Size - r.Resumed
		}
	}
	if a.jsonOut {
		out := map[string]any{
			"event":   verb,
			"peer":    sess.Peer().String(),
			"files":   nonNil(results),
			"bytes":   bytes,
			"seconds": took.Seconds(),
			"ok":      failed == 0 && err == nil,
		}
		if dir != "" {
			out["dir"] = dir
		}
		if e := a.emit(out); e != nil && err == nil {
			err = e
		}
	} else if verb == "sent" {
		for _, r := range results {
			a.printResult(verb, r)
		}
	}
	if err != nil {
		return err
	}
	if failed > 0 {
		return fmt.Errorf("%d of %d files failed", failed, len(results))
	}
	if !a.jsonOut {
		a.status("%s %s in %s (%s/s)\n", verb, humanBytes(bytes), took.Round(time.Millisecond), humanBytes(int64(float64(bytes)/max(took.Seconds(), 1e-3))))
	}
	return nil
}

func nonNil(r []transfer.Result) []transfer.Result {
	if r == nil {
		return []transfer.Result{}
	}
	return r
}

func (a *app) printResult(verb string, r transfer.Result) {
	if a.jsonOut {
		return
	}
	switch {
	case !r.OK():
		a.errorf("%s: %s", r.Name, r.Err)
	case r.Dir:
		a.printf("%s %s/\n", verb, r.Name)
	default:
		resumed := ""
		if r.Resumed > 0 {
			resumed = fmt.Sprintf(", resumed at %s", humanBytes(r.Resumed))
		}
		a.printf("%s %s (%s, sha256 %s%s)\n", verb, r.Name, humanBytes(r.Size), r.SHA256, resumed)
	}
}

func humanBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit && exp < 4; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTP"[exp])
}

func (a *app) receiveCommand() *cobra.Command {
	var dir, from string
	var force bool
	c := &cobra.Command{
		Use:   "receive",
		Short: "Wait for one transfer from a peer and save its files",
		Long: `Wait for a paired peer to run 'cairn send', save the files into --dir, and exit.

Files arrive as NAME.cairn-part and are renamed into place only after their
SHA-256 matches; an interrupted transfer leaves the .cairn-part file, and the
next one resumes from it. Existing files are not replaced without --force.
Names that would escape --dir or contain control characters are refused.`,
		Args: argsUsage(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmdContext(cmd)
			n, err := a.openNode(online)
			if err != nil {
				return err
			}
			defer n.Close()
			var want cairn.PeerID
			if from != "" {
				if want, err = n.ResolvePeer(from); err != nil {
					return err
				}
			}
			if a.jsonOut {
				if err := a.emit(map[string]string{"event": "ready", "peer_id": n.PeerID().String()}); err != nil {
					return err
				}
			}
			a.status("Waiting for files (this device is %s)...\n", n.PeerID().Short())
			for {
				sess, err := n.Accept(ctx)
				if err != nil {
					return timeoutOr(ctx, err)
				}
				if !want.IsZero() && sess.Peer() != want {
					a.log.Info("ignoring a session from another peer", "peer", sess.Peer().Short())
					sess.Close()
					continue
				}
				ch, err := acceptChannel(ctx, sess, transfer.ChannelName)
				if err != nil {
					sess.Close()
					if ctx.Err() != nil {
						return timeoutOr(ctx, ctx.Err())
					}
					a.log.Info("session without a transfer", "peer", sess.Peer().Short(), "err", err)
					continue
				}
				a.status("Receiving from %s into %s\n", peerLabel(sess.Peer(), sess.PeerName()), dir)
				started := time.Now()
				results, err := transfer.Receive(ctx, ch, transfer.ReceiveOptions{
					Dir: dir, Force: force, Progress: a.progress(),
					OnResult: func(r transfer.Result) { a.printResult("received", r) },
				})
				if err != nil {
					sess.Close()
				} else {
					waitClosed(sess)
				}
				return a.reportTransfer("received", sess, dir, results, time.Since(started), timeoutOr(ctx, err))
			}
		},
	}
	c.Flags().StringVar(&dir, "dir", ".", "folder to save files into (created if missing)")
	c.Flags().BoolVar(&force, "force", false, "replace existing files")
	c.Flags().StringVar(&from, "from", "", "accept files only from this peer")
	return c
}

// waitClosed gives the peer a moment to hang up first, then closes.
func waitClosed(sess *cairn.Session) {
	select {
	case <-sess.Done():
	case <-time.After(closeWait):
	}
	sess.Close()
}

// acceptChannel waits for the peer to open a channel called name, closing
// any other.
func acceptChannel(ctx context.Context, sess *cairn.Session, name string) (*cairn.Channel, error) {
	ctx, cancel := context.WithTimeout(ctx, channelWait)
	defer cancel()
	for {
		ch, err := sess.AcceptChannel(ctx)
		if err != nil {
			return nil, err
		}
		if ch.Name() == name {
			return ch, nil
		}
		ch.Close()
	}
}

// progress returns a progress bar on a terminal, and nothing otherwise.
func (a *app) progress() transfer.Progress {
	if a.jsonOut || !isTerminal(a.stderr) {
		return nil
	}
	return barProgress{w: a.stderr}
}

type barProgress struct{ w io.Writer }

func (p barProgress) Begin(name string, size, offset int64) transfer.ProgressWriter {
	bar := progressbar.NewOptions64(size,
		progressbar.OptionSetWriter(p.w),
		progressbar.OptionSetDescription(sanitizeName(name)),
		progressbar.OptionShowBytes(true),
		progressbar.OptionShowCount(),
		progressbar.OptionSetWidth(24),
		progressbar.OptionThrottle(100*time.Millisecond),
		progressbar.OptionSetPredictTime(true),
		progressbar.OptionShowElapsedTimeOnFinish(),
		progressbar.OptionOnCompletion(func() { fmt.Fprintln(p.w) }),
		progressbar.OptionUseANSICodes(true),
	)
	if offset > 0 {
		_ = bar.Set64(offset)
	}
	return &barWriter{bar: bar}
}

type barWriter struct{ bar *progressbar.ProgressBar }

func (b *barWriter) Add(n int) { _ = b.bar.Add(n) }

func (b *barWriter) End(err error) {
	if err == nil {
		_ = b.bar.Finish()
		return
	}
	_ = b.bar.Exit()
}
