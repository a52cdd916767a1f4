package session

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/cairn-dev/cairn/internal/dropq"
)

// Session is a reliable, multiplexed connection to one peer that survives
// reconnects. Its methods are safe for concurrent use. Close it to stop every
// goroutine it started, also after it failed.
type Session struct {
	cfg    Config
	id     ID
	log    *slog.Logger
	ctx    context.Context // ends when the session ends
	cancel context.CancelFunc
	wg     sync.WaitGroup // runManager, and runReader/runWriter of each transport
	events *dropq.Queue[Event]
	// dropped wakes runManager after the current transport dropped.
	dropped chan struct{}
	// attachMu serializes Attach calls.
	attachMu sync.Mutex

	mu sync.Mutex
	// The fields below are guarded by mu.

	err        error         // why the session ended; nil while it runs
	done       chan struct{} // closed when err is set
	conn       *conn         // the current transport, nil between transports
	droppedAt  time.Time     // when conn last became nil
	lastDrop   error         // why it did
	peerWindow uint32        // the peer's per-channel receive window
	// window is the per-channel receive window this side announced in its
	// first Hello or Welcome: the credit the peer starts every new channel
	// with. A restored session keeps it even if Config.RecvBuffer changed.
	window     uint32
	out        sendQueue // sequenced records not yet acknowledged
	sendSig    notifier  // out shrank, a credit grew, or a channel changed state
	recvNext   uint64    // next sequence number expected from the peer
	ackOwed    int       // sequenced records received since the last Ack
	ackForce   bool      // send an Ack even if none is owed (heartbeat)
	closeRec   []byte    // a Close record the writer sends last
	chans      map[uint32]*Channel
	nextChanID uint32 // next id for a channel this side opens
	lastPeerID uint32 // highest id of a channel the peer opened
	live       int    // channels counted against MaxChannels
	acceptQ    []*Channel
	acceptSig  notifier
	windowQ    []uint32 // channels whose receive window must be advertised
	stats      Stats
	// suspending: Suspend waits for the messages in progress (midMessages
	// of them) to be queued whole; new writes are refused meanwhile.
	suspending  bool
	midMessages int
	restored    bool // the session was rebuilt by Restore
	// bufs recycles the buffers of full Data records (see bufpool.go).
	// Acknowledged records go to ackedBufs first and into bufs only when no
	// writer is in the middle of a Send (sending == 0), since a writer of a
	// retired transport may still be sending one of them.
	bufs      bufPool
	ackedBufs [][]byte
	sending   int
	// refusals holds the sequence numbers of the Stops refusing channels
	// past MaxChannels that the peer has not acknowledged (ascending).
	refusals []uint64
}

// New starts a session on its first transport t, which must already be
// authenticated.
//
// A Dialer picks a fresh session id, sends the Hello and waits (at most
// Config.DeadAfter, and not past ctx) for the acceptor's Welcome. An Acceptor
// reads the Hello itself; to route Hellos between sessions, use ReadHello and
// Accept instead. ctx bounds only the handshake. On error t is closed.
func New(ctx context.Context, t Transport, cfg Config) (*Session, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		t.Close()
		return nil, err
	}
	if cfg.Role == Acceptor {
		h, err := ReadHello(ctx, t)
		if err != nil {
			t.Close()
			return nil, err
		}
		if h.Resume {
			Reject(t, h)
			return nil, fmt.Errorf("session: the dialer resumes session %v: %w", h.ID, ErrUnknownSession)
		}
		return Accept(ctx, t, h, cfg)
	}
	id, err := newID()
	if err != nil {
		t.Close()
		return nil, err
	}
	hctx, cancel := context.WithTimeout(ctx, cfg.DeadAfter)
	defer cancel()
	hello := record{typ: typeHello, version: Version, id: id, window: uint32(cfg.RecvBuffer)}
	if err := sendHandshake(hctx, t, &hello); err != nil {
		t.Close()
		return nil, err
	}
	w, err := recvWelcome(hctx, t, id)
	if err == nil && w.next != 0 {
		err = fmt.Errorf("session: new session resumed at %d: %w", w.next, ErrProtocol)
	}
	if err != nil {
		t.Close()
		return nil, err
	}
	s := newSession(cfg, id, w.window)
	if err := s.install(t, 0, EventConnected); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// Accept starts the acceptor side of a new session whose Hello h was read
