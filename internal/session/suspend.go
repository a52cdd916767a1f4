package session

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"time"
)

// errRestored is the "drop" a restored session starts from.
var errRestored = errors.New("restored from saved state")

// Suspend ends the session without telling the peer, and returns everything
// needed to continue it in another process with Restore: the sequence
// counters, the records the peer has not acknowledged, and every channel with
// its credit and the data received but not yet read. The peer sees only a
// dropped transport and keeps waiting (up to its ResumeTimeout), so Restore
// must happen within that time for the session to resume.
//
// Suspend first lets Sends already in progress finish queueing their message
// (new Sends and Writes fail with an error wrapping ErrSuspended), waiting at
// most until ctx ends; a message still cut short then stays cut short, as
// with a cancelled Send. Then it stops the transport and every goroutine
// atomically with taking the state: nothing received after the state was
// taken is acknowledged. Afterwards the session behaves as closed with
// ErrSuspended (Err, pending and later calls, EventClosed). The state holds
// application data: store it as privately as the messages themselves.
//
// Suspend of a session that has ended returns its error.
func (s *Session) Suspend(ctx context.Context) ([]byte, error) {
	s.mu.Lock()
	if s.err != nil {
		err := s.err
		s.mu.Unlock()
		return nil, err
	}
	s.suspending = true
	s.sendSig.broadcast()
	for s.midMessages > 0 && s.err == nil {
		if err := s.waitLocked(ctx, &s.sendSig); err != nil {
			s.log.Warn("suspending with a message cut short", "err", err)
			break
		}
	}
	if s.err != nil {
		err := s.err
		s.mu.Unlock()
		return nil, err
	}
	data := appendState(nil, s.stateLocked())
	// Stop everything in the same critical section: the reader drops what it
	// receives from now on and the writer sends nothing more, so the peer
	// never gets an Ack for a record the state does not hold.
	s.err = ErrSuspended
	close(s.done)
	c := s.conn
	if c != nil {
		c.dead = true
		close(c.done)
		s.conn = nil
	}
	s.sendSig.broadcast()
	s.acceptSig.broadcast()
	for _, ch := range s.chans {
		ch.sig.broadcast()
	}
	s.mu.Unlock()
	s.cancel()
	if c != nil {
		c.t.Close()
	}
	s.log.Debug("session suspended", "bytes", len(data))
	s.emit(EventClosed, ErrSuspended)
	s.wg.Wait()
	return data, nil
}

