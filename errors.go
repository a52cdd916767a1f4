package cairn

import (
	"errors"
	"fmt"

	"github.com/cairn-dev/cairn/internal/pairproto"
	"github.com/cairn-dev/cairn/internal/session"
)

// Errors callers branch on. Each is wrapped with context; test with errors.Is.
var (
	// ErrWrongSecret: the PIN, QR code or link did not match the other side's.
	ErrWrongSecret = pairproto.ErrWrongSecret
	// ErrExpired: the pairing material expired before anyone used it.
	ErrExpired = errors.New("pairing expired")
	// ErrCanceled: the initiator withdrew the pairing material (Pairing.Cancel).
	ErrCanceled = errors.New("pairing canceled")
	// ErrTooManyAttempts: the PIN was invalidated after too many wrong guesses.
	ErrTooManyAttempts = errors.New("too many failed pairing attempts")
	// ErrPeerNotFound: no path to the peer (not on the LAN, not at the relay).
	ErrPeerNotFound = errors.New("peer not found")
	// ErrNoSuchPairing: no device is showing that PIN or code: it was
	// mistyped, has expired, or was used up. It wraps ErrPeerNotFound.
	ErrNoSuchPairing = fmt.Errorf("%w: no device is showing this code", ErrPeerNotFound)
	// ErrUnknownPeer: the peer is not in the trust store (never paired or unpaired).
	ErrUnknownPeer = errors.New("unknown peer")
	// ErrClosed: the node was closed.
	ErrClosed = errors.New("closed")
	// ErrSessionClosed: the session was closed, by this side or the peer.
	ErrSessionClosed = session.ErrClosed
	// ErrNoTransport: neither a relay nor LAN discovery is configured, so
	// there is no way to reach another device.
	ErrNoTransport = errors.New("no relay URL and LAN discovery disabled")
	// ErrSlotsExhausted: every fresh PIN tried collided with another pairing at the relay.
	ErrSlotsExhausted = errors.New("no free pairing slot at the relay")
	// ErrInvalidCode: a PIN, QR code or link that does not decode, was
	// altered, or is not cairn's.
	ErrInvalidCode = errors.New("invalid pairing code")
	// ErrProtocol: the peer broke the protocol.
	ErrProtocol = pairproto.ErrProtocol
	// ErrPeerGone: the peer disconnected before pairing completed.
	ErrPeerGone = pairproto.ErrPeerGone
)
