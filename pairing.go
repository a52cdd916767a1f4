package cairn

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"time"

	"github.com/cairn-dev/cairn/identity"
	"github.com/cairn-dev/cairn/internal/frame"
	"github.com/cairn-dev/cairn/internal/pairing"
	"github.com/cairn-dev/cairn/internal/pairproto"
	"github.com/cairn-dev/cairn/internal/wire"
	"github.com/cairn-dev/cairn/relay"
	"github.com/cairn-dev/cairn/store"
)

const (
	// pinSlotTries bounds how many fresh PINs are drawn when the relay says a
	// PIN's public slot is taken by someone else's pairing.
	pinSlotTries = 16
	// pinSlotPrefix and linkSlotPrefix name pairing slots at the relay, in a
	// Hello and in mDNS adverts.
	pinSlotPrefix  = "pin-"
	linkSlotPrefix = "pair-"
)

// PairingResult describes a completed pairing.
type PairingResult struct {
	Peer PeerID
	Name string // the display name the peer sent, if any
	SAS  SAS    // optional verification codes, equal on both devices
}

// SAS is the short authentication string both devices can show, so people
// who want to can check they paired with each other.
type SAS struct {
	Numeric string   // 6 digits
	Emoji   []string // 4 names from the cairn emoji table
}

func sasOf(secret [32]byte) SAS {
	return SAS{Numeric: pairing.SASNumeric(secret), Emoji: pairing.SASEmoji(secret)}
}

// Pairing is the initiator's handle on pairing material it shows: a PIN, a QR
// code or a link. Wait blocks until a responder has paired.
type Pairing struct {
	in *initiator
}

// Wait returns the responder's PeerID once pairing completes, or an error:
// ErrExpired, ErrCanceled, ErrTooManyAttempts, ErrClosed, or the context's
// error.
func (p *Pairing) Wait(ctx context.Context) (PeerID, error) {
	res, err := p.Result(ctx)
	if err != nil {
		return PeerID{}, err
	}
	return res.Peer, nil
}

