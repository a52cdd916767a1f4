// Package pairproto runs one pairing attempt on a connection: SPAKE2 with key
// confirmation, then a Noise XXpsk3 handshake keyed by the SPAKE2 result that
// exchanges the two identities, then a commit message.
//
// The responder (the side that typed the PIN, scanned the code or opened the
// link) dialled the connection and already sent its Hello. Messages, in order:
//
//	R -> I  PakeB    Y (33) || nonce_R (16)
//	I -> R  PakeA    X (33) || nonce_I (16) || HMAC(confirm_key, "initiator") (32)
//	R -> I  Confirm  HMAC(confirm_key, "responder") (32)
//	R <-> I Noise_XXpsk3 (R is the Noise initiator), psk = NoisePSK(session_key)
//	I -> R  Commit   (empty; sent after the initiator stored the peer)
//
// Either side may send a Reject instead of its next message.
package pairproto

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"net"
	"time"

	"github.com/cairn-dev/cairn/identity"
	"github.com/cairn-dev/cairn/internal/frame"
	"github.com/cairn-dev/cairn/internal/handshake"
	"github.com/cairn-dev/cairn/internal/pairing"
	"github.com/cairn-dev/cairn/internal/spake2"
	"github.com/cairn-dev/cairn/internal/wire"
)

const (
	nonceSize = 16
	macSize   = 32
	pakeSize  = 33

	// MaxNameLen bounds the display name a peer may send.
	MaxNameLen = 64

	// StepTimeout bounds each wait for the peer's next message, so a peer
	// that vanishes mid-pairing fails the attempt instead of hanging it.
	StepTimeout = 30 * time.Second
)

// Errors of a pairing attempt.
var (
	// ErrWrongSecret: key confirmation failed, so the two sides used
	// different PINs or codes (or an attacker guessed wrong).
	ErrWrongSecret = errors.New("wrong PIN or pairing code")
	// ErrProtocol: the peer sent something out of order or malformed.
	ErrProtocol = errors.New("pairing protocol error")
	// ErrPeerGone: the connection ended before pairing completed.
	ErrPeerGone = errors.New("peer disconnected during pairing")
)

// Config is what one side brings to an attempt.
type Config struct {
	Password []byte // the normalised PIN or the link/QR secret
	Identity *identity.Identity
	Name     string    // display name sent to the peer (may be empty)
	Rand     io.Reader // nil: crypto/rand
	// ExpectPeer, if set on the responder, is the initiator's PeerID taken from
	// a QR code or link; another identity fails the attempt.
	ExpectPeer identity.PeerID
}

// Outcome is an authenticated peer.
type Outcome struct {
	Peer          identity.PeerID
	PeerKey       ed25519.PublicKey
	PeerName      string
	PairingSecret [32]byte
}

// Commit stores an outcome. The initiator calls it before it tells the
// responder to store, so an error here leaves neither side half-paired.
type Commit func(*Outcome) error

// AttemptError is a failed initiator attempt. Spent reports whether the
// attempt got far enough to give the peer one guess at the secret, which is
// what counts against the PIN's attempt limit.
type AttemptError struct {
	Spent bool
	Err   error
}

func (e *AttemptError) Error() string { return e.Err.Error() }
func (e *AttemptError) Unwrap() error { return e.Err }

