package transfer

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// memChannel is one end of an in-memory Channel pair.
type memChannel struct {
	in  <-chan []byte
	out chan<- []byte
}

func memPipe() (a, b memChannel) {
	ab, ba := make(chan []byte, 16), make(chan []byte, 16)
	return memChannel{in: ba, out: ab}, memChannel{in: ab, out: ba}
}

func (c memChannel) Send(ctx context.Context, msg []byte) error {
	select {
	case c.out <- append([]byte(nil), msg...):
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (c memChannel) Receive(ctx context.Context) ([]byte, error) {
	select {
	case m, ok := <-c.in:
		if !ok {
			return nil, io.EOF
		}
		return m, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// close ends the sending direction: the other side reads io.EOF.
func (c memChannel) close() { close(c.out) }

// peer speaks the sending side of the protocol by hand.
type peer struct {
	t   *testing.T
	ctx context.Context
	ch  memChannel
}

func (p peer) send(typ byte, v any) {
	p.t.Helper()
	if err := p.ch.Send(p.ctx, encode(typ, v)); err != nil {
		p.t.Fatal(err)
	}
}

func (p peer) sendRaw(msg []byte) {
	p.t.Helper()
	if err := p.ch.Send(p.ctx, msg); err != nil {
		p.t.Fatal(err)
	}
}

// expect reads the next message, which must be of type typ, into a T.
func expect[T any](p peer, typ byte) T {
	p.t.Helper()
	var v T
	msg, err := p.ch.Receive(p.ctx)
	if err == nil {
		err = decode(msg, typ, &v)
	}
	if err != nil {
		p.t.Fatal(err)
	}
	return v
}

func (p peer) answer() answer { p.t.Helper(); return expect[answer](p, msgAnswer) }

func (p peer) result() result { p.t.Helper(); return expect[result](p, msgResult) }

type receiveOutcome struct {
	results []Result
	err     error
}

func startReceive(ctx context.Context, opts ReceiveOptions) (peer memChannel, done <-chan receiveOutcome) {
	a, b := memPipe()
	out := make(chan receiveOutcome, 1)
	go func() {
		res, err := Receive(ctx, b, opts)
		out <- receiveOutcome{res, err}
	}()
	return a, out
}

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// TestConcurrentSameName: a second transfer of a file another transfer into
// the same folder is receiving is refused, so it cannot write into the file
// after the first one checked and placed it.
func TestConcurrentSameName(t *testing.T) {
	ctx, dir := testCtx(t), t.TempDir()
	var claims Claims
	chA, doneA := startReceive(ctx, ReceiveOptions{Dir: dir, Claims: &claims})
	chB, doneB := startReceive(ctx, ReceiveOptions{Dir: dir, Claims: &claims})
	a, b := peer{t, ctx, chA}, peer{t, ctx, chB}

	good := []byte("GOODGOODGOOD")
	a.send(msgHeader, header{Name: "f", Size: int64(len(good))})
	if ans := a.answer(); ans.Error != "" || ans.Offset != 0 {
		t.Fatalf("first transfer: %+v", ans)
	}
	b.send(msgHeader, header{Name: "F", Size: 4}) // the same file on a case-insensitive system
	b.send(msgHeader, header{Name: "f", Size: 4})
	for range 2 {
		if ans := b.answer(); !strings.Contains(ans.Error, ErrBusy.Error()) {
			t.Fatalf("second transfer of the same name: %+v, want %q", ans, ErrBusy)
		}
	}
	a.send(msgStart, start{})
	a.sendRaw(append([]byte{msgData}, good...))
	sum := sha256.Sum256(good)
	a.send(msgEnd, end{SHA256: hex.EncodeToString(sum[:]), Size: int64(len(good))})
	if r := a.result(); r.Error != "" {
		t.Fatalf("first transfer failed: %s", r.Error)
	}
	a.sendRaw([]byte{msgFinish})
	b.sendRaw([]byte{msgFinish})
	for _, done := range []<-chan receiveOutcome{doneA, doneB} {
		if o := <-done; o.err != nil {
			t.Fatal(o.err)
		}
	}
	if got, err := os.ReadFile(filepath.Join(dir, "f")); err != nil || string(got) != string(good) {
		t.Fatalf("f = %q, %v", got, err)
	}
	// Once the first is done the name is free again.
	if !claims.claim("f") {
		t.Fatal("name still claimed after the transfer")
	}
}

// TestFailedItemReported: a file whose transfer breaks off (here the sender
// vanishes after its header) is reported as failed, not as received.
func TestFailedItemReported(t *testing.T) {
	ctx, dir := testCtx(t), t.TempDir()
	ch, done := startReceive(ctx, ReceiveOptions{Dir: dir})
	p := peer{t, ctx, ch}
	p.send(msgHeader, header{Name: "report.pdf", Size: 1 << 30})
	p.answer()
	ch.close()
	o := <-done
	if o.err == nil || len(o.results) != 1 || o.results[0].OK() {
		t.Fatalf("results %+v, err %v: want one failed file and an error", o.results, o.err)
	}
}

// TestAbortLeavesNoEmptyPart: a file the sender gives up on before any data
// leaves no empty .cairn-part behind.
func TestAbortLeavesNoEmptyPart(t *testing.T) {
	ctx, dir := testCtx(t), t.TempDir()
	ch, done := startReceive(ctx, ReceiveOptions{Dir: dir})
	p := peer{t, ctx, ch}
	p.send(msgHeader, header{Name: "gone", Size: 10})
	p.answer()
	p.send(msgEnd, end{Error: "file vanished"})
	if r := p.result(); r.Error == "" {
		t.Fatal("aborted file reported as received")
	}
	p.sendRaw([]byte{msgFinish})
	if o := <-done; o.err != nil {
		t.Fatal(o.err)
	}
	if _, err := os.Stat(filepath.Join(dir, "gone"+PartSuffix)); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("empty part file left: %v", err)
	}
}
