package cairn

import (
	"context"
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/sha256"
	"errors"
	"fmt"
	"net"
	"slices"
	"sync"
	"time"

	"github.com/cairn-dev/cairn/internal/frame"
	"github.com/cairn-dev/cairn/internal/handshake"
	"github.com/cairn-dev/cairn/internal/pairproto"
	"github.com/cairn-dev/cairn/internal/securelink"
	"github.com/cairn-dev/cairn/internal/session"
	"github.com/cairn-dev/cairn/internal/wire"
	"github.com/cairn-dev/cairn/store"
)

// sessionPrologue binds session handshakes to their purpose, so a Noise
// message from one kind of connection is useless in another.
var (
	sessionPrologue = []byte("cairn-session-v1")
	unpairPrologue  = []byte("cairn-unpair-v1")
)

const (
	// handshakeTimeout bounds the Noise handshake of an incoming connection.
	handshakeTimeout = 15 * time.Second
	// acceptQueueSize bounds the new sessions waiting for Accept; past it
	// new sessions are refused rather than held without bound.
	acceptQueueSize = 16
	// unpairNoticeTimeout bounds the best-effort notice Unpair sends.
	unpairNoticeTimeout = 5 * time.Second
)

// Channel is a named, ordered, flow-controlled stream of messages inside a
// Session. Use Send/Receive for messages or Read/Write as an
// io.ReadWriteCloser for bulk data; CloseWrite ends this side's direction.
type Channel = session.Channel

// Session errors, for errors.Is.
var (
	// ErrSessionFailed: the session could not resume within the resume
	// timeout; messages not acknowledged by the peer were not delivered.
	ErrSessionFailed = session.ErrSessionFailed
	// ErrChannelClosed: the channel (or this direction of it) was closed.
	ErrChannelClosed = session.ErrChannelClosed
	// ErrMessageTooLarge: Send was given more than MaxMessage bytes.
	ErrMessageTooLarge = session.ErrMessageTooLarge
)

// MaxMessage is the largest message Channel.Send accepts.
const MaxMessage = session.MaxMessage

// Session is an encrypted, resumable connection to one paired peer. It
// carries any number of named channels. When its connection drops, the
// dialing side reconnects over any path and the session resumes: every
// message accepted by Send is delivered exactly once, in order, or the
// session fails with ErrSessionFailed.
type Session struct {
	n    *Node
	peer PeerID
	name string
	s    *session.Session
	// addrs are the direct addresses a dialer's session redials (ConnectAddr).
	addrs []string
}

// Peer returns the PeerID of the other side.
func (s *Session) Peer() PeerID { return s.peer }

// PeerName returns the peer's display name from the trust store.
func (s *Session) PeerName() string { return s.name }

// OpenChannel opens a channel; the peer gets it from AcceptChannel.
func (s *Session) OpenChannel(ctx context.Context, name string) (*Channel, error) {
	return s.s.OpenChannel(ctx, name)
}

// AcceptChannel returns the next channel the peer opened.
func (s *Session) AcceptChannel(ctx context.Context) (*Channel, error) {
	return s.s.AcceptChannel(ctx)
}

// Flush waits until the peer has acknowledged everything sent so far.
func (s *Session) Flush(ctx context.Context) error { return s.s.Flush(ctx) }

// Done is closed when the session has ended; Err then says why.
func (s *Session) Done() <-chan struct{} { return s.s.Done() }

// Err returns why the session ended, or nil while it runs and after Close.
func (s *Session) Err() error { return s.s.Err() }

// Close ends the session and tells the peer.
func (s *Session) Close() error { return s.s.Close() }

// sessionKey names an acceptor-side session for resumes: the authenticated
// peer and the id the dialer chose, so one peer can never attach to
// another's session.
type sessionKey struct {
	peer PeerID
	id   session.ID
}

// sessionTable holds the node's live sessions and the queue for Accept.
type sessionTable struct {
	mu       sync.Mutex
	all      map[*Session]struct{}
	accepted map[sessionKey]*Session
	incoming chan *Session
	restored []*Session // restored by New, for Accept before incoming
	closed   bool
}

func (t *sessionTable) init() {
	t.all = make(map[*Session]struct{})
	t.accepted = make(map[sessionKey]*Session)
	t.incoming = make(chan *Session, acceptQueueSize)
}