// Initiate runs the initiator's side on conn after the responder's Hello was
// read from r. It calls commit once the peer is authenticated.
func Initiate(ctx context.Context, conn net.Conn, r *frame.Reader, cfg Config, commit Commit) (*Outcome, error) {
	stop := bindContext(ctx, conn)
	defer stop()
	w := frame.NewWriter(conn)
	spent := false
	fail := func(err error) (*Outcome, error) {
		return nil, &AttemptError{Spent: spent, Err: contextError(ctx, err)}
	}

	body, err := expect(conn, r, frame.TypePakeB, pakeSize+nonceSize)
	if err != nil {
		return fail(err)
	}
	var nonceI, nonceR [nonceSize]byte
	copy(nonceR[:], body[pakeSize:])
	peerMsg := append([]byte(nil), body[:pakeSize]...)

	st, err := spake2.New(spake2.RoleA, cfg.Password, cfg.Rand)
	if err != nil {
		return fail(err)
	}
	if _, err := io.ReadFull(randOr(cfg.Rand), nonceI[:]); err != nil {
		return fail(err)
	}
	key, err := st.Finish(peerMsg)
	if err != nil {
		sendReject(w, wire.CodeProtocol)
		return fail(fmt.Errorf("%w: %w", ErrProtocol, err))
	}
	sessionKey := pairing.SessionKey(key, nonceI, nonceR)
	clear(key)
	defer clear(sessionKey[:])
	confirmKey := pairing.ConfirmKey(sessionKey)
	defer clear(confirmKey[:])
	mac := pairing.ConfirmMAC(confirmKey, pairing.RoleInitiator)

	msg := make([]byte, 0, pakeSize+nonceSize+macSize)
	msg = append(msg, st.Message()...)
	msg = append(msg, nonceI[:]...)
	msg = append(msg, mac[:]...)
	// From here the peer holds one guess at the secret.
	spent = true
	if err := w.WriteFrame(frame.TypePakeA, msg); err != nil {
		return fail(fmt.Errorf("%w: %w", ErrPeerGone, err))
	}
	body, err = expect(conn, r, frame.TypeConfirm, macSize)
	if err != nil {
		return fail(err)
	}
	if !pairing.VerifyConfirm(confirmKey, pairing.RoleResponder, body) {
		sendReject(w, wire.CodeWrongSecret)
		return fail(ErrWrongSecret)
	}

	psk, pk := pairing.NoisePSK(sessionKey), pairing.NoisePayloadKey(sessionKey)
	defer clear(psk[:])
	defer clear(pk[:])
	res, err := handshake.Responder(ctx, conn, handshake.Config{
		Identity:   cfg.Identity,
		PSK:        psk[:],
		PayloadKey: pk[:],
		Payload:    []byte(cfg.Name),
		Rand:       cfg.Rand,
		Reader:     r,
	})
	if err != nil {
		return fail(handshakeError(err))
	}
	out := outcome(res, sessionKey)
	if err := commit(out); err != nil {
		sendReject(w, wire.CodeProtocol)
		return fail(fmt.Errorf("failed to store the new peer: %w", err))
	}
	if err := w.WriteFrame(frame.TypeCommit, nil); err != nil {
		// The responder will not store us; report it so the caller can undo.
		return fail(fmt.Errorf("%w: %w", ErrPeerGone, err))
	}
	return out, nil
}

// Respond runs the responder's side on conn, which it dialled. It sends the
// Hello itself.
func Respond(ctx context.Context, conn net.Conn, slot string, cfg Config) (*Outcome, error) {
	stop := bindContext(ctx, conn)
	defer stop()
	fail := func(err error) (*Outcome, error) { return nil, contextError(ctx, err) }
	w := frame.NewWriter(conn)
	r := frame.NewReader(conn, frame.MaxFrameSize)

	hello, err := wire.Hello{Purpose: wire.PurposePair, Slot: slot}.Marshal()
	if err != nil {
		return fail(err)
	}
	st, err := spake2.New(spake2.RoleB, cfg.Password, cfg.Rand)
	if err != nil {
		return fail(err)
	}
	var nonceI, nonceR [nonceSize]byte
	if _, err := io.ReadFull(randOr(cfg.Rand), nonceR[:]); err != nil {
		return fail(err)
	}
	if err := w.WriteFrame(frame.TypeHello, hello); err != nil {
		return fail(fmt.Errorf("%w: %w", ErrPeerGone, err))
	}
	if err := w.WriteFrame(frame.TypePakeB, append(st.Message(), nonceR[:]...)); err != nil {
		return fail(fmt.Errorf("%w: %w", ErrPeerGone, err))
	}
	body, err := expect(conn, r, frame.TypePakeA, pakeSize+nonceSize+macSize)
	if err != nil {
		return fail(err)
	}
	copy(nonceI[:], body[pakeSize:])
	peerMAC := append([]byte(nil), body[pakeSize+nonceSize:]...)
	key, err := st.Finish(body[:pakeSize])
	if err != nil {
		sendReject(w, wire.CodeProtocol)
		return fail(fmt.Errorf("%w: %w", ErrProtocol, err))
	}
	sessionKey := pairing.SessionKey(key, nonceI, nonceR)
	clear(key)
	defer clear(sessionKey[:])
	confirmKey := pairing.ConfirmKey(sessionKey)
	defer clear(confirmKey[:])
	if !pairing.VerifyConfirm(confirmKey, pairing.RoleInitiator, peerMAC) {
		sendReject(w, wire.CodeWrongSecret)
		return fail(ErrWrongSecret)
	}
	mac := pairing.ConfirmMAC(confirmKey, pairing.RoleResponder)
	if err := w.WriteFrame(frame.TypeConfirm, mac[:]); err != nil {
		return fail(fmt.Errorf("%w: %w", ErrPeerGone, err))
	}

	psk, pk := pairing.NoisePSK(sessionKey), pairing.NoisePayloadKey(sessionKey)
	defer clear(psk[:])
	defer clear(pk[:])
	res, err := handshake.Initiator(ctx, conn, handshake.Config{
		Identity:     cfg.Identity,
		PSK:          psk[:],
		PayloadKey:   pk[:],
		ExpectedPeer: cfg.ExpectPeer,
		Payload:      []byte(cfg.Name),
		Rand:         cfg.Rand,
		Reader:       r,
	})
	if err != nil {
		return fail(handshakeError(err))
	}
	if _, err := expect(conn, r, frame.TypeCommit, 0); err != nil {
		return fail(err)
	}
	return outcome(res, sessionKey), nil
}

