package session

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"time"
)

// ID identifies a session. The dialer picks it at random; the acceptor uses it
// to route a reconnecting dialer's transport to its Session.
type ID [16]byte

func (id ID) String() string { return hex.EncodeToString(id[:]) }

func newID() (ID, error) {
	var id ID
	if _, err := rand.Read(id[:]); err != nil {
		return id, fmt.Errorf("session: failed to pick a session id: %w", err)
	}
	return id, nil
}

// Hello is what a dialer says first on every transport: the session it wants
// and whether it is new or a resume. The acceptor's accept loop reads it with
// ReadHello and routes the transport:
//
//	h, err := session.ReadHello(ctx, t)
//	switch {
//	case err != nil:
//		t.Close()
//	case !h.Resume:
//		s, err = session.Accept(ctx, t, h, cfg) // a new session
//	case known(peer, h.ID):
//		err = sessions[h.ID].Attach(t, h) // the dialer came back
//	default:
//		session.Reject(t, h) // unknown or expired: the dialer fails fast
//	}
//
// Key the table by the authenticated peer as well as by ID, so that one peer
// can never attach to another peer's session.
type Hello struct {
	// ID is the session the dialer wants.
	ID ID
	// Resume is true when the dialer resumes an existing session.
	Resume bool

	next   uint64 // the dialer's next expected sequence number
	window uint32 // the dialer's per-channel receive window
}

// ReadHello reads the Hello a dialer sends first on a new transport. On a
// malformed or unexpected record it returns an error wrapping ErrProtocol; a
// dialer speaking another version is sent a Close and gets an error too. When
// ctx ends first, ReadHello closes t.
func ReadHello(ctx context.Context, t Transport) (Hello, error) {
	r, err := recvHandshake(ctx, t, 0)
	if err != nil {
		return Hello{}, err
	}
	if r.typ != typeHello {
		return Hello{}, fmt.Errorf("session: expected a Hello: %w", ErrProtocol)
	}
	if r.version != Version {
		sendClose(t, CloseVersion, fmt.Sprintf("version %d not supported", r.version))
		return Hello{}, fmt.Errorf("session: dialer speaks version %d: %w", r.version, ErrProtocol)
	}
	if r.flags&helloResume == 0 && r.next != 0 {
		return Hello{}, fmt.Errorf("session: new session starting at %d: %w", r.next, ErrProtocol)
	}
	if err := checkWindow(r.window); err != nil {
		return Hello{}, err
	}
	return Hello{ID: r.id, Resume: r.flags&helloResume != 0, next: r.next, window: r.window}, nil
}

// Reject tells a dialer that its session is unknown (so it fails at once
// instead of retrying until ResumeTimeout) and closes t.
func Reject(t Transport, h Hello) error {
	err := sendClose(t, CloseUnknownSession, "")
	if cerr := t.Close(); err == nil {
		err = cerr
	}
	return err
}

func sendClose(t Transport, code CloseCode, reason string) error {
	return t.Send(appendRecord(nil, &record{typ: typeClose, code: code, reason: reason}))
}

func checkWindow(w uint32) error {
	if w < minRecvBuffer || w > maxRecvBuffer {
		return fmt.Errorf("session: receive window %d out of range: %w", w, ErrProtocol)
	}
	return nil
}

// recvHandshake receives and decodes one record, closing t if ctx ends or
// timeout (if > 0) passes first.
func recvHandshake(ctx context.Context, t Transport, timeout time.Duration) (record, error) {
	if timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, timeout)
		defer cancel()
	}
	stop := context.AfterFunc(ctx, func() { t.Close() })
	b, err := t.Recv()
	if !stop() {
		return record{}, fmt.Errorf("session: handshake: %w", ctx.Err())
	}
	if err != nil {
		return record{}, fmt.Errorf("session: handshake: failed to receive: %w", err)
	}
	r, err := decodeRecord(b)
	if err != nil {
		return record{}, fmt.Errorf("session: handshake: %w", err)
	}
	if r.typ == typeClose {
		return record{}, fmt.Errorf("session: handshake: %w", &CloseError{Code: r.code, Reason: r.reason})
	}
	return r, nil
}

// sendHandshake sends one record, closing t if ctx ends first.
func sendHandshake(ctx context.Context, t Transport, r *record) error {
	stop := context.AfterFunc(ctx, func() { t.Close() })
	err := t.Send(appendRecord(nil, r))
	if !stop() {
		return fmt.Errorf("session: handshake: %w", ctx.Err())
	}
	if err != nil {
		return fmt.Errorf("session: handshake: failed to send: %w", err)
	}
	return nil
}

// errFatalHandshake marks handshake outcomes retrying cannot fix.
func fatalHandshake(err error) bool {
	var ce *CloseError
	return errors.As(err, &ce) || errors.Is(err, ErrProtocol)
}
