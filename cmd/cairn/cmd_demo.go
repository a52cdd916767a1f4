package main

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/cairn-dev/cairn"
	"github.com/cairn-dev/cairn/cmd/cairn/internal/transfer"
	"github.com/cairn-dev/cairn/relay"
)

// demoTimeout bounds the whole demo.
const demoTimeout = 60 * time.Second

func (a *app) demoCommand() *cobra.Command {
	var sizeMiB int
	var keep bool
	c := &cobra.Command{
		Use:   "demo",
		Short: "Run two devices in this process: pair by PIN, chat, send a file, verify it",
		Long: `Run a complete cairn session on this machine, with nothing to set up:
a relay on 127.0.0.1, two nodes (alice and bob) in temporary directories with
LAN discovery off, pairing by PIN, a session, a few chat lines both ways, and a
file of random bytes sent and checked with SHA-256. Each step prints its time.`,
		Args: argsUsage(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, args []string) error {
			if sizeMiB < 0 || sizeMiB > 1024 {
				return usageErrorf("--size must be between 0 and 1024 MiB")
			}
			ctx, cancel := context.WithTimeout(cmdContext(cmd), demoTimeout)
			defer cancel()
			return a.runDemo(ctx, int64(sizeMiB)<<20, keep)
		},
	}
	c.Flags().IntVar(&sizeMiB, "size", 4, "size of the demo file in MiB")
	c.Flags().BoolVar(&keep, "keep", false, "keep the temporary directories")
	return c
}

// demoStepper prints numbered steps with the time since the start.
type demoStepper struct {
	a     *app
	start time.Time
	last  time.Time
}

func (d *demoStepper) step(format string, args ...any) {
	now := time.Now()
	msg := fmt.Sprintf(format, args...)
	if d.a.jsonOut {
		_ = d.a.emit(map[string]any{"event": "step", "text": msg, "elapsed_ms": now.Sub(d.start).Milliseconds(), "step_ms": now.Sub(d.last).Milliseconds()})
	} else {
		fmt.Fprintf(d.a.stdout, "[%7.3fs] %s\n", now.Sub(d.start).Seconds(), msg)
	}
	d.last = now
}

