package handshake

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/cairn-dev/cairn/internal/frame"
	"github.com/cairn-dev/cairn/internal/wire"
)

// Initiator runs the initiator's side of a handshake on conn (messages 1 and
// 3; it reads 2 and 4). If conn has a SetDeadline method (a net.Conn), ctx
// bounds the handshake: its deadline becomes the conn's and cancelling it
// interrupts pending I/O; the deadline is cleared on return. Otherwise ctx is
// checked between messages only.
//
// Every error wraps ErrHandshakeFailed and the cause: ErrDecrypt,
// ErrBadMessage, ErrBadPayload, ErrBadSignature, ErrPeerMismatch,
// ErrRejected, ErrConfig, the context's error, or an I/O error. On a failure
// caused by the peer's message, a Reject is sent before returning.
func Initiator(ctx context.Context, conn io.ReadWriter, cfg Config) (*Result, error) {
	return run(ctx, conn, cfg, true)
}

// Responder runs the responder's side of a handshake on conn (messages 2
// and 4; it reads 1 and 3). See Initiator for ctx and errors.
func Responder(ctx context.Context, conn io.ReadWriter, cfg Config) (*Result, error) {
	return run(ctx, conn, cfg, false)
}

type deadliner interface {
	SetDeadline(time.Time) error
}

// step names a handshake step in errors.
type step string

func run(ctx context.Context, conn io.ReadWriter, cfg Config, initiator bool) (*Result, error) {
	if err := ctx.Err(); err != nil {
		return nil, fail("start", ctx, err)
	}
	m, err := newMachine(cfg, initiator)
	if err != nil {
		return nil, fail("start", ctx, err)
	}
	defer m.wipe()
	stop := bindContext(ctx, conn)
	defer stop()

	d := driver{ctx: ctx, r: cfg.Reader, w: frame.NewWriter(conn), psk: cfg.PSK != nil}
	if d.r == nil {
		d.r = frame.NewReader(conn, 1+MaxMessageSize)
	}
	if initiator {
		err = d.initiate(m)
	} else {
		err = d.respond(m)
	}
	if err != nil {
		return nil, err
	}
	return m.result(), nil
}

type driver struct {
	ctx context.Context
	r   *frame.Reader
	w   *frame.Writer
	psk bool
}

func (d *driver) initiate(m *machine) error {
	if err := d.send("message 1", m.writeMsg1); err != nil {
		return err
	}
	if err := d.recv("message 2", m.readMsg2); err != nil {
		return err
	}
	if err := d.send("message 3", m.writeMsg3); err != nil {
		return err
	}
	return d.recv("message 4", m.readFinished)
}

func (d *driver) respond(m *machine) error {
	if err := d.recv("message 1", m.readMsg1); err != nil {
		return err
	}
	if err := d.send("message 2", m.writeMsg2); err != nil {
		return err
	}
	if err := d.recv("message 3", m.readMsg3); err != nil {
		return err
	}
	return d.send("message 4", m.writeFinished)
}

func (d *driver) send(s step, msg func() ([]byte, error)) error {
	if err := d.ctx.Err(); err != nil {
		return fail(s, d.ctx, err)
	}
	b, err := msg()
	if err != nil {
		return fail(s, d.ctx, err)
	}
	if err := d.w.WriteFrame(frame.TypeHandshake, b); err != nil {
		return fail(s, d.ctx, err)
	}
	return nil
}

func (d *driver) recv(s step, handle func([]byte) error) error {
	if err := d.ctx.Err(); err != nil {
		return fail(s, d.ctx, err)
	}
	typ, body, err := d.r.ReadFrame()
	if err != nil {
		if errors.Is(err, frame.ErrTooLarge) || errors.Is(err, frame.ErrEmpty) {
			err = fmt.Errorf("%w: %w", ErrBadMessage, err)
			d.reject(err)
		}
		return fail(s, d.ctx, err)
	}
	switch typ {
	case frame.TypeHandshake:
	case frame.TypeReject:
		rej, perr := wire.ParseReject(body)
		if perr != nil {
			return fail(s, d.ctx, fmt.Errorf("%w: %w", ErrBadMessage, perr))
		}
		if rej.Code == wire.CodeWrongSecret {
			return fail(s, d.ctx, fmt.Errorf("%w: %w: %w", ErrRejected, ErrDecrypt, rej))
		}
		return fail(s, d.ctx, fmt.Errorf("%w: %w", ErrRejected, rej))
	default:
		err := fmt.Errorf("%w: got a %v frame", ErrBadMessage, typ)
		d.reject(err)
		return fail(s, d.ctx, err)
	}
	if err := handle(body); err != nil {
		d.reject(err)
		return fail(s, d.ctx, err)
	}
	return nil
}

// reject tells the peer why its message was refused, best effort.
func (d *driver) reject(err error) {
	code := wire.CodeProtocol
	switch {
	case errors.Is(err, ErrDecrypt) && d.psk:
		code = wire.CodeWrongSecret
	case errors.Is(err, ErrPeerMismatch):
		code = wire.CodeUnknownPeer
	}
	_ = d.w.WriteFrame(frame.TypeReject, wire.MarshalReject(code))
}

// fail wraps err with ErrHandshakeFailed and the step, and with the context's
// error if the context ended (the I/O error is then a consequence).
func fail(s step, ctx context.Context, err error) error {
	if cerr := ctx.Err(); cerr != nil && !errors.Is(err, cerr) {
		err = fmt.Errorf("%w (%w)", cerr, err)
	}
	return fmt.Errorf("%w: %s: %w", ErrHandshakeFailed, s, err)
}

// bindContext applies ctx to conn if conn has deadlines: when ctx is done
// (cancelled or past its deadline) it sets a past deadline on conn, which
// interrupts pending I/O. The
// returned func waits until the watcher is gone and clears the deadline.
func bindContext(ctx context.Context, conn io.ReadWriter) func() {
	dl, ok := conn.(deadliner)
	if !ok {
		return func() {}
	}
	// ctx's deadline is applied by the watcher too, not copied to the conn:
	// that way ctx.Err() is always set by the time I/O fails, and errors
	// carry context.DeadlineExceeded rather than a bare timeout.
	fired := make(chan struct{})
	stop := context.AfterFunc(ctx, func() {
		defer close(fired)
		_ = dl.SetDeadline(time.Unix(1, 0))
	})
	return func() {
		if !stop() {
			<-fired
		}
		_ = dl.SetDeadline(time.Time{})
	}
}