// stateLocked captures the session for Suspend. Must hold s.mu.
func (s *Session) stateLocked() *savedState {
	st := &savedState{
		role:       s.cfg.Role,
		id:         s.id,
		peerWindow: s.peerWindow,
		window:     s.window,
		recvNext:   s.recvNext,
		outBase:    s.out.base,
		out:        s.out.recs[s.out.head:],
		nextChanID: s.nextChanID,
		lastPeerID: s.lastPeerID,
	}
	pending := make(map[*Channel]bool, len(s.acceptQ))
	for _, ch := range s.acceptQ {
		pending[ch] = true
	}
	ids := make([]uint32, 0, len(s.chans))
	for id := range s.chans {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	st.chans = make([]savedChannel, 0, len(ids))
	for _, id := range ids {
		ch := s.chans[id]
		sc := savedChannel{
			id:         id,
			name:       ch.name,
			sent:       ch.send.sent,
			limit:      ch.send.limit,
			received:   ch.recv.received,
			consumed:   ch.recv.consumed,
			advertised: ch.recv.advertised,
			partial:    ch.recv.partial,
			q:          ch.recv.q,
		}
		for _, f := range []struct {
			on  bool
			bit uint16
		}{
			{ch.closed, stClosed},
			{ch.refused, stRefused},
			{pending[ch], stPending},
			{ch.send.closed, stSendClosed},
			{ch.send.finSent, stFinSent},
			{ch.send.stopped, stStopped},
			{ch.recv.fin, stRecvFin},
			{ch.recv.inMessage, stInMessage},
			{ch.recv.discard && !ch.closed, stDiscard}, // meaningless once closed
		} {
			if f.on {
				sc.flags |= f.bit
			}
		}
		st.chans = append(st.chans, sc)
	}
	return st
}

// Restore rebuilds a session from the state Suspend returned, in the
// disconnected state: a Dialer starts redialing at once (cfg.Redial), an
// Acceptor waits for Attach; both give up after cfg.ResumeTimeout. cfg.Role
// may be left zero; otherwise it must match the saved role. cfg may differ
// from the suspended session's in every other field.
//
// Every channel that was still open is delivered again by AcceptChannel, in
// id order (also the ones this side opened, and the ones the application had
// accepted already), so the application gets its channels back; their data
// received but not read is there, and messages sent but not acknowledged are
// retransmitted on the resume, so each arrives exactly once.
//
// data is input from disk: a state that does not decode returns a
// *StateError (ErrBadState). Restore keeps no reference to data.
func Restore(data []byte, cfg Config) (*Session, error) {
	st, err := decodeState(data)
	if err != nil {
		return nil, err
	}
	if cfg.Role == 0 {
		cfg.Role = st.role
	}
	if cfg.Role != st.role {
		return nil, fmt.Errorf("session: the saved state is a %v's, Config.Role is %v", st.role, cfg.Role)
	}
	cfg, err = cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	s := allocSession(cfg, st.id, st.peerWindow)
	s.window = st.window // what the peer believes, whatever cfg.RecvBuffer is now
	s.restored = true
	s.recvNext = st.recvNext
	s.out.base = st.outBase
	s.out.recs = make([][]byte, 0, len(st.out))
	for _, r := range st.out {
		s.out.recs = append(s.out.recs, bytes.Clone(r))
		s.out.bytes += len(r)
	}
	s.nextChanID, s.lastPeerID = st.nextChanID, st.lastPeerID
	opens := s.out.queuedOpens()
	for i := range st.chans {
		sc := &st.chans[i]
		ch := newChannel(s, sc.id, sc.name)
		ch.closed, ch.refused = sc.has(stClosed), sc.has(stRefused)
		ch.send.sent, ch.send.limit = sc.sent, sc.limit
		ch.send.closed, ch.send.finSent, ch.send.stopped = sc.has(stSendClosed), sc.has(stFinSent), sc.has(stStopped)
		ch.recv.received, ch.recv.consumed, ch.recv.advertised = sc.received, sc.consumed, sc.advertised
		ch.recv.fin, ch.recv.inMessage, ch.recv.discard = sc.has(stRecvFin), sc.has(stInMessage), sc.has(stDiscard)
		if len(sc.partial) > 0 {
			ch.recv.partial = bytes.Clone(sc.partial)
		}
		for _, ck := range sc.q {
			ch.recv.q = append(ch.recv.q, chunk{b: bytes.Clone(ck.b), end: ck.end})
			ch.recv.buffered += len(ck.b)
		}
		if seq, ok := opens[sc.id]; ok {
			ch.openSeq = seq // else the peer acknowledged the Open: 0 will do
		}
		s.chans[sc.id] = ch
		if !ch.refused {
			s.live++
		}
		if !ch.closed {
			s.acceptQ = append(s.acceptQ, ch)
		}
	}
	s.droppedAt = time.Now()
	s.lastDrop = errRestored
	s.dropped <- struct{}{}
	s.start()
	s.log.Debug("session restored", "channels", len(s.acceptQ), "unacked", len(s.out.recs))
	return s, nil
}

// Restored reports whether the session was rebuilt by Restore.
func (s *Session) Restored() bool { return s.restored }

// StateInfo returns the id and role of a session state Suspend returned,
// checking the whole state as Restore does (a *StateError if it does not
// decode).
func StateInfo(data []byte) (ID, Role, error) {
	st, err := decodeState(data)
	if err != nil {
		return ID{}, 0, err
	}
	return st.id, st.role, nil
}
