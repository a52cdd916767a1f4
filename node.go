package cairn

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"time"

	"github.com/cairn-dev/cairn/identity"
	"github.com/cairn-dev/cairn/internal/dropq"
	"github.com/cairn-dev/cairn/internal/frame"
	"github.com/cairn-dev/cairn/internal/pairproto"
	"github.com/cairn-dev/cairn/internal/wire"
	"github.com/cairn-dev/cairn/store"
)

// PeerID names a cairn node. See package identity.
type PeerID = identity.PeerID

// ParsePeerID decodes the text form of a PeerID.
func ParsePeerID(s string) (PeerID, error) { return identity.ParsePeerID(s) }

// helloTimeout bounds how long an incoming connection may take to say what it
// is for, so idle sockets cannot pile up.
const helloTimeout = 10 * time.Second

// maxPendingConns bounds the direct connections between accept and the end
// of their Hello, pairing attempt or session handshake, so that a flood of
// idle sockets cannot exhaust the node. Established sessions do not count.
const maxPendingConns = 256

// acceptBackoffMin and acceptBackoffMax bound the pause after a failed
// accept (e.g. out of file descriptors).
const (
	acceptBackoffMin = 5 * time.Millisecond
	acceptBackoffMax = time.Second
)

// Node is one cairn device: an identity, a trust store of paired peers, a
// listener for direct connections, and optionally a relay and LAN discovery.
// Its methods are safe for concurrent use. Close it to stop every goroutine
// it started.
type Node struct {
	cfg   config
	log   *slog.Logger
	store *store.Store
	id    *identity.Identity
	ln    net.Listener

	ctx    context.Context // ends when the node closes
	cancel context.CancelFunc
	events *dropq.Queue[Event]
	// pending bounds the connections, direct or through the relay, still
	// saying or proving who they are (maxPendingConns).
	pending chan struct{}
	// run counts the goroutines Close waits for. closed is set, under the
	// lock, before Close waits: goRun starts nothing after that, so no
	// wg.Add can race with the wg.Wait.
	run struct {
		sync.Mutex
		wg     sync.WaitGroup
		closed bool
	}

	pairings struct {
		sync.Mutex
		bySlot map[string]*initiator
		spent  map[string]time.Time // used-up PIN slots, until they expire
	}
	sessions  sessionTable
	acceptors acceptorSet
}