// add registers s; it fails once the node is closing.
func (t *sessionTable) add(s *Session, key *sessionKey) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		return false
	}
	t.all[s] = struct{}{}
	if key != nil {
		t.accepted[*key] = s
	}
	return true
}

func (t *sessionTable) remove(s *Session) {
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.all, s)
	for k, v := range t.accepted {
		if v == s {
			delete(t.accepted, k)
		}
	}
}

func (t *sessionTable) lookup(k sessionKey) *Session {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.accepted[k]
}

// ofPeer returns the live sessions with peer.
func (t *sessionTable) ofPeer(peer PeerID) []*Session {
	t.mu.Lock()
	defer t.mu.Unlock()
	var out []*Session
	for s := range t.all {
		if s.peer == peer {
			out = append(out, s)
		}
	}
	return out
}

// refuseNew makes add fail from now on and returns the live sessions.
func (t *sessionTable) refuseNew() []*Session {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.closed = true
	all := make([]*Session, 0, len(t.all))
	for s := range t.all {
		all = append(all, s)
	}
	return all
}

// closeAll closes every session and refuses new ones.
func (t *sessionTable) closeAll() {
	for _, s := range t.refuseNew() {
		s.s.Close()
	}
	for {
		select {
		case s := <-t.incoming:
			s.s.Close()
		default:
			return
		}
	}
}

// Per-session limits. 4 MiB of flow-control credit per channel keeps a bulk
// stream from stalling on credit (1.6x the throughput of 1 MiB on loopback,
// docs/BENCHMARKS.md), and at most 64 channels keep the unread data a peer
// can make this node hold at 256 MiB per session.
const (
	channelRecvBuffer = 4 << 20
	// MaxChannels is how many channels a session may have open at once.
	MaxChannels = 64
)

func (n *Node) sessionConfig(role session.Role, redial func(context.Context) (session.Transport, error)) session.Config {
	return session.Config{
		Role:              role,
		Redial:            redial,
		HeartbeatInterval: n.cfg.heartbeat,
		DeadAfter:         n.cfg.deadAfter,
		ResumeTimeout:     n.cfg.resumeAfter,
		RecvBuffer:        channelRecvBuffer,
		MaxChannels:       MaxChannels,
		Logger:            n.log,
	}
}

// peer returns the trust entry of id, or ErrUnknownPeer.
func (n *Node) peer(id PeerID) (store.Peer, error) {
	p, err := n.store.Peer(id)
	if errors.Is(err, store.ErrUnknownPeer) {
		return p, fmt.Errorf("%w: %s", ErrUnknownPeer, id.Short())
	}
	return p, err
}

// Connect opens a session with a paired peer, on the LAN or through the
// relay, whichever answers first (direct paths get a head start). It fails
// with ErrUnknownPeer for a peer that is not paired and ErrPeerNotFound when
// no path reaches it.
func (n *Node) Connect(ctx context.Context, peer PeerID) (*Session, error) {
	return n.connect(ctx, peer, nil)
}

// ConnectAddr is Connect with known direct addresses ("host:port") of the
// peer, tried first, for networks without multicast. Reconnects try them
// again alongside the other paths.
func (n *Node) ConnectAddr(ctx context.Context, peer PeerID, addrs ...string) (*Session, error) {
	return n.connect(ctx, peer, addrs)
}

func (n *Node) connect(ctx context.Context, peer PeerID, addrs []string) (*Session, error) {
	if n.ctx.Err() != nil {
		return nil, ErrClosed
	}
	p, err := n.peer(peer)
	if err != nil {
		return nil, err
	}
	link, path, err := n.dialPeer(ctx, p, wire.PurposeSession, addrs)
	if err != nil {
		return nil, err
	}
	redial := func(ctx context.Context) (session.Transport, error) {
		link, path, err := n.dialPeer(ctx, p, wire.PurposeSession, addrs)
		if err == nil {
			n.log.Debug("session path re-established", "peer", p.ID.Short(), "path", path)
		}
		return link, err
	}
	inner, err := session.New(ctx, link, n.sessionConfig(session.Dialer, redial))
	if err != nil {
		return nil, fmt.Errorf("failed to start a session with %s: %w", p.ID.Short(), mapSessionRefusal(err))
	}
	s := &Session{n: n, peer: p.ID, name: p.Name, s: inner, addrs: addrs}
	if err := n.addSession(s, nil); err != nil {
		return nil, err
	}
	n.log.Info("session connected", "peer", p.ID.Short(), "path", path, "role", "dialer")
	if !n.goRun(func() { n.watchSession(s) }) {
		inner.Close()
		return nil, ErrClosed
	}
	return s, nil
}

