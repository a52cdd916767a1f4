package session

import (
	"fmt"
	"time"
)

// conn is the session's state for one transport.
type conn struct {
	t          Transport
	done       chan struct{} // closed when the transport is retired
	writerDone chan struct{} // closed when runWriter returned
	kick       chan struct{} // wakes runWriter; capacity 1

	// Guarded by Session.mu.
	dead     bool
	cursor   uint64    // next sequence number to send on this transport
	lastRecv time.Time // when the last record arrived
	lastPing time.Time // when the last Ping was queued
	ctrl     [][]byte  // Ping and Pong records to send, at most maxCtrlQueue
	nonce    uint64    // last Ping nonce
}

func newConn(t Transport, cursor uint64) *conn {
	now := time.Now()
	return &conn{
		t:          t,
		done:       make(chan struct{}),
		writerDone: make(chan struct{}),
		kick:       make(chan struct{}, 1),
		cursor:     cursor,
		lastRecv:   now,
		lastPing:   now,
	}
}

func (c *conn) kickWriter() {
	select {
	case c.kick <- struct{}{}:
	default:
	}
}

// queueCtrlLocked queues a Ping or Pong. Must hold Session.mu.
func (c *conn) queueCtrlLocked(r *record) {
	if len(c.ctrl) >= maxCtrlQueue {
		return
	}
	c.ctrl = append(c.ctrl, appendRecord(nil, r))
	c.kickWriter()
}

// runReader receives records from c until it fails and dispatches them.
func (s *Session) runReader(c *conn) {
	defer s.wg.Done()
	br, _ := c.t.(bufferedReceiver)
	// While full records arrive (bulk), read them into pooled buffers that
	// the records then keep; otherwise read into the transport's own buffer
	// and copy, so an idle or chatty session holds no 64 KiB buffer.
	var (
		buf      []byte       // pooled, for br
		sinceBig = bulkLinger // records since the last large Data record
	)
	for {
		var (
			b   []byte
			err error
		)
		if br != nil && sinceBig < bulkLinger {
			if buf == nil {
				buf = s.bufs.get()
			}
			b, err = br.RecvInto(buf)
		} else {
			b, err = c.t.Recv()
		}
		if err != nil {
			s.dropConn(c, fmt.Errorf("failed to receive: %w", err))
			return
		}
		r, derr := decodeRecord(b)
		sinceBig = min(sinceBig+1, bulkLinger)
		if derr == nil && r.typ == typeData {
			if len(r.payload) >= pooledPayload {
				sinceBig = 0
			}
			buf = ownPayload(&r, buf)
		}
		if sinceBig == bulkLinger && buf != nil {
			s.bufs.put(buf)
			buf = nil
		}
		s.mu.Lock()
		if c.dead {
			s.mu.Unlock()
			return
		}
		c.lastRecv = time.Now()
		var v verdict
		if derr != nil {
			v = s.badLocked(derr)
		} else {
			v = s.handleLocked(c, &r)
		}
		s.mu.Unlock()
		switch {
		case v.fail != nil:
			s.fail(v.fail)
			return
		case v.peerClosed != nil:
			s.peerClosed(v.peerClosed)
			return
		case v.drop != nil:
			s.dropConn(c, v.drop)
			return
		}
	}
}

// peerClosed ends the session after the peer's Close record.
func (s *Session) peerClosed(ce *CloseError) {
	if ce.Code == CloseNormal {
		s.log.Debug("peer closed the session")
		s.shutdown(ce, ce, false, 0)
		return
	}
	err := fmt.Errorf("%w: %w", ErrSessionFailed, ce)
	s.log.Warn("peer closed the session", "err", ce)
	s.shutdown(err, err, false, 0)
}

// runWriter sends c's control records, Acks, Windows and the send queue from
// c.cursor on, until c is retired.
func (s *Session) runWriter(c *conn) {
	defer s.wg.Done()
	defer close(c.writerDone)
	timer := time.NewTimer(ackDelay)
	timer.Stop()
	defer timer.Stop()
	armed, ackDue := false, false
	var scratch []byte
	for {
		s.mu.Lock()
		if c.dead {
			s.mu.Unlock()
			return
		}
		if armed {
			select {
			case <-timer.C: // also while busy: acks must not wait for idleness
				armed, ackDue = false, true
			default:
			}
		}
		ackDue = ackDue && s.ackOwed > 0
		b, final, acked := s.nextOutLocked(c, &scratch, ackDue)
		if s.ackOwed > 0 && !armed && !acked {
			timer.Reset(ackDelay)
			armed = true
		}
		if b == nil {
			s.mu.Unlock()
			select {
			case <-c.kick:
			case <-c.done:
				return
			case <-timer.C:
				armed, ackDue = false, true
			}
			continue
		}
		if acked {
			ackDue = false
			if armed {
				timer.Stop()
				armed = false
			}
		}
		// b may be a record of the send queue: an Ack may release it
		// while it is being sent, so the buffer is recycled only once no
		// writer is sending (releaseLocked, sentLocked).
		s.sending++
		s.mu.Unlock()
		err := c.t.Send(b)
		s.mu.Lock()
		s.sentLocked()
		s.mu.Unlock()
		if err != nil {
			s.dropConn(c, fmt.Errorf("failed to send: %w", err))
			return
		}
		if final {
			return
		}
	}
}

// nextOutLocked picks the next record for c's writer, in priority order:
// Close, Ping/Pong, Ack, Window, then the send queue. It returns nil when
// there is nothing to send. Records built here use *scratch.
// Must hold s.mu.
func (s *Session) nextOutLocked(c *conn, scratch *[]byte, ackDue bool) (b []byte, final, ack bool) {
	if s.closeRec != nil {
		return s.closeRec, true, false
	}
	if len(c.ctrl) > 0 {
		b = c.ctrl[0]
		c.ctrl[0] = nil
		c.ctrl = c.ctrl[1:]
		return b, false, false
	}
	if s.ackOwed >= ackEvery || s.ackOwed > 0 && ackDue || s.ackForce {
		s.ackOwed, s.ackForce = 0, false
		*scratch = appendRecord((*scratch)[:0], &record{typ: typeAck, next: s.recvNext})
		return *scratch, false, true
	}
	for len(s.windowQ) > 0 {
		id := s.windowQ[0]
		s.windowQ = s.windowQ[1:]
		ch := s.chans[id]
		if ch == nil || !ch.recv.windowQueued {
			continue
		}
		ch.recv.windowQueued = false
		if ch.closed {
			continue
		}
		*scratch = appendRecord((*scratch)[:0], &record{typ: typeWindow, chanID: id, limit: ch.recv.advertised})
		return *scratch, false, false
	}
	if len(s.windowQ) == 0 {
		s.windowQ = nil
	}
	if c.cursor < s.out.base {
		c.cursor = s.out.base
	}
	if c.cursor < s.out.next() {
		b = s.out.get(c.cursor)
		c.cursor++
		return b, false, false
	}
	return nil, false, false
}