func outcome(res *handshake.Result, sessionKey [32]byte) *Outcome {
	name := string(res.PeerPayload)
	if len(name) > MaxNameLen {
		name = name[:MaxNameLen]
	}
	return &Outcome{
		Peer:          res.PeerID,
		PeerKey:       res.PeerKey,
		PeerName:      sanitizeName(name),
		PairingSecret: pairing.PairingSecret(sessionKey[:], res.HandshakeHash),
	}
}

// sanitizeName keeps printable characters only: a name is shown on screens.
func sanitizeName(s string) string {
	out := make([]rune, 0, len(s))
	for _, r := range s {
		if r >= 0x20 && r != 0x7f && r != 0xfffd {
			out = append(out, r)
		}
	}
	return string(out)
}

// handshakeError maps a Noise failure after a successful key confirmation. A
// decrypt failure here means the psk differed, which key confirmation rules
// out for honest peers, so it is reported as a protocol error.
// A handshake that fails on I/O (the peer or the relay went away) is
// ErrPeerGone; context errors pass through.
func handshakeError(err error) error {
	switch {
	case errors.Is(err, handshake.ErrPeerMismatch):
		return err
	case handshake.IsPeerFault(err), errors.Is(err, handshake.ErrConfig):
		return fmt.Errorf("%w: %w", ErrProtocol, err)
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return err
	}
	return fmt.Errorf("%w: %w", ErrPeerGone, err)
}

// expect reads the next frame, which must have type t and exactly size bytes.
// A Reject from the peer becomes the matching error.
func expect(conn net.Conn, r *frame.Reader, t frame.Type, size int) ([]byte, error) {
	_ = conn.SetReadDeadline(time.Now().Add(StepTimeout))
	typ, body, err := r.ReadFrame()
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrPeerGone, err)
	}
	if typ == frame.TypeReject {
		rej, err := wire.ParseReject(body)
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrProtocol, err)
		}
		if rej.Code == wire.CodeWrongSecret {
			return nil, fmt.Errorf("%w: %w", ErrWrongSecret, rej)
		}
		return nil, rej
	}
	if typ != t || len(body) != size {
		return nil, fmt.Errorf("%w: got frame type %d of %d bytes, want type %d of %d", ErrProtocol, typ, len(body), t, size)
	}
	return body, nil
}

func sendReject(w *frame.Writer, c wire.Code) {
	_ = w.WriteFrame(frame.TypeReject, wire.MarshalReject(c))
}

// SendReject turns a connection away with a reason, best effort.
func SendReject(conn net.Conn, c wire.Code) {
	_ = conn.SetWriteDeadline(time.Now().Add(time.Second))
	sendReject(frame.NewWriter(conn), c)
}

func randOr(r io.Reader) io.Reader {
	if r == nil {
		return rand.Reader
	}
	return r
}

// bindContext closes conn's pending I/O when ctx ends; the returned func
// stops watching and clears the deadline (after the watcher, if it fired, so
// it cannot set its deadline again afterwards).
func bindContext(ctx context.Context, conn net.Conn) func() {
	fired := make(chan struct{})
	stop := context.AfterFunc(ctx, func() {
		defer close(fired)
		_ = conn.SetDeadline(time.Unix(1, 0))
	})
	return func() {
		if !stop() {
			<-fired
		}
		_ = conn.SetDeadline(time.Time{})
	}
}

func contextError(ctx context.Context, err error) error {
	if ctx.Err() != nil && !errors.Is(err, ctx.Err()) {
		return fmt.Errorf("%w (%w)", context.Cause(ctx), err)
	}
	return err
}