// from t with ReadHello. cfg.Role may be left zero. On error t is closed.
func Accept(ctx context.Context, t Transport, h Hello, cfg Config) (*Session, error) {
	if cfg.Role == 0 {
		cfg.Role = Acceptor
	}
	cfg, err := cfg.withDefaults()
	if err == nil && cfg.Role != Acceptor {
		err = errors.New("session: Accept needs Role Acceptor")
	}
	if err == nil && h.Resume {
		err = errors.New("session: Accept of a resume Hello (use Attach)")
	}
	if err != nil {
		t.Close()
		return nil, err
	}
	hctx, cancel := context.WithTimeout(ctx, cfg.DeadAfter)
	defer cancel()
	welcome := record{typ: typeWelcome, version: Version, id: h.ID, window: uint32(cfg.RecvBuffer)}
	if err := sendHandshake(hctx, t, &welcome); err != nil {
		t.Close()
		return nil, err
	}
	s := newSession(cfg, h.ID, h.window)
	if err := s.install(t, 0, EventConnected); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

func recvWelcome(ctx context.Context, t Transport, id ID) (record, error) {
	r, err := recvHandshake(ctx, t, 0)
	if err != nil {
		return r, err
	}
	switch {
	case r.typ != typeWelcome:
		return r, fmt.Errorf("session: expected a Welcome: %w", ErrProtocol)
	case r.version != Version:
		return r, fmt.Errorf("session: acceptor speaks version %d: %w", r.version, ErrProtocol)
	case r.id != id:
		return r, fmt.Errorf("session: Welcome for another session: %w", ErrProtocol)
	}
	return r, checkWindow(r.window)
}

func newSession(cfg Config, id ID, peerWindow uint32) *Session {
	s := allocSession(cfg, id, peerWindow)
	s.start()
	return s
}

// allocSession makes a session without starting it.
func allocSession(cfg Config, id ID, peerWindow uint32) *Session {
	ctx, cancel := context.WithCancel(context.Background())
	s := &Session{
		cfg:        cfg,
		id:         id,
		log:        cfg.Logger.With("session", id.String()[:8], "role", cfg.Role.String()),
		ctx:        ctx,
		cancel:     cancel,
		events:     dropq.New[Event](eventBuffer),
		dropped:    make(chan struct{}, 1),
		done:       make(chan struct{}),
		peerWindow: peerWindow,
		window:     uint32(cfg.RecvBuffer),
		chans:      make(map[uint32]*Channel),
		nextChanID: 1,
	}
	if cfg.Role == Acceptor {
		s.nextChanID = 2
	}
	return s
}

// start starts the session's manager.
func (s *Session) start() {
	s.wg.Add(1)
	go s.runManager()
}

// ID returns the session id.
func (s *Session) ID() ID { return s.id }

// Events returns the session's event stream. It holds up to 64 events; when
// the reader falls behind, the oldest are dropped (see Stats.DroppedEvents),
// so the session never blocks on it. It is closed after EventClosed.
func (s *Session) Events() <-chan Event { return s.events.C() }

// Done is closed when the session has ended (closed or failed).
func (s *Session) Done() <-chan struct{} { return s.done }

// Err returns nil while the session runs, ErrClosed after Close, or why it
// ended: an error wrapping ErrSessionFailed, or a *CloseError wrapping
// ErrClosed when the peer closed it.
func (s *Session) Err() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.err
}

// Attach hands the session a new transport t on which the dialer resumed it
// (acceptor side); h is its Hello, read with ReadHello, and t must be
// authenticated as the same peer. A transport still in use is replaced. On
// error t is closed.
func (s *Session) Attach(t Transport, h Hello) error {
	switch {
	case s.cfg.Role != Acceptor:
		t.Close()
		return errors.New("session: Attach on the dialer side")
	case h.ID != s.id || !h.Resume:
		t.Close()
		return errors.New("session: Attach of a Hello for another session")
	}
	s.attachMu.Lock()
	defer s.attachMu.Unlock()
	s.mu.Lock()
	old, err := s.conn, s.err
	s.mu.Unlock()
	if errors.Is(err, ErrSuspended) {
		// Not ended for the peer: it may resume with the restored state.
		t.Close()
		return err
	}
	if err != nil {
		Reject(t, h)
		return err
	}
	if old != nil {
		s.dropConn(old, errors.New("replaced by a new transport"))
	}
	s.mu.Lock()
	next := s.recvNext
	s.mu.Unlock()
	ctx, cancel := context.WithTimeout(s.ctx, s.cfg.DeadAfter)
	defer cancel()
	welcome := record{typ: typeWelcome, version: Version, id: s.id, next: next, window: uint32(s.cfg.RecvBuffer)}
	if err := sendHandshake(ctx, t, &welcome); err != nil {
		t.Close()
		return err
	}
	return s.install(t, h.next, EventResumed)
}

