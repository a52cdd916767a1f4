package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cairn-dev/cairn"
	"github.com/cairn-dev/cairn/cmd/cairn/internal/transfer"
)

// twoNodes pairs two in-process nodes through a test relay on loopback and
// connects them.
func twoNodes(t *testing.T) (ctx context.Context, as, bs *cairn.Session) {
	t.Helper()
	url := startRelay(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	newNode := func() *cairn.Node {
		n, err := cairn.New(cairn.WithDataDir(t.TempDir()), cairn.WithListenAddr("127.0.0.1:0"), cairn.WithMDNS(false), cairn.WithRelay(url))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { n.Close() })
		return n
	}
	a, b := newNode(), newNode()
	pin, err := a.PairGeneratePin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.PairEnterPin(ctx, pin.Pin); err != nil {
		t.Fatal(err)
	}
	if _, err := pin.Wait(ctx); err != nil {
		t.Fatal(err)
	}
	got := make(chan *cairn.Session, 1)
	go func() {
		s, err := b.Accept(ctx)
		if err != nil {
			t.Error(err)
		}
		got <- s
	}()
	as, err = a.Connect(ctx, b.PeerID())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { as.Close() })
	bs = <-got
	if bs == nil {
		t.FailNow()
	}
	t.Cleanup(func() { bs.Close() })
	return ctx, as, bs
}

// TestReceiverRefusesUnsafeNames sends names a hostile peer could choose and
// checks the receiver refuses each and writes nothing outside its folder.
func TestReceiverRefusesUnsafeNames(t *testing.T) {
	ctx, as, bs := twoNodes(t)
	base := t.TempDir()
	dest := filepath.Join(base, "inbox")
	if err := os.MkdirAll(dest, 0o755); err != nil {
		t.Fatal(err)
	}
	// A symlink inside the folder that points out of it.
	if err := os.Symlink(base, filepath.Join(dest, "link")); err != nil {
		t.Fatal(err)
	}
	bad := []string{"../evil", "a/../../evil", "/etc/evil", "a//b", "./x", "x\x1b[31m", "new\nline", "back\\slash", "", "x.cairn-part", "link/evil"}
	var items []transfer.Item
	for _, name := range bad {
		items = append(items, transfer.Item{Name: name, Reader: strings.NewReader("evil"), Size: 4})
	}
	items = append(items, transfer.Item{Name: "good.txt", Reader: strings.NewReader("good"), Size: 4})

	type recv struct {
		res []transfer.Result
		err error
	}
	done := make(chan recv, 1)
	go func() {
		ch, err := acceptChannel(ctx, bs, transfer.ChannelName)
		if err != nil {
			done <- recv{nil, err}
			return
		}
		res, err := transfer.Receive(ctx, ch, transfer.ReceiveOptions{Dir: dest})
		done <- recv{res, err}
	}()
	ch, err := as.OpenChannel(ctx, transfer.ChannelName)
	if err != nil {
		t.Fatal(err)
	}
	sent, err := transfer.Send(ctx, ch, items, nil)
	if err != nil {
		t.Fatal(err)
	}
	r := <-done
	if r.err != nil {
		t.Fatal(r.err)
	}
	if len(sent) != len(items) || len(r.res) != len(items) {
		t.Fatalf("results: %d sent, %d received, %d items", len(sent), len(r.res), len(items))
	}
	for i, name := range bad {
		if sent[i].OK() || r.res[i].OK() {
			t.Errorf("%q was accepted", name)
		}
		if strings.ContainsAny(r.res[i].Err, "\x1b\n") || strings.ContainsAny(sent[i].Err, "\x1b\n") {
			t.Errorf("error for %q carries control characters: %q", name, r.res[i].Err)
		}
	}
	if !sent[len(bad)].OK() {
		t.Fatalf("good.txt: %v", sent[len(bad)].Err)
	}
	if b, err := os.ReadFile(filepath.Join(dest, "good.txt")); err != nil || string(b) != "good" {
		t.Fatalf("good.txt: %q %v", b, err)
	}
	// Nothing but the inbox in base, nothing unexpected in the inbox.
	if _, err := os.Stat(filepath.Join(base, "evil")); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("a file escaped the folder: %v", err)
	}
	entries, _ := os.ReadDir(dest)
	for _, e := range entries {
		if e.Name() != "good.txt" && e.Name() != "link" {
			t.Errorf("unexpected %s in the inbox", e.Name())
		}
	}
}

