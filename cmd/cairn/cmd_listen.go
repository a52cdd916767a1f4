package main

import (
	"context"
	"sync"
	"time"

	"github.com/spf13/cobra"

	"github.com/cairn-dev/cairn"
	"github.com/cairn-dev/cairn/cmd/cairn/internal/transfer"
)

func (a *app) listenCommand() *cobra.Command {
	var dir string
	var force bool
	c := &cobra.Command{
		Use:   "listen",
		Short: "Stay reachable: accept chats and, with --dir, files from paired peers",
		Long: `Run this device as a node that paired peers can reach until Ctrl-C.

Chat lines from peers are printed. With --dir, files sent with 'cairn send'
are saved there (as 'cairn receive' does); without it they are refused.`,
		Args: argsUsage(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmdContext(cmd)
			n, err := a.openNode(online)
			if err != nil {
				return err
			}
			defer n.Close()
			if a.jsonOut {
				if err := a.emit(map[string]string{"event": "ready", "peer_id": n.PeerID().String()}); err != nil {
					return err
				}
			}
			a.status("Listening as %s (Ctrl-C to stop)\n", n.PeerID())
			l := &listener{a: a, dir: dir, force: force}
			var wg sync.WaitGroup
			defer wg.Wait()
			for {
				sess, err := n.Accept(ctx)
				if err != nil {
					if ctx.Err() != nil {
						return timeoutOr(ctx, ctx.Err())
					}
					return err
				}
				l.logf("%s connected", peerLabel(sess.Peer(), sess.PeerName()))
				wg.Go(func() { l.serve(ctx, sess) })
			}
		},
	}
	c.Flags().StringVar(&dir, "dir", "", "accept files into this folder")
	c.Flags().BoolVar(&force, "force", false, "replace existing files")
	return c
}

type listener struct {
	a      *app
	dir    string
	force  bool
	claims transfer.Claims // one file at a time across the concurrent transfers into dir
	mu     sync.Mutex      // serialises output
}

// allOK reports whether every file of a transfer arrived.
func allOK(results []transfer.Result) bool {
	for _, r := range results {
		if !r.OK() {
			return false
		}
	}
	return true
}

func (l *listener) logf(format string, args ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.a.status("%s "+format+"\n", append([]any{time.Now().Format("15:04:05")}, args...)...)
}

func (l *listener) emit(v any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	_ = l.a.emit(v)
}

// serve handles every channel a peer opens on one session.
func (l *listener) serve(ctx context.Context, sess *cairn.Session) {
	defer sess.Close()
	var wg sync.WaitGroup
	defer wg.Wait()
	for {
		ch, err := sess.AcceptChannel(ctx)
		if err != nil {
			l.logf("%s disconnected", sess.Peer().Short())
			return
		}
		switch ch.Name() {
		case chatChannel:
			wg.Go(func() { l.chat(ctx, sess, ch) })
		case transfer.ChannelName:
			if l.dir == "" {
				l.logf("refused files from %s: start with --dir to accept files", sess.Peer().Short())
				wg.Go(func() {
					defer ch.Close()
					_ = transfer.Refuse(ctx, ch, "this device is not accepting files (cairn listen without --dir)")
				})
				continue
			}
			wg.Go(func() { l.files(ctx, sess, ch) })
		default:
			ch.Close()
		}
	}
}

func (l *listener) chat(ctx context.Context, sess *cairn.Session, ch *cairn.Channel) {
	defer ch.Close()
	printChat(ctx, l.a, &l.mu, sess, ch)
}

func (l *listener) files(ctx context.Context, sess *cairn.Session, ch *cairn.Channel) {
	started := time.Now()
	results, err := transfer.Receive(ctx, ch, transfer.ReceiveOptions{
		Dir: l.dir, Force: l.force, Claims: &l.claims,
		OnResult: func(r transfer.Result) {
			l.mu.Lock()
			defer l.mu.Unlock()
			l.a.printResult("received", r)
		},
	})
	if l.a.jsonOut {
		l.emit(map[string]any{"event": "received", "peer": sess.Peer().String(), "dir": l.dir, "files": nonNil(results), "seconds": time.Since(started).Seconds(), "ok": err == nil && allOK(results)})
	}
	if err != nil {
		l.logf("transfer from %s failed: %s", sess.Peer().Short(), oneLine(err))
	}
}