func (a *app) runDemo(ctx context.Context, size int64, keep bool) (err error) {
	d := &demoStepper{a: a, start: time.Now(), last: time.Now()}
	tmp, err := os.MkdirTemp("", "cairn-demo-")
	if err != nil {
		return err
	}
	if keep {
		defer func() { fmt.Fprintf(a.stderr, "kept %s\n", tmp) }()
	} else {
		defer os.RemoveAll(tmp)
	}

	// 1. A relay on loopback, in this process.
	srv, err := relay.NewServer(relay.Config{Logger: a.log})
	if err != nil {
		return err
	}
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", "127.0.0.1:0")
	if err != nil {
		return fmt.Errorf("cannot start the demo relay: %w", err)
	}
	relayURL := "http://" + ln.Addr().String()
	rctx, stopRelay := context.WithCancel(context.WithoutCancel(ctx))
	relayDone := make(chan error, 1)
	go func() { relayDone <- srv.Serve(rctx, ln) }()
	defer func() {
		stopRelay()
		if rerr := <-relayDone; rerr != nil && !errors.Is(rerr, relay.ErrServerClosed) && err == nil {
			err = rerr
		}
	}()
	d.step("relay listening on %s", relayURL)

	// 2. Two nodes.
	newNode := func(name string) (*cairn.Node, error) {
		return cairn.New(
			cairn.WithDataDir(filepath.Join(tmp, name)),
			cairn.WithListenAddr("127.0.0.1:0"),
			cairn.WithMDNS(false),
			cairn.WithRelay(relayURL),
			cairn.WithName(name),
			cairn.WithLogger(a.log.With("demo", name)),
		)
	}
	alice, err := newNode("alice")
	if err != nil {
		return err
	}
	defer alice.Close()
	bob, err := newNode("bob")
	if err != nil {
		return err
	}
	defer bob.Close()
	d.step("alice is %s, bob is %s", alice.PeerID().Short(), bob.PeerID().Short())

	// 3. Pair by PIN.
	pin, err := alice.PairGeneratePin(ctx)
	if err != nil {
		return fmt.Errorf("alice could not start pairing: %w", err)
	}
	d.step("alice shows the PIN %s", pin.Pin)
	bobSide, err := bob.PairEnterPin(ctx, pin.Pin)
	if err != nil {
		return fmt.Errorf("bob could not pair: %w", err)
	}
	res, err := pin.Result(ctx)
	if err != nil {
		return fmt.Errorf("alice could not pair: %w", err)
	}
	if bobSide != alice.PeerID() || res.Peer != bob.PeerID() {
		return errors.New("demo: the two sides paired with the wrong peers")
	}
	bobSAS, err := bob.SAS(alice.PeerID())
	if err != nil {
		return err
	}
	if bobSAS.Numeric != res.SAS.Numeric || !slices.Equal(bobSAS.Emoji, res.SAS.Emoji) {
		return errors.New("demo: the verification codes differ")
	}
	d.step("paired by PIN; both show the verification code %s (%s)", res.SAS.Numeric, strings.Join(res.SAS.Emoji, " "))

	// 4. A session, through the relay.
	accepted := make(chan *cairn.Session, 1)
	acceptErr := make(chan error, 1)
	go func() {
		s, err := bob.Accept(ctx)
		if err != nil {
			acceptErr <- err
			return
		}
		accepted <- s
	}()
	as, err := alice.Connect(ctx, bob.PeerID())
	if err != nil {
		return fmt.Errorf("alice could not connect to bob: %w", err)
	}
	defer as.Close()
	var bs *cairn.Session
	select {
	case bs = <-accepted:
	case err := <-acceptErr:
		return fmt.Errorf("bob could not accept: %w", err)
	}
	defer bs.Close()
	d.step("alice connected to bob (Noise XX, Double Ratchet)")

	// 5. Chat both ways.
	if err := demoChat(ctx, d, as, bs, "alice", []string{"hello bob!", "this line is end-to-end encrypted", "the relay only sees ciphertext"}); err != nil {
		return err
	}
	if err := demoChat(ctx, d, bs, as, "bob", []string{"hi alice, got all three", "send me that file"}); err != nil {
		return err
	}

	// 6. A file of random bytes.
	src := filepath.Join(tmp, "alice-files", "random.bin")
	want, err := writeRandomFile(src, size)
	if err != nil {
		return err
	}
	d.step("alice wrote %s of random data (sha256 %s...)", humanBytes(size), want[:16])
	items, err := transfer.Collect([]string{src}, nil)
	if err != nil {
		return err
	}
	recvDir := filepath.Join(tmp, "bob-files")
	type recvResult struct {
		res []transfer.Result
		err error
	}
	recvDone := make(chan recvResult, 1)
	go func() {
		ch, err := acceptChannel(ctx, bs, transfer.ChannelName)
		if err != nil {
			recvDone <- recvResult{nil, err}
			return
		}
		r, err := transfer.Receive(ctx, ch, transfer.ReceiveOptions{Dir: recvDir})
		recvDone <- recvResult{r, err}
	}()
	started := time.Now()
	ch, err := as.OpenChannel(ctx, transfer.ChannelName)
	if err != nil {
		return err
	}
	sent, err := transfer.Send(ctx, ch, items, nil)
	if err != nil {
		return fmt.Errorf("alice could not send the file: %w", err)
	}
	rr := <-recvDone
	if rr.err != nil {
		return fmt.Errorf("bob could not receive the file: %w", rr.err)
	}
	took := time.Since(started)
	if len(sent) != 1 || !sent[0].OK() || len(rr.res) != 1 || !rr.res[0].OK() {
		return fmt.Errorf("demo: the transfer failed: %+v / %+v", sent, rr.res)
	}
	d.step("alice sent random.bin to bob: %s in %s (%s/s)", humanBytes(size), took.Round(time.Millisecond), humanBytes(int64(float64(size)/max(took.Seconds(), 1e-3))))
	got, err := fileSHA256(filepath.Join(recvDir, "random.bin"))
	if err != nil {
		return err
	}
	if got != want {
		return fmt.Errorf("demo: bob's copy hashes to %s, want %s", got, want)
	}
	d.step("bob verified the file: SHA-256 matches (%s...)", got[:16])

	// 7. Done.
	as.Close()
	bs.Close()
	d.step("done: pairing, chat and file transfer all worked")
	return nil
}

// demoChat sends lines from one session and reads them on the other.
func demoChat(ctx context.Context, d *demoStepper, from, to *cairn.Session, who string, lines []string) error {
	out, err := from.OpenChannel(ctx, chatChannel)
	if err != nil {
		return err
	}
	in, err := acceptChannel(ctx, to, chatChannel)
	if err != nil {
		return err
	}
	for _, l := range lines {
		if err := out.Send(ctx, []byte(l)); err != nil {
			return fmt.Errorf("%s could not send: %w", who, err)
		}
		m, err := in.Receive(ctx)
		if err != nil {
			return fmt.Errorf("chat line from %s lost: %w", who, err)
		}
		d.step("%s: %s", who, m)
	}
	_ = out.Close()
	_ = in.Close()
	return nil
}

func writeRandomFile(name string, size int64) (string, error) {
	if err := os.MkdirAll(filepath.Dir(name), 0o700); err != nil {
		return "", err
	}
	f, err := os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return "", err
	}
	h := sha256.New()
	if _, err := io.CopyN(io.MultiWriter(f, h), rand.Reader, size); err != nil {
		f.Close()
		return "", err
	}
	if err := f.Close(); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

func fileSHA256(name string) (string, error) {
	f, err := os.Open(name)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}