// TestSenderFileVanishes checks a file that cannot be read mid-transfer
// fails cleanly and leaves nothing under its final name.
func TestSenderFileVanishes(t *testing.T) {
	ctx, as, bs := twoNodes(t)
	dest := t.TempDir()
	done := make(chan []transfer.Result, 1)
	go func() {
		ch, err := acceptChannel(ctx, bs, transfer.ChannelName)
		if err != nil {
			done <- nil
			return
		}
		res, _ := transfer.Receive(ctx, ch, transfer.ReceiveOptions{Dir: dest})
		done <- res
	}()
	ch, err := as.OpenChannel(ctx, transfer.ChannelName)
	if err != nil {
		t.Fatal(err)
	}
	items := []transfer.Item{
		{Name: "short.bin", Reader: strings.NewReader(strings.Repeat("x", 1000)), Size: 5000},
		{Name: "failing.bin", Reader: failingReader{}, Size: 10},
		{Name: "gone.bin", Path: filepath.Join(t.TempDir(), "gone.bin"), Size: 10},
	}
	sent, err := transfer.Send(ctx, ch, items, nil)
	if err != nil {
		t.Fatal(err)
	}
	res := <-done
	for i := range items {
		if sent[i].OK() || res[i].OK() {
			t.Errorf("%s: sent %+v received %+v", items[i].Name, sent[i], res[i])
		}
		if _, err := os.Stat(filepath.Join(dest, items[i].Name)); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s exists under its final name", items[i].Name)
		}
	}
}

type failingReader struct{}

func (failingReader) Read([]byte) (int, error) { return 0, errors.New("disk on fire") }

// TestExitCodes maps library errors to the documented exit codes.
func TestExitCodes(t *testing.T) {
	for _, tc := range []struct {
		err  error
		code int
	}{
		{nil, exitOK},
		{errors.New("x"), exitError},
		{usageErrorf("bad"), exitUsage},
		{cairn.ErrWrongSecret, exitWrongSecret},
		{cairn.ErrTooManyAttempts, exitWrongSecret},
		{cairn.ErrExpired, exitTimeout},
		{context.DeadlineExceeded, exitTimeout},
		{cairn.ErrUnknownPeer, exitUnknownPeer},
		{cairn.ErrAmbiguousPeer, exitUnknownPeer},
		{cairn.ErrPeerNotFound, exitUnreachable},
		// The search for a peer ends with its own deadline: still unreachable.
		{fmt.Errorf("%w: %w", cairn.ErrPeerNotFound, context.DeadlineExceeded), exitUnreachable},
		{timeoutOr(context.Background(), fmt.Errorf("%w: %w", cairn.ErrPeerNotFound, context.DeadlineExceeded)), exitUnreachable},
		{timeoutOr(context.Background(), context.DeadlineExceeded), exitTimeout},
		{cairn.ErrInvalidCode, exitUsage},
	} {
		if got := exitCode(tc.err); got != tc.code {
			t.Errorf("exitCode(%v) = %d, want %d", tc.err, got, tc.code)
		}
	}
	// The command's own --timeout wins over whatever the error says.
	expired, cancel := context.WithDeadline(context.Background(), time.Now().Add(-time.Second))
	defer cancel()
	if got := exitCode(timeoutOr(expired, cairn.ErrPeerNotFound)); got != exitTimeout {
		t.Errorf("--timeout passed: exit %d, want %d", got, exitTimeout)
	}
}

func TestSanitizeText(t *testing.T) {
	long := strings.Repeat("日本", 200) + "\tend"
	if got := sanitizeText(long); got != long {
		t.Errorf("a long line with a tab changed: %d bytes -> %d", len(long), len(got))
	}
	if got := sanitizeText("a\x1b[2Jb\u202ec\xff\r\n"); got != "a?[2Jb?c???" {
		t.Errorf("sanitizeText = %q", got)
	}
}

func TestOneLine(t *testing.T) {
	if got := oneLine(fmt.Errorf("cairn: failed: %w", errors.Join(errors.New("a"), errors.New("b")))); got != "failed: a; b" {
		t.Errorf("oneLine = %q", got)
	}
}
