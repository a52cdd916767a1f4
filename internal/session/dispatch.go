package session

import (
	"errors"
	"fmt"
)

// verdict is what the reader does after a record: go on (zero value), drop
// the transport, fail the session, or end it because the peer closed it.
type verdict struct {
	drop       error
	fail       error
	peerClosed *CloseError
}

// badLocked counts a bad record; past MaxBadRecords the session fails.
// Must hold s.mu.
func (s *Session) badLocked(err error) verdict {
	s.stats.BadRecords++
	n := s.stats.BadRecords
	if n <= 10 || n%10 == 0 {
		s.log.Warn("dropped bad record", "err", err, "count", n)
	}
	if n > MaxBadRecords {
		return verdict{fail: fmt.Errorf("%w: %d bad records, the last: %w", ErrProtocol, n, err)}
	}
	return verdict{}
}

func badf(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrProtocol}, args...)...)
}

// handleLocked applies one decoded record from c. Must hold s.mu.
func (s *Session) handleLocked(c *conn, r *record) verdict {
	if r.typ.sequenced() {
		switch {
		case r.seq < s.recvNext:
			s.stats.Duplicates++
			return verdict{}
		case r.seq > s.recvNext:
			// A record went missing: only a new transport (and the resume
			// retransmission) can fill the gap.
			v := s.badLocked(badf("record %d arrived, %d expected", r.seq, s.recvNext))
			if v.fail == nil {
				v.drop = errors.New("sequence gap")
			}
			return v
		}
		s.recvNext++
		s.ackOwed++
		if s.ackOwed == 1 || s.ackOwed >= ackEvery {
			c.kickWriter()
		}
	}
	switch r.typ {
	case typeAck:
		if r.next > s.out.next() {
			return s.badLocked(badf("ack of %d, only %d sent", r.next, s.out.next()))
		}
		if r.next > s.out.base {
			s.out.ackTo(r.next, s.releaseLocked)
			s.sendSig.broadcast()
		}
	case typeWindow:
		ch := s.chans[r.chanID]
		if ch == nil {
			return s.unknownLocked(r, false)
		}
		if r.limit > ch.send.limit {
			ch.send.limit = r.limit
			s.sendSig.broadcast()
		}
	case typePing:
		c.queueCtrlLocked(&record{typ: typePong, nonce: r.nonce})
	case typePong:
	case typeClose:
		return verdict{peerClosed: &CloseError{Code: r.code, Reason: r.reason}}
	case typeOpen:
		return s.openLocked(r)
	case typeData:
		return s.dataLocked(r)
	case typeFin:
		ch := s.chans[r.chanID]
		if ch == nil {
			return s.unknownLocked(r, true)
		}
		if ch.recv.fin {
			return s.badLocked(badf("second Fin on channel %d", r.chanID))
		}
		ch.recv.fin = true
		ch.sig.broadcast()
		s.maybeRemoveLocked(ch)
	case typeStop:
		ch := s.chans[r.chanID]
		if ch == nil {
			return s.unknownLocked(r, false)
		}
		ch.send.stopped = true
		s.finLocked(ch)
		s.sendSig.broadcast()
		s.maybeRemoveLocked(ch)
	default: // Hello, Welcome
		return s.badLocked(badf("unexpected record type 0x%02x", byte(r.typ)))
	}
	return verdict{}
}

// ownID reports whether channel id is one this side allocates.
func (s *Session) ownID(id uint32) bool { return id%2 == 1 == (s.cfg.Role == Dialer) }

// unknownLocked handles a record for a channel not in the table. A Window or
// Stop for a channel that existed and was removed is harmless (it crossed
// the removal); anything else is bad. Must hold s.mu.
func (s *Session) unknownLocked(r *record, strict bool) verdict {
	stale := s.ownID(r.chanID) && r.chanID < s.nextChanID || !s.ownID(r.chanID) && r.chanID <= s.lastPeerID
	if stale && !strict {
		return verdict{}
	}
	return s.badLocked(badf("record type 0x%02x for unknown channel %d", byte(r.typ), r.chanID))
}

// openLocked handles the peer's Open. Must hold s.mu.
func (s *Session) openLocked(r *record) verdict {
	if s.ownID(r.chanID) || r.chanID <= s.lastPeerID {
		return s.badLocked(badf("Open of channel %d out of order", r.chanID))
	}
	if len(s.chans) >= 2*s.cfg.MaxChannels+2 {
		// The peer ignores our refusals.
		return verdict{fail: badf("peer opened more than %d channels", 2*s.cfg.MaxChannels)}
	}
	s.lastPeerID = r.chanID
	ch := newChannel(s, r.chanID, r.name)
	s.chans[r.chanID] = ch
	if s.live >= s.cfg.MaxChannels {
		// A refusal queues records (Fin, Stop) outside the send window: a
		// peer that opens channel after channel without acknowledging them
		// would grow the send queue without bound.
		for len(s.refusals) > 0 && s.refusals[0] < s.out.base {
			s.refusals = s.refusals[1:]
		}
		if len(s.refusals) >= maxPendingRefusals {
			return verdict{fail: badf("peer opened %d channels past the limit without acknowledging the refusals", maxPendingRefusals)}
		}
		// Refuse: stop the peer writing and end our side; the channel is
		// removed when the peer's Fin arrives.
		s.log.Warn("refused channel: too many channels", "channel", r.chanID)
		ch.refused, ch.closed, ch.send.closed = true, true, true
		s.finLocked(ch)
		s.refusals = append(s.refusals, s.queueLocked(appendRecord(nil, &record{typ: typeStop, chanID: ch.id})))
		return verdict{}
	}
	s.live++
	s.acceptQ = append(s.acceptQ, ch)
	s.acceptSig.broadcast()
	return verdict{}
}

// dataLocked handles the peer's Data. Must hold s.mu.
func (s *Session) dataLocked(r *record) verdict {
	ch := s.chans[r.chanID]
	if ch == nil {
		return s.unknownLocked(r, true)
	}
	if ch.recv.fin {
		return s.badLocked(badf("Data after Fin on channel %d", r.chanID))
	}
	n := uint64(len(r.payload)) + DataCost
	if ch.recv.received+n > ch.recv.advertised {
		return s.badLocked(badf("Data beyond the credit on channel %d", r.chanID))
	}
	ch.recv.received += n
	if ch.closed {
		return verdict{} // nobody reads it any more
	}
	ch.recv.q = append(ch.recv.q, chunk{b: r.payload, buf: r.buf, end: r.flags&dataEnd != 0})
	ch.recv.buffered += len(r.payload)
	ch.sig.broadcast()
	return verdict{}
}

// finLocked queues ch's Fin unless it was sent. Must hold s.mu.
func (s *Session) finLocked(ch *Channel) {
	if ch.send.finSent || s.err != nil {
		return
	}
	ch.send.finSent = true
	s.queueLocked(appendRecord(nil, &record{typ: typeFin, chanID: ch.id}))
}

// maybeRemoveLocked forgets ch once both directions are finished and the
// application closed it. Must hold s.mu.
func (s *Session) maybeRemoveLocked(ch *Channel) {
	if ch.removed || !ch.closed || !ch.recv.fin || !ch.send.finSent {
		return
	}
	ch.removed = true
	delete(s.chans, ch.id)
	if !ch.refused {
		s.live--
	}
}
