package session

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"
)

// runManager keeps the session's transport alive: Pings and dead-transport
// detection while connected; after a drop, reconnecting (dialer) or waiting
// for Attach until ResumeTimeout (acceptor).
func (s *Session) runManager() {
	defer s.wg.Done()
	// Check liveness often enough to notice a dead transport within about
	// DeadAfter, and Ping every HeartbeatInterval.
	tick := time.NewTicker(min(s.cfg.HeartbeatInterval, s.cfg.DeadAfter/4))
	defer tick.Stop()
	resume := time.NewTimer(s.cfg.ResumeTimeout)
	resume.Stop()
	defer resume.Stop()
	for {
		select {
		case <-s.ctx.Done():
			return
		case <-tick.C:
			s.heartbeat()
		case <-s.dropped:
			switch {
			case s.cfg.Role == Acceptor:
				resume.Reset(s.cfg.ResumeTimeout)
			case s.cfg.Redial == nil:
				s.mu.Lock()
				cause := s.lastDrop
				s.mu.Unlock()
				s.fail(fmt.Errorf("transport lost, no Redial: %w", cause))
			default:
				s.reconnect()
			}
		case <-resume.C:
			s.mu.Lock()
			waiting, left := s.conn == nil, s.cfg.ResumeTimeout-time.Since(s.droppedAt)
			cause := s.lastDrop
			s.mu.Unlock()
			switch {
			case !waiting:
			case left > 0:
				resume.Reset(left)
			default:
				s.fail(fmt.Errorf("%w: no transport for %v, after: %w", ErrResumeTimeout, s.cfg.ResumeTimeout, cause))
			}
		}
	}
}

// heartbeat drops a transport that went silent, and otherwise Pings the peer
// and re-sends the Ack and Windows (idempotent) in case one was lost.
func (s *Session) heartbeat() {
	s.mu.Lock()
	c := s.conn
	if c == nil || s.err != nil {
		s.mu.Unlock()
		return
	}
	now := time.Now()
	if silent := now.Sub(c.lastRecv); silent > s.cfg.DeadAfter {
		s.mu.Unlock()
		s.dropConn(c, fmt.Errorf("nothing received for %v: transport dead", silent.Round(time.Millisecond)))
		return
	}
	if now.Sub(c.lastPing) >= s.cfg.HeartbeatInterval {
		c.lastPing = now
		c.nonce++
		c.queueCtrlLocked(&record{typ: typePing, nonce: c.nonce})
		s.ackForce = s.recvNext > 0
		s.readvertiseLocked()
	}
	s.mu.Unlock()
}

// reconnect redials with exponential backoff and jitter until a transport
// resumes the session or ResumeTimeout passes (dialer side).
func (s *Session) reconnect() {
	s.mu.Lock()
	if s.conn != nil || s.err != nil {
		s.mu.Unlock()
		return
	}
	deadline := s.droppedAt.Add(s.cfg.ResumeTimeout)
	lastErr := s.lastDrop
	s.mu.Unlock()
	ctx, cancel := context.WithDeadline(s.ctx, deadline)
	defer cancel()
	backoff := s.cfg.ReconnectMin
	for attempt := 1; ; attempt++ {
		err := s.redialOnce(ctx)
		if err == nil || s.ctx.Err() != nil {
			return
		}
		if fatalHandshake(err) {
			s.fail(fmt.Errorf("failed to resume: %w", err))
			return
		}
		lastErr = err
		s.log.Debug("reconnect failed", "attempt", attempt, "err", err)
		if ctx.Err() == nil {
			t := time.NewTimer(jitter(backoff))
			select {
			case <-t.C:
			case <-ctx.Done():
				t.Stop()
			}
		}
		if s.ctx.Err() != nil {
			return
		}
		if ctx.Err() != nil {
			s.fail(fmt.Errorf("%w after %v (%d attempts): %w", ErrResumeTimeout, s.cfg.ResumeTimeout, attempt, lastErr))
			return
		}
		backoff = min(2*backoff, s.cfg.ReconnectMax)
	}
}

// jitter spreads d over [d/2, d].
func jitter(d time.Duration) time.Duration {
	if d <= 1 {
		return d
	}
	return d/2 + rand.N(d/2+1)
}

// redialOnce makes one new transport and resumes the session on it.
func (s *Session) redialOnce(ctx context.Context) error {
	t, err := s.cfg.Redial(ctx)
	if err != nil {
		return fmt.Errorf("failed to redial: %w", err)
	}
	if t == nil {
		return errors.New("failed to redial: nil transport")
	}
	s.mu.Lock()
	next := s.recvNext
	s.mu.Unlock()
	hctx, cancel := context.WithTimeout(ctx, s.cfg.DeadAfter)
	defer cancel()
	hello := record{typ: typeHello, version: Version, flags: helloResume, id: s.id, next: next, window: uint32(s.cfg.RecvBuffer)}
	err = sendHandshake(hctx, t, &hello)
	var w record
	if err == nil {
		w, err = recvWelcome(hctx, t, s.id)
	}
	if err != nil {
		t.Close()
		return err
	}
	return s.install(t, w.next, EventResumed)
}