// install makes t the current transport, the peer expecting sequence number
// peerNext next, and starts its reader and writer.
func (s *Session) install(t Transport, peerNext uint64, ev EventKind) error {
	s.mu.Lock()
	if s.err != nil {
		err := s.err
		s.mu.Unlock()
		t.Close()
		return err
	}
	if peerNext < s.out.base || peerNext > s.out.next() {
		err := fmt.Errorf("%w: peer resumes at record %d, held are [%d, %d)", ErrProtocol, peerNext, s.out.base, s.out.next())
		s.mu.Unlock()
		sendClose(t, CloseResumeFailed, "")
		t.Close()
		s.fail(err)
		return fmt.Errorf("%w: %w", ErrSessionFailed, err)
	}
	old := s.conn
	if old != nil {
		old.dead = true
		close(old.done)
	}
	s.out.ackTo(peerNext, s.releaseLocked)
	s.sendSig.broadcast()
	c := newConn(t, peerNext)
	s.conn = c
	s.ackOwed, s.ackForce = 0, false
	s.readvertiseLocked()
	if ev == EventResumed {
		s.stats.Resumes++
	}
	s.wg.Add(2)
	s.mu.Unlock()
	if old != nil {
		old.t.Close()
	}
	go s.runReader(c)
	go s.runWriter(c)
	s.log.Debug("transport up", "event", ev.String(), "resume_at", peerNext)
	s.emit(ev, nil)
	return nil
}

// dropConn retires c after it failed; the session lives on and waits for a
// new transport.
func (s *Session) dropConn(c *conn, cause error) {
	s.mu.Lock()
	if c.dead {
		s.mu.Unlock()
		return
	}
	c.dead = true
	close(c.done)
	current := s.conn == c
	if current {
		s.conn = nil
		s.droppedAt = time.Now()
		s.lastDrop = cause
		s.stats.Drops++
	}
	ending := s.err != nil
	s.mu.Unlock()
	c.t.Close()
	if current && !ending {
		s.log.Info("transport dropped", "err", cause)
		s.emit(EventDisconnected, cause)
		select {
		case s.dropped <- struct{}{}:
		default:
		}
	}
}

// fail ends the session because of cause, telling the peer if it can.
func (s *Session) fail(cause error) {
	code, send := CloseProtocol, true
	switch {
	case errors.Is(cause, ErrProtocol):
	case errors.Is(cause, ErrClosed):
		code = CloseNormal
	default:
		send = false
	}
	s.log.Warn("session failed", "err", cause)
	err := fmt.Errorf("%w: %w", ErrSessionFailed, cause)
	s.shutdown(err, err, send, code)
}

// shutdown ends the session with err and reports evErr in EventClosed. With
// sendClose, a Close record with code is sent first (best effort, at most
// closeLinger). It does not wait for the goroutines: Close does.
func (s *Session) shutdown(err, evErr error, sendClose bool, code CloseCode) {
	s.mu.Lock()
	if s.err != nil {
		s.mu.Unlock()
		return
	}
	s.err = err
	close(s.done)
	c := s.conn
	if c != nil && sendClose {
		s.closeRec = appendRecord(nil, &record{typ: typeClose, code: code})
		c.kickWriter()
	}
	s.sendSig.broadcast()
	s.acceptSig.broadcast()
	for _, ch := range s.chans {
		ch.sig.broadcast()
	}
	s.mu.Unlock()
	if c != nil && sendClose {
		t := time.NewTimer(closeLinger)
		select {
		case <-c.writerDone:
		case <-c.done:
		case <-t.C:
		}
		t.Stop()
	}
	s.cancel()
	if c != nil {
		s.dropConn(c, err)
	}
	s.emit(EventClosed, evErr)
}