// New opens (or creates) the node's identity in its data directory and starts
// listening for peers.
func New(opts ...Option) (*Node, error) {
	cfg := defaultConfig()
	for _, o := range opts {
		if err := o(&cfg); err != nil {
			return nil, fmt.Errorf("cairn: %w", err)
		}
	}
	if cfg.dataDir == "" {
		return nil, errors.New("cairn: a data directory is required (WithDataDir)")
	}
	st, err := store.Open(cfg.dataDir, store.Options{Passphrase: cfg.passphrase})
	if err != nil {
		return nil, fmt.Errorf("cairn: failed to open the key store: %w", err)
	}
	id, err := st.Identity()
	if err != nil {
		st.Close()
		return nil, fmt.Errorf("cairn: failed to load the identity: %w", err)
	}
	if len(cfg.passphrase) > 0 && !st.Sealed() {
		cfg.logger.Warn("the identity key was created without a passphrase and stays unsealed; the passphrase is not used")
	}
	clear(cfg.passphrase) // the store keeps what it needs
	ln, err := net.Listen("tcp", cfg.listenAddr)
	if err != nil {
		st.Close()
		return nil, fmt.Errorf("cairn: failed to listen on %s: %w", cfg.listenAddr, err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	n := &Node{
		cfg:    cfg,
		log:    cfg.logger.With("node", id.PeerID().Short()),
		store:  st,
		id:     id,
		ln:     ln,
		ctx:    ctx,
		cancel: cancel,
		events: dropq.New[Event](eventQueueSize),

		pending: make(chan struct{}, maxPendingConns),
	}
	n.pairings.bySlot = make(map[string]*initiator)
	n.pairings.spent = make(map[string]time.Time)
	n.sessions.init()
	n.acceptors.hosted = make(map[string]context.CancelFunc)
	if cfg.persistSessions {
		n.restoreSessions() // before accepting: resuming dialers must find them
	}
	n.goRun(n.runAcceptLoop)
	n.startAcceptors()
	n.log.Info("node started", "listen", ln.Addr().String())
	return n, nil
}

// IdentitySealed reports whether the identity key in the data directory is
// sealed with a passphrase. A passphrase given for a key created without one
// does not seal it.
func (n *Node) IdentitySealed() bool { return n.store.Sealed() }

// PeerID returns this node's PeerID.
func (n *Node) PeerID() PeerID { return n.id.PeerID() }

// Addr returns the address the node listens on for direct connections.
func (n *Node) Addr() net.Addr { return n.ln.Addr() }

// Events returns the node's event stream. It is buffered; when the reader
// falls behind, the oldest events are dropped.
func (n *Node) Events() <-chan Event { return n.events.C() }

// Close stops the node: pending pairings fail with ErrClosed, sessions close
// (or are saved, with WithSessionPersistence), and every goroutine the node
// started has ended when Close returns.
func (n *Node) Close() error {
	n.run.Lock()
	n.run.closed = true
	n.run.Unlock()
	n.cancel()
	err := n.ln.Close()
	n.closeSessions()
	n.run.wg.Wait()
	if errors.Is(err, net.ErrClosed) {
		err = nil
	}
	return errors.Join(err, n.store.Close())
}

// goRun runs f in a goroutine that Close waits for. Once Close has begun it
// runs nothing and returns false: the caller then releases what f would have
// used (a connection, a session).
func (n *Node) goRun(f func()) bool {
	n.run.Lock()
	defer n.run.Unlock()
	if n.run.closed {
		return false
	}
	n.run.wg.Add(1)
	go func() {
		defer n.run.wg.Done()
		f()
	}()
	return true
}

func (n *Node) runAcceptLoop() {
	backoff := acceptBackoffMin
	for {
		conn, err := n.ln.Accept()
		if err != nil {
			if n.ctx.Err() != nil || errors.Is(err, net.ErrClosed) {
				return
			}
			// Out of file descriptors or similar: wait and go on, as
			// net/http does, rather than stop accepting for good.
			n.log.Warn("accept failed", "err", err, "retry_in", backoff)
			if !sleepCtx(n.ctx, backoff) {
				return
			}
			backoff = min(backoff*2, acceptBackoffMax)
			continue
		}
		backoff = acceptBackoffMin
		n.servePending(conn, func() { n.handleConn(conn, "tcp") })
	}
}

// servePending runs serve for conn in a goroutine, unless maxPendingConns
// connections are still saying or proving who they are, or the node is
// closing: then it closes conn.
func (n *Node) servePending(conn net.Conn, serve func()) {
	select {
	case n.pending <- struct{}{}:
	default:
		n.log.Debug("too many pending connections; dropping one", "max", maxPendingConns)
		conn.Close()
		return
	}
	if !n.goRun(func() {
		defer func() { <-n.pending }()
		serve()
	}) {
		<-n.pending
		conn.Close()
	}
}

// handleConn reads the Hello of a connection a peer dialled and routes it.
func (n *Node) handleConn(conn net.Conn, path string) {
	r := frame.NewReader(conn, wire.MaxHelloFrame)
	_ = conn.SetReadDeadline(time.Now().Add(helloTimeout))
	typ, body, err := r.ReadFrame()
	if err != nil {
		n.log.Debug("dropped connection without hello", "path", path, "err", err)
		conn.Close()
		return
	}
	r.SetMaxSize(frame.MaxFrameSize)
	_ = conn.SetReadDeadline(time.Time{})
	n.route(conn, r, typ, body, path)
}

// route serves a connection by the Hello it opened with.
func (n *Node) route(conn net.Conn, r *frame.Reader, typ frame.Type, body []byte, path string) {
	stop := context.AfterFunc(n.ctx, func() { conn.Close() })
	defer stop()
	if typ != frame.TypeHello {
		n.log.Debug("dropped connection without hello", "path", path)
		conn.Close()
		return
	}
	hello, err := wire.ParseHello(body)
	if err != nil {
		pairproto.SendReject(conn, wire.CodeProtocol)
		conn.Close()
		return
	}
	switch hello.Purpose {
	case wire.PurposePair:
		n.pairings.Lock()
		in := n.pairings.bySlot[hello.Slot]
		n.pairings.Unlock()
		if in == nil && n.spentSlot(hello.Slot) {
			pairproto.SendReject(conn, wire.CodeTooManyAttempts)
			conn.Close()
			return
		}
		if in == nil {
			pairproto.SendReject(conn, wire.CodeUnknownSlot)
			conn.Close()
			return
		}
		in.attempt(conn, r, path)
	case wire.PurposeSession:
		n.acceptSession(conn, r, hello.Slot, path)
	case wire.PurposeUnpair:
		n.acceptUnpair(conn, r, hello.Slot, path)
	}
}