// handshakeFailure classifies a failed session handshake: a refusal by the
// peer, an identity that is not the pinned one (handshake.ErrPeerMismatch,
// kept as is), or a path that broke, which is ErrPeerNotFound like any
// other path that did not lead to the peer.
func handshakeFailure(err error) error {
	var rej *wire.RejectError
	switch {
	case errors.As(err, &rej), errors.Is(err, handshake.ErrPeerMismatch),
		errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return mapSessionRefusal(err)
	case handshake.IsPeerFault(err):
		return fmt.Errorf("%w: %w", ErrProtocol, err)
	}
	return fmt.Errorf("%w: the connection broke during the handshake: %w", ErrPeerNotFound, err)
}

// mapSessionRefusal turns the acceptor's Reject into the node's errors.
func mapSessionRefusal(err error) error {
	var rej *wire.RejectError
	if errors.As(err, &rej) && (rej.Code == wire.CodeUnknownPeer || rej.Code == wire.CodeUnpaired) {
		return fmt.Errorf("%w: the peer does not know us: %w", ErrUnknownPeer, err)
	}
	return err
}

// Accept returns the next session a paired peer opened with this node.
func (n *Node) Accept(ctx context.Context) (*Session, error) {
	if n.ctx.Err() != nil {
		return nil, ErrClosed
	}
	if s := n.sessions.popRestored(); s != nil {
		return s, nil
	}
	select {
	case s := <-n.sessions.incoming:
		if n.ctx.Err() != nil { // the select may pick this over a closed node
			s.Close()
			return nil, ErrClosed
		}
		return s, nil
	case <-n.ctx.Done():
		return nil, ErrClosed
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// watchSession forwards a session's events to the node's and forgets the
// session when it ends.
func (n *Node) watchSession(s *Session) {
	defer n.sessions.remove(s)
	for ev := range s.s.Events() {
		e := Event{Peer: s.peer, Err: ev.Err, Time: ev.Time}
		switch ev.Kind {
		case session.EventConnected:
			e.Kind = EventConnected
			_ = n.store.TouchPeer(s.peer, ev.Time)
		case session.EventDisconnected:
			e.Kind = EventDisconnected
		case session.EventResumed:
			e.Kind = EventResumed
			_ = n.store.TouchPeer(s.peer, ev.Time)
		case session.EventClosed:
			e.Kind = EventSessionClosed
		default:
			continue
		}
		n.emit(e)
	}
}

// dialPeer finds a paired peer, sends a Hello for purpose and runs the
// Noise XX handshake with the peer's key pinned, then starts the ratchet.
// Each path (direct, LAN, relay) connects and runs the handshake on its own,
// and the first to authenticate the peer wins: a host that copied the
// peer's LAN advert, or a stale address, fails its handshake and leaves the
// race to the other paths instead of ending it.
func (n *Node) dialPeer(ctx context.Context, p store.Peer, purpose wire.Purpose, addrs []string) (*securelink.Link, string, error) {
	tags := peerTags(p.PairingSecret, p.ID, time.Now())
	dialers := map[string]func(context.Context) (net.Conn, error){}
	secured := func(dial func(context.Context) (*taggedConn, error)) func(context.Context) (net.Conn, error) {
		return func(ctx context.Context) (net.Conn, error) {
			conn, err := dial(ctx)
			if err != nil {
				return nil, err
			}
			link, err := n.secureDial(ctx, conn, p, purpose, conn.tag)
			if err != nil {
				return nil, err
			}
			return &linkConn{Conn: conn, link: link}, nil
		}
	}
	direct := false
	if len(addrs) > 0 {
		direct = true
		dialers["direct"] = secured(func(ctx context.Context) (*taggedConn, error) {
			conn, err := dialFirst(ctx, addrs)
			if err != nil {
				return nil, err
			}
			return &taggedConn{Conn: conn, tag: tags[0]}, nil
		})
	}
	if n.cfg.mdns {
		direct = true
		dialers["lan"] = secured(func(ctx context.Context) (*taggedConn, error) {
			var found string
			conn, err := n.dialMDNS(ctx, sessionService, func(txt map[string]string) bool {
				found = matchTag(txt, tags)
				return found != ""
			})
			if err != nil {
				return nil, err
			}
			return &taggedConn{Conn: conn, tag: found}, nil
		})
	}
	if n.cfg.relayURL != "" {
		dialers["relay"] = secured(func(ctx context.Context) (*taggedConn, error) {
			if direct && !sleepCtx(ctx, relayHeadStart) {
				return nil, ctx.Err()
			}
			return joinTags(ctx, n.cfg.relayURL, tags)
		})
	}
	conn, path, err := n.race(ctx, dialers)
	if err != nil {
		return nil, "", fmt.Errorf("failed to reach %s: %w", p.ID.Short(), err)
	}
	return conn.(*linkConn).link, path, nil
}

// linkConn carries a dialled path's secured link through race; closing it
// (a path that lost the race) closes the link and destroys its keys.
type linkConn struct {
	net.Conn
	link *securelink.Link
}

func (c *linkConn) Close() error { return c.link.Close() }

// secureDial runs the dialer's side of Hello + Noise XX on conn.
func (n *Node) secureDial(ctx context.Context, conn net.Conn, p store.Peer, purpose wire.Purpose, tag string) (*securelink.Link, error) {
	hello, err := wire.Hello{Purpose: purpose, Slot: tag}.Marshal()
	if err != nil {
		conn.Close()
		return nil, err
	}
	if err := frame.NewWriter(conn).WriteFrame(frame.TypeHello, hello); err != nil {
		conn.Close()
		return nil, fmt.Errorf("failed to greet %s: %w", p.ID.Short(), err)
	}
	r := frame.NewReader(conn, frame.MaxFrameSize)
	// Bounded like the acceptor's side: a host that accepts and then stays
	// silent must not hold a Connect with a context that never ends.
	ctx, cancel := context.WithTimeout(ctx, handshakeTimeout)
	defer cancel()
	cfg := n.pairedHandshake(p, purpose, r)
	defer clear(cfg.PayloadKey)
	res, err := handshake.Initiator(ctx, conn, cfg)
	if err != nil {
		conn.Close()
		return nil, fmt.Errorf("handshake with %s failed: %w", p.ID.Short(), handshakeFailure(err))
	}
	defer res.Destroy()
	link, err := securelink.New(conn, r, res, true, n.log)
	if err != nil {
		conn.Close()
		return nil, err
	}
	return link, nil
}

// prologueFor binds a handshake to its purpose and to the pair's secret, so
// a handshake made for one purpose or pair fails for another. It hides
// nothing (Noise derives no key from a prologue): payloadKeyFor does.
func prologueFor(p wire.Purpose, pairingSecret [32]byte) []byte {
	label := sessionPrologue
	if p == wire.PurposeUnpair {
		label = unpairPrologue
	}
	mac := hmac.New(sha256.New, pairingSecret[:])
	mac.Write([]byte("cairn-session-prologue"))
	return mac.Sum(append([]byte(nil), label...))
}

// payloadKeyFor derives the key that seals the acceptor's identity in Noise
// message 2 (handshake.Config.PayloadKey): HKDF-SHA256(ikm = pairing secret,
// salt = empty, info = "cairn-session-payload-key-v1", 32). In XX whoever
// sends message 1 can decrypt message 2; anyone who learnt a rendezvous tag
// (the relay, a LAN observer of a dialer's Hello) could otherwise read the
// acceptor's identity there.
func payloadKeyFor(pairingSecret [32]byte) []byte {
	k, err := hkdf.Key(sha256.New, pairingSecret[:], nil, "cairn-session-payload-key-v1", handshake.PayloadKeySize)
	if err != nil {
		panic("cairn: HKDF failed: " + err.Error()) // only for a bad output length
	}
	return k
}

// pairedHandshake is the Noise XX configuration between this node and the
// paired peer p, on either side: p's key pinned, the prologue and payload key
// from the pair's secret. Clear PayloadKey once the handshake is done.
func (n *Node) pairedHandshake(p store.Peer, purpose wire.Purpose, r *frame.Reader) handshake.Config {
	return handshake.Config{
		Identity:     n.id,
		ExpectedPeer: p.ID,
		ExpectedKey:  p.PublicKey,
		Prologue:     prologueFor(purpose, p.PairingSecret),
		PayloadKey:   payloadKeyFor(p.PairingSecret),
		Reader:       r,
	}
}

// secureAccept runs the acceptor's side of Noise XX on conn, whose Hello
// named tag. It refuses a tag no paired peer owns.
func (n *Node) secureAccept(conn net.Conn, r *frame.Reader, tag string, purpose wire.Purpose) (*securelink.Link, store.Peer, error) {
	id, ok := n.acceptors.peerOf(tag)
	var p store.Peer
	var err error
	if ok {
		p, err = n.peer(id)
	}
	if !ok || err != nil {
		pairproto.SendReject(conn, wire.CodeUnknownPeer)
		return nil, p, fmt.Errorf("%w: no paired peer for this rendezvous tag", ErrUnknownPeer)
	}
	ctx, cancel := context.WithTimeout(n.ctx, handshakeTimeout)
	defer cancel()
	cfg := n.pairedHandshake(p, purpose, r)
	defer clear(cfg.PayloadKey)
	res, err := handshake.Responder(ctx, conn, cfg)
	if err != nil {
		return nil, p, fmt.Errorf("handshake with %s failed: %w", p.ID.Short(), err)
	}
	defer res.Destroy()
	link, err := securelink.New(conn, r, res, false, n.log)
	return link, p, err
}

// acceptSession serves a connection whose Hello asked for a session.
func (n *Node) acceptSession(conn net.Conn, r *frame.Reader, tag, path string) {
	link, p, err := n.secureAccept(conn, r, tag, wire.PurposeSession)
	if err != nil {
		n.log.Info("refused session", "path", path, "err", err)
		conn.Close()
		return
	}
	ctx, cancel := context.WithTimeout(n.ctx, handshakeTimeout)
	defer cancel()
	h, err := session.ReadHello(ctx, link)
	if err != nil {
		n.log.Info("session hello failed", "peer", p.ID.Short(), "err", err)
		link.Close()
		return
	}
	key := sessionKey{peer: p.ID, id: h.ID}
	if h.Resume {
		s := n.sessions.lookup(key)
		if s == nil && n.ctx.Err() != nil {
			link.Close() // closing: the session may be saved and come back
			return
		}
		if s == nil {
			_ = session.Reject(link, h)
			return
		}
		if err := s.s.Attach(link, h); err != nil {
			n.log.Info("session resume failed", "peer", p.ID.Short(), "err", err)
			link.Close()
		}
		return
	}
	inner, err := session.Accept(ctx, link, h, n.sessionConfig(session.Acceptor, nil))
	if err != nil {
		n.log.Info("session start failed", "peer", p.ID.Short(), "err", err)
		return
	}
	s := &Session{n: n, peer: p.ID, name: p.Name, s: inner}
	if err := n.addSession(s, &key); err != nil {
		return
	}
	n.log.Info("session connected", "peer", p.ID.Short(), "path", path, "role", "acceptor")
	if !n.goRun(func() { n.watchSession(s) }) {
		inner.Close()
		return
	}
	select {
	case n.sessions.incoming <- s:
	default:
		n.log.Warn("accept queue full; closing new session", "peer", p.ID.Short())
		inner.Close()
	}
}

// acceptUnpair serves a peer's notice that it removed the pairing.
func (n *Node) acceptUnpair(conn net.Conn, r *frame.Reader, tag, path string) {
	link, p, err := n.secureAccept(conn, r, tag, wire.PurposeUnpair)
	if err != nil {
		n.log.Info("refused unpair notice", "path", path, "err", err)
		conn.Close()
		return
	}
	link.Close()
	n.log.Info("peer removed the pairing", "peer", p.ID.Short())
	if err := n.forget(p.ID); err != nil {
		n.log.Warn("failed to delete unpaired peer", "peer", p.ID.Short(), "err", err)
	}
	n.emit(Event{Kind: EventUnpaired, Peer: p.ID})
}

// Unpair removes a paired peer: it tells the peer (best effort, bounded by
// ctx and a few seconds), closes the sessions with it and deletes its trust
// entry and key material. The peer emits EventUnpaired and deletes its own.
func (n *Node) Unpair(ctx context.Context, peer PeerID) error {
	p, err := n.peer(peer)
	if err != nil {
		return err
	}
	// A peer reachable only at addresses the application gave (ConnectAddr)
	// is told there too.
	var addrs []string
	for _, s := range n.sessions.ofPeer(p.ID) {
		addrs = append(addrs, s.addrs...)
	}
	nctx, cancel := context.WithTimeout(ctx, unpairNoticeTimeout)
	link, _, err := n.dialPeer(nctx, p, wire.PurposeUnpair, slices.Compact(addrs))
	cancel()
	if err != nil {
		n.log.Info("could not tell the peer about the unpairing", "peer", p.ID.Short(), "err", err)
	} else {
		link.Close()
	}
	if err := n.forget(p.ID); err != nil {
		return err
	}
	n.emit(Event{Kind: EventUnpaired, Peer: p.ID})
	return nil
}

// addSession registers a new session, or closes it when the node is closing
// or the peer was unpaired while its handshake ran: forget deletes the trust
// entry before it closes the peer's sessions, so either forget finds this
// session or this check finds the entry gone.
func (n *Node) addSession(s *Session, key *sessionKey) error {
	if !n.sessions.add(s, key) {
		s.s.Close()
		return ErrClosed
	}
	if _, err := n.store.Peer(s.peer); errors.Is(err, store.ErrUnknownPeer) {
		n.sessions.remove(s)
		s.s.Close()
		return fmt.Errorf("%w: unpaired while connecting", ErrUnknownPeer)
	}
	return nil
}

// forget deletes peer's trust entry and closes its sessions (in that order:
// see addSession).
func (n *Node) forget(peer PeerID) error {
	err := n.store.DeletePeer(peer)
	for _, s := range n.sessions.ofPeer(peer) {
		s.s.Close()
	}
	n.refreshAcceptors()
	if err != nil && !errors.Is(err, store.ErrUnknownPeer) {
		return fmt.Errorf("failed to delete %s: %w", peer.Short(), err)
	}
	return nil
}

// PeerInfo describes a paired peer.
type PeerInfo struct {
	ID       PeerID    `json:"id"`
	Name     string    `json:"name,omitempty"`
	PairedAt time.Time `json:"paired_at"`
	LastSeen time.Time `json:"last_seen"`
}

// Peers lists the paired peers.
func (n *Node) Peers() ([]PeerInfo, error) {
	ps, err := n.store.Peers()
	if err != nil {
		return nil, err
	}
	out := make([]PeerInfo, len(ps))
	for i, p := range ps {
		out[i] = PeerInfo{ID: p.ID, Name: p.Name, PairedAt: p.PairedAt, LastSeen: p.LastSeen}
	}
	return out, nil
}

// Rename sets the local display name of a paired peer.
func (n *Node) Rename(peer PeerID, name string) error {
	err := n.store.RenamePeer(peer, name)
	if errors.Is(err, store.ErrUnknownPeer) {
		return fmt.Errorf("%w: %s", ErrUnknownPeer, peer.Short())
	}
	return err
}

// ErrAmbiguousPeer: a PeerID prefix or name matched more than one peer.
var ErrAmbiguousPeer = errors.New("ambiguous peer")

// ResolvePeer finds a paired peer by its full PeerID, a unique prefix of
// it, or its display name.
func (n *Node) ResolvePeer(s string) (PeerID, error) {
	if id, err := ParsePeerID(s); err == nil {
		if _, err := n.peer(id); err != nil {
			return PeerID{}, err
		}
		return id, nil
	}
	ps, err := n.store.Peers()
	if err != nil {
		return PeerID{}, err
	}
	var byName, byPrefix []PeerID
	for _, p := range ps {
		if p.Name != "" && p.Name == s {
			byName = append(byName, p.ID)
		}
		if len(s) >= 4 && len(p.ID.String()) >= len(s) && p.ID.String()[:len(s)] == s {
			byPrefix = append(byPrefix, p.ID)
		}
	}
	for _, m := range [][]PeerID{byName, byPrefix} {
		switch len(m) {
		case 0:
		case 1:
			return m[0], nil
		default:
			return PeerID{}, fmt.Errorf("%w: %q matches %d peers", ErrAmbiguousPeer, s, len(m))
		}
	}
	return PeerID{}, fmt.Errorf("%w: %q", ErrUnknownPeer, s)
}