// Close closes the session: it sends a Close record to the peer (best
// effort, waiting at most a second), ends every goroutine, and makes every
// later or pending call return ErrClosed. Records the peer has not yet
// acknowledged are not waited for; call Flush first for that. Close is
// idempotent and always returns nil.
func (s *Session) Close() error {
	s.shutdown(ErrClosed, nil, true, CloseNormal)
	s.wg.Wait()
	return nil
}

// Flush waits until the peer has acknowledged every record sent so far.
func (s *Session) Flush(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for !s.out.empty() {
		if s.err != nil {
			return s.err
		}
		if err := s.waitLocked(ctx, &s.sendSig); err != nil {
			return err
		}
	}
	return s.err
}

// waitLocked waits for n's next broadcast or the end of ctx.
// Must hold s.mu; it is released while waiting.
func (s *Session) waitLocked(ctx context.Context, n *notifier) error {
	ch := n.wait()
	s.mu.Unlock()
	defer s.mu.Lock()
	select {
	case <-ch:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("session: %w", ctx.Err())
	}
}

// queueLocked appends a sequenced record (seq filled in here) to the send
// queue and returns its sequence number. Must hold s.mu.
func (s *Session) queueLocked(b []byte) uint64 {
	seq := s.out.push(b)
	if s.conn != nil {
		s.conn.kickWriter()
	}
	return seq
}

// peerHasLocked reports whether the peer knows channel ch: it opened ch, or
// acknowledged our Open. Must hold s.mu.
func (s *Session) peerHasLocked(ch *Channel) bool {
	return !s.ownID(ch.id) || ch.openSeq < s.out.base
}

// readvertiseLocked queues a Window for every open channel, in case one was
// lost with a transport. Not for a channel whose Open the peer has yet to
// get: the Window (a control record, sent first) would overtake the Open, and
// until the Open arrives the peer's credit is the initial one anyway (it can
// have sent nothing on the channel to consume). Must hold s.mu.
func (s *Session) readvertiseLocked() {
	for id, ch := range s.chans {
		if !ch.closed && s.peerHasLocked(ch) {
			s.queueWindowLocked(id, ch)
		}
	}
}

// releaseLocked recycles the buffer of an acknowledged record once no writer
// can be sending it. Must hold s.mu.
func (s *Session) releaseLocked(rec []byte) {
	if cap(rec) != recordBufSize {
		return
	}
	if s.sending == 0 {
		s.bufs.put(rec)
		return
	}
	s.ackedBufs = append(s.ackedBufs, rec)
}

// sentLocked ends a writer's Send: once none is sending, the buffers
// acknowledged meanwhile are free. Must hold s.mu.
func (s *Session) sentLocked() {
	s.sending--
	if s.sending > 0 {
		return
	}
	for i, b := range s.ackedBufs {
		s.bufs.put(b)
		s.ackedBufs[i] = nil
	}
	s.ackedBufs = s.ackedBufs[:0]
}

// queueWindowLocked schedules a Window record for ch. Must hold s.mu.
func (s *Session) queueWindowLocked(id uint32, ch *Channel) {
	if ch.recv.windowQueued {
		return
	}
	ch.recv.windowQueued = true
	s.windowQ = append(s.windowQ, id)
	if s.conn != nil {
		s.conn.kickWriter()
	}
}

// Stats describes a session's state; for tests and monitoring.
type Stats struct {
	Unacked       int    // bytes of sent records the peer has not acknowledged (<= SendWindow + small control records)
	Buffered      int    // bytes received and not yet read by the application, all channels
	Channels      int    // open channels
	BadRecords    int    // records from the peer dropped as bad
	Duplicates    int    // sequenced records received twice (dropped)
	Drops         int    // transports lost
	Resumes       int    // transports taken over after a drop
	DroppedEvents uint64 // events lost to a slow Events reader
}

// Stats returns a snapshot of the session's counters.
func (s *Session) Stats() Stats {
	s.mu.Lock()
	st := s.stats
	st.Unacked = s.out.bytes
	st.Channels = s.live
	for _, ch := range s.chans {
		st.Buffered += ch.recv.buffered + len(ch.recv.partial)
	}
	s.mu.Unlock()
	st.DroppedEvents = s.events.Dropped()
	return st
}