// Result is Wait with the peer's name and the SAS.
func (p *Pairing) Result(ctx context.Context) (*PairingResult, error) {
	select {
	case <-p.in.done:
		return p.in.result, p.in.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// Cancel withdraws the pairing material; Wait then returns ErrCanceled, and a
// responder that tries the material finds nobody showing it.
func (p *Pairing) Cancel() { p.in.finish(nil, ErrCanceled) }

// Expires returns when the material stops being valid.
func (p *Pairing) Expires() time.Time { return p.in.expires }

// PinPairing is a pairing by PIN.
type PinPairing struct {
	Pairing
	Pin string // "XXXX-XXXX", to show to the user
}

// LinkPairing is a pairing by cairn:// link.
type LinkPairing struct {
	Pairing
	URI string
}

// QRPairing is a pairing by QR code.
type QRPairing struct {
	Pairing
	Data string // the text to render as a QR code
}

// initiator is one pending pairing on the side that shows the material.
type initiator struct {
	n       *Node
	slot    string
	expires time.Time

	ctx    context.Context
	cancel context.CancelFunc

	attemptMu sync.Mutex // one attempt at a time
	mu        sync.Mutex
	failures  int    // guarded by mu
	password  []byte // guarded by mu; wiped (nil) once the pairing ended

	once   sync.Once
	done   chan struct{}
	result *PairingResult
	err    error
}

// PairGeneratePin creates a PIN for another device to enter, and waits for it
// in the background. Show p.Pin to the user, then call p.Wait.
func (n *Node) PairGeneratePin(ctx context.Context) (*PinPairing, error) {
	if err := n.checkReachable(); err != nil {
		return nil, err
	}
	for range pinSlotTries {
		pin, err := pairing.GeneratePIN(n.cfg.randOr())
		if err != nil {
			return nil, fmt.Errorf("failed to generate a PIN: %w", err)
		}
		in, err := n.startInitiator(ctx, pin.Password(), pinSlotPrefix+pin.Slot())
		if errors.Is(err, errSlotTaken) {
			continue
		}
		if err != nil {
			return nil, err
		}
		return &PinPairing{Pairing: Pairing{in}, Pin: pin.String()}, nil
	}
	return nil, ErrSlotsExhausted
}

// PairGenerateLink creates a cairn:// link for another device to open. Its
// 128-bit secret is in the fragment, which link previews and logs do not see.
func (n *Node) PairGenerateLink(ctx context.Context) (*LinkPairing, error) {
	p, in, err := n.startPayloadPairing(ctx)
	if err != nil {
		return nil, err
	}
	uri, err := p.Link()
	if err != nil {
		in.finish(nil, err)
		return nil, err
	}
	return &LinkPairing{Pairing: Pairing{in}, URI: uri}, nil
}

// PairGenerateQR creates QR code data for another device to scan.
func (n *Node) PairGenerateQR(ctx context.Context) (*QRPairing, error) {
	p, in, err := n.startPayloadPairing(ctx)
	if err != nil {
		return nil, err
	}
	data, err := p.QRData()
	if err != nil {
		in.finish(nil, err)
		return nil, err
	}
	return &QRPairing{Pairing: Pairing{in}, Data: data}, nil
}

func (n *Node) startPayloadPairing(ctx context.Context) (*pairing.Payload, *initiator, error) {
	if err := n.checkReachable(); err != nil {
		return nil, nil, err
	}
	p := &pairing.Payload{PeerID: n.PeerID().Array(), RelayURL: n.cfg.relayURL, Addrs: n.directAddrs()}
	if _, err := io.ReadFull(n.cfg.randOr(), p.Secret[:]); err != nil {
		return nil, nil, err
	}
	if _, err := io.ReadFull(n.cfg.randOr(), p.Slot[:]); err != nil {
		return nil, nil, err
	}
	in, err := n.startInitiator(ctx, p.Secret[:], linkSlotName(p.Slot))
	if err != nil {
		return nil, nil, err
	}
	p.Expires = in.expires
	return p, in, nil
}

func linkSlotName(slot [16]byte) string { return linkSlotPrefix + hex.EncodeToString(slot[:]) }

// PairEnterPin pairs with the device showing pin and returns its PeerID.
func (n *Node) PairEnterPin(ctx context.Context, pin string) (PeerID, error) {
	p, err := pairing.ParsePIN(pin)
	if err != nil {
		return PeerID{}, fmt.Errorf("%w: %w", ErrInvalidCode, err)
	}
	res, err := n.respond(ctx, p.Password(), pinSlotPrefix+p.Slot(), nil, PeerID{})
	if err != nil {
		return PeerID{}, err
	}
	return res.Peer, nil
}

// PairFromLink pairs with the device that made the cairn:// link uri.
func (n *Node) PairFromLink(ctx context.Context, uri string) (PeerID, error) {
	p, err := pairing.ParseLink(uri, time.Now())
	if err != nil {
		return PeerID{}, payloadError(err)
	}
	return n.respondPayload(ctx, p)
}

// PairScanQR pairs with the device whose QR code held data.
func (n *Node) PairScanQR(ctx context.Context, data string) (PeerID, error) {
	p, err := pairing.ParseQRData(data, time.Now())
	if err != nil {
		return PeerID{}, payloadError(err)
	}
	return n.respondPayload(ctx, p)
}

// payloadError classifies why a QR code or link was refused.
func payloadError(err error) error {
	if errors.Is(err, pairing.ErrExpired) {
		return fmt.Errorf("%w: %w", ErrExpired, err)
	}
	return fmt.Errorf("%w: %w", ErrInvalidCode, err)
}

func (n *Node) respondPayload(ctx context.Context, p *pairing.Payload) (PeerID, error) {
	peer, err := identity.PeerIDFromBytes(p.PeerID[:])
	if err != nil {
		return PeerID{}, err
	}
	if peer == n.PeerID() {
		return PeerID{}, fmt.Errorf("%w: the code was made by this node", ErrProtocol)
	}
	hints := &dialHints{addrs: p.Addrs, relayURL: p.RelayURL}
	res, err := n.respond(ctx, p.Secret[:], linkSlotName(p.Slot), hints, peer)
	if err != nil {
		return PeerID{}, err
	}
	return res.Peer, nil
}

// SAS returns the verification codes of a paired peer; both devices show
// the same ones.
func (n *Node) SAS(peer PeerID) (SAS, error) {
	p, err := n.peer(peer)
	if err != nil {
		return SAS{}, err
	}
	return sasOf(p.PairingSecret), nil
}

func (n *Node) respond(ctx context.Context, password []byte, slot string, hints *dialHints, expect PeerID) (*PairingResult, error) {
	conn, path, err := n.dialPairing(ctx, slot, hints)
	if err != nil {
		if errors.Is(err, ErrPeerNotFound) && errors.Is(err, relay.ErrNoSuchSlot) {
			return nil, fmt.Errorf("%w: %w", ErrNoSuchPairing, err)
		}
		return nil, err
	}
	defer conn.Close()
	out, err := pairproto.Respond(ctx, conn, slot, pairproto.Config{
		Password:   password,
		Identity:   n.id,
		Name:       n.cfg.name,
		Rand:       n.cfg.rand,
		ExpectPeer: expect,
	})
	if err != nil {
		err = mapRejection(err)
		n.emit(Event{Kind: EventPairingFailed, Err: err})
		return nil, fmt.Errorf("pairing failed: %w", err)
	}
	if err := n.storePeer(out); err != nil {
		return nil, err
	}
	n.log.Info("paired", "peer", out.Peer.Short(), "path", path, "role", "responder")
	n.emit(Event{Kind: EventPaired, Peer: out.Peer})
	return &PairingResult{Peer: out.Peer, Name: out.PeerName, SAS: sasOf(out.PairingSecret)}, nil
}

// mapRejection turns an initiator's Reject into the node's error.
func mapRejection(err error) error {
	var rej *wire.RejectError
	if !errors.As(err, &rej) {
		return err
	}
	switch rej.Code {
	case wire.CodeExpired, wire.CodeUnknownSlot:
		return fmt.Errorf("%w: %w", ErrExpired, err)
	case wire.CodeTooManyAttempts:
		return fmt.Errorf("%w: %w", ErrTooManyAttempts, err)
	}
	return err
}

func (n *Node) storePeer(out *pairproto.Outcome) error {
	now := time.Now()
	err := n.store.PutPeer(store.Peer{
		ID:            out.Peer,
		PublicKey:     out.PeerKey,
		Name:          out.PeerName,
		PairingSecret: out.PairingSecret,
		PairedAt:      now,
		LastSeen:      now,
	})
	if err != nil {
		return fmt.Errorf("failed to store the new peer: %w", err)
	}
	n.refreshAcceptors()
	return nil
}

func (n *Node) checkReachable() error {
	if n.ctx.Err() != nil {
		return ErrClosed
	}
	return nil
}

// startInitiator registers a pending pairing under slot: with the relay (if
// any), in mDNS (if enabled), and for direct connections.
func (n *Node) startInitiator(ctx context.Context, password []byte, slot string) (*initiator, error) {
	n.pairings.Lock()
	if _, taken := n.pairings.bySlot[slot]; taken || n.spentLocked(slot) {
		n.pairings.Unlock()
		return nil, errSlotTaken
	}
	ictx, cancel := context.WithCancel(n.ctx)
	in := &initiator{
		n:        n,
		password: append([]byte(nil), password...),
		slot:     slot,
		expires:  time.Now().Add(n.cfg.pairingTTL),
		ctx:      ictx,
		cancel:   cancel,
		done:     make(chan struct{}),
	}
	n.pairings.bySlot[slot] = in
	n.pairings.Unlock()

	if err := in.startReachability(ctx); err != nil {
		in.finish(nil, err)
		return nil, err
	}
	if !n.goRun(in.runExpiry) {
		in.finish(nil, ErrClosed)
		return nil, ErrClosed
	}
	return in, nil
}

func (in *initiator) runExpiry() {
	t := time.NewTimer(time.Until(in.expires))
	defer t.Stop()
	select {
	case <-t.C:
		in.finish(nil, ErrExpired)
	case <-in.ctx.Done():
		in.finish(nil, ErrClosed) // no-op if already finished
	}
}

// finish ends the pairing once; later calls do nothing.
func (in *initiator) finish(res *PairingResult, err error) {
	in.once.Do(func() {
		in.result, in.err = res, err
		in.cancel()
		in.mu.Lock()
		clear(in.password)
		in.password = nil
		in.mu.Unlock()
		in.n.pairings.Lock()
		if in.n.pairings.bySlot[in.slot] == in {
			delete(in.n.pairings.bySlot, in.slot)
		}
		in.n.pairings.Unlock()
		close(in.done)
	})
}

// attempt runs one responder's attempt on conn; r has consumed its Hello.
func (in *initiator) attempt(conn net.Conn, r *frame.Reader, path string) {
	defer conn.Close()
	if !in.attemptMu.TryLock() {
		pairproto.SendReject(conn, wire.CodeBusy)
		return
	}
	defer in.attemptMu.Unlock()
	// The attempt works on its own copy of the password: finish may wipe
	// the pairing's at any moment.
	in.mu.Lock()
	password := bytes.Clone(in.password)
	in.mu.Unlock()
	defer clear(password)
	if password == nil || in.ctx.Err() != nil {
		pairproto.SendReject(conn, wire.CodeExpired)
		return
	}
	n := in.n
	var (
		stored   *pairproto.Outcome
		previous *store.Peer // the entry a re-pairing replaced
	)
	out, err := pairproto.Initiate(in.ctx, conn, r, pairproto.Config{
		Password: password,
		Identity: n.id,
		Name:     n.cfg.name,
		Rand:     n.cfg.rand,
	}, func(o *pairproto.Outcome) error {
		if o.Peer == n.PeerID() {
			return fmt.Errorf("%w: paired with itself", ErrProtocol)
		}
		if p, err := n.store.Peer(o.Peer); err == nil {
			previous = &p
		}
		if err := n.storePeer(o); err != nil {
			return err
		}
		stored = o
		return nil
	})
	if err != nil {
		if stored != nil {
			// The responder never got our commit: undo, so neither side
			// keeps a half pairing. A re-pairing restores the entry it
			// replaced, which the responder still holds.
			if previous != nil {
				_ = n.store.PutPeer(*previous)
			} else {
				_ = n.store.DeletePeer(stored.Peer)
			}
			n.refreshAcceptors()
		}
		var ae *pairproto.AttemptError
		spent := errors.As(err, &ae) && ae.Spent
		n.log.Info("pairing attempt failed", "path", path, "spent", spent, "err", err)
		n.emit(Event{Kind: EventPairingFailed, Err: err})
		if spent {
			in.mu.Lock()
			in.failures++
			tooMany := in.failures >= MaxPairingFailures
			in.mu.Unlock()
			if tooMany {
				in.finish(nil, ErrTooManyAttempts)
				n.startTombstone(in.slot, in.expires)
			}
		}
		return
	}
	n.log.Info("paired", "peer", out.Peer.Short(), "path", path, "role", "initiator")
	n.emit(Event{Kind: EventPaired, Peer: out.Peer})
	in.finish(&PairingResult{Peer: out.Peer, Name: out.PeerName, SAS: sasOf(out.PairingSecret)}, nil)
}

func (c *config) randOr() io.Reader {
	if c.rand == nil {
		return rand.Reader
	}
	return c.rand
}

// startTombstone keeps answering a PIN that was used up by too many wrong
// guesses, until it would have expired: later attempts get a Reject saying
// so (ErrTooManyAttempts) instead of finding nothing, and the slot is not
// reused for a new PIN meanwhile.
func (n *Node) startTombstone(slot string, until time.Time) {
	n.pairings.Lock()
	now := time.Now()
	for s, t := range n.pairings.spent { // forget the ones past their time
		if now.After(t) {
			delete(n.pairings.spent, s)
		}
	}
	n.pairings.spent[slot] = until
	n.pairings.Unlock()
	if n.cfg.relayURL == "" {
		return
	}
	ctx, cancel := context.WithDeadline(n.ctx, until)
	if !n.goRun(func() {
		defer cancel()
		n.hostLoop(ctx, slot, nil, func(conn net.Conn, _ *frame.Reader, typ frame.Type, _ []byte) {
			if typ == frame.TypeHello {
				pairproto.SendReject(conn, wire.CodeTooManyAttempts)
			}
			conn.Close()
		})
	}) {
		cancel()
	}
}

// spentSlot reports whether slot names a used-up PIN.
func (n *Node) spentSlot(slot string) bool {
	n.pairings.Lock()
	defer n.pairings.Unlock()
	return n.spentLocked(slot)
}

// spentLocked is spentSlot for a caller holding n.pairings.
func (n *Node) spentLocked(slot string) bool {
	until, ok := n.pairings.spent[slot]
	return ok && time.Now().Before(until)
}
