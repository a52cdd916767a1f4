package session

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"unicode/utf8"
)

// Channel is one named, bidirectional stream inside a session. Use it either
// for messages (Send, Receive: boundaries kept, each at most MaxMessage) or
// as a byte stream (Read, Write: an io.ReadWriteCloser); data arrives exactly
// once and in order. Its methods are safe for concurrent use; concurrent
// Sends are not interleaved.
type Channel struct {
	s    *Session
	id   uint32
	name string
	// openSeq is the sequence number of our Open of the channel (for a
	// channel this side opened): the peer has the channel once it
	// acknowledged that.
	openSeq uint64
	wlock   chan struct{} // held by one Send/Write at a time
	rlock   chan struct{} // held by one Receive/Read at a time

	// Guarded by Session.mu.
	sig     notifier // data arrived, Fin, closed
	closed  bool     // Close called (or the channel was refused)
	refused bool     // the peer opened it past MaxChannels
	removed bool     // gone from the session's table
	send    struct {
		sent    uint64 // payload bytes queued so far
		limit   uint64 // the peer's credit: sent may not pass it
		closed  bool   // CloseWrite or Close called
		finSent bool
		stopped bool // the peer closed its side: writes fail
	}
	recv struct {
		q            []chunk
		buffered     int    // bytes in q
		received     uint64 // payload bytes received so far
		consumed     uint64 // payload bytes the application took
		advertised   uint64 // the credit granted to the peer
		windowQueued bool
		fin          bool   // the peer sent its Fin
		partial      []byte // a message Receive is assembling
		inMessage    bool   // partial holds the start of a message
		discard      bool   // skipping the rest of a too-large message
	}
}

var _ io.ReadWriteCloser = (*Channel)(nil)

// chunk is the payload of one Data record.
type chunk struct {
	b   []byte
	buf []byte // the session's pooled buffer b lies in, or nil
	end bool
}

func newChannel(s *Session, id uint32, name string) *Channel {
	ch := &Channel{s: s, id: id, name: name, wlock: make(chan struct{}, 1), rlock: make(chan struct{}, 1)}
	ch.send.limit = uint64(s.peerWindow)
	ch.recv.advertised = uint64(s.window)
	return ch
}

// ID returns the channel's number, unique within the session.
func (c *Channel) ID() uint32 { return c.id }

// Name returns the name the opener gave the channel.
func (c *Channel) Name() string { return c.name }

// OpenChannel opens a channel named name (1..255 bytes of UTF-8) to the peer,
// which gets it from AcceptChannel. Data may be sent at once. If the peer
// already has its MaxChannels open, it refuses the channel: writes then fail
// with ErrChannelClosed and reads return io.EOF.
func (s *Session) OpenChannel(ctx context.Context, name string) (*Channel, error) {
	if len(name) == 0 || len(name) > MaxChannelName || !utf8.ValidString(name) {
		return nil, errors.New("session: channel name must be 1..255 bytes of UTF-8")
	}
	rec := appendRecord(nil, &record{typ: typeOpen, chanID: 1, name: name})
	s.mu.Lock()
	defer s.mu.Unlock()
	for {
		switch {
		case s.err != nil:
			return nil, s.err
		case s.live >= s.cfg.MaxChannels || s.nextChanID > math.MaxUint32-2:
			return nil, ErrTooManyChannels
		}
		if s.out.empty() || s.out.bytes+len(rec) <= s.cfg.SendWindow {
			break
		}
		if err := s.waitLocked(ctx, &s.sendSig); err != nil {
			return nil, err
		}
	}
	id := s.nextChanID
	s.nextChanID += 2
	ch := newChannel(s, id, name)
	s.chans[id] = ch
	s.live++
	binaryPutChan(rec, id)
	ch.openSeq = s.queueLocked(rec)
	return ch, nil
}

// AcceptChannel waits for the next channel the peer opens.
func (s *Session) AcceptChannel(ctx context.Context) (*Channel, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for len(s.acceptQ) == 0 {
		if s.err != nil {
			return nil, s.err
		}
		if err := s.waitLocked(ctx, &s.acceptSig); err != nil {
			return nil, err
		}
	}
	ch := s.acceptQ[0]
	s.acceptQ[0] = nil
	s.acceptQ = s.acceptQ[1:]
	return ch, nil
}

func binaryPutChan(b []byte, id uint32) {
	b[9], b[10], b[11], b[12] = byte(id>>24), byte(id>>16), byte(id>>8), byte(id)
}

func lock(ctx context.Context, l chan struct{}) error {
	select {
	case l <- struct{}{}:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("session: %w", ctx.Err())
	}
}

// Send sends msg as one message: the peer's Receive returns it whole. It
// blocks while the session's send window or the channel's credit is full,
// and returns once msg is queued (see Session.Flush). msg may be reused when
// Send returns. A cancelled ctx may leave a prefix of msg sent; the peer's
// Receive then fails with io.ErrUnexpectedEOF at the channel's end.
func (c *Channel) Send(ctx context.Context, msg []byte) error {
	if len(msg) > MaxMessage {
		return fmt.Errorf("session: %d-byte message: %w", len(msg), ErrMessageTooLarge)
	}
	_, err := c.write(ctx, msg, true)
	return err
}

// Write writes p to the channel's byte stream (message boundaries are not
// kept). It blocks like Send.
func (c *Channel) Write(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	return c.write(context.Background(), p, false)
}

// write queues p as Data records, the last marked as a message end if msg.
func (c *Channel) write(ctx context.Context, p []byte, msg bool) (int, error) {
	if err := lock(ctx, c.wlock); err != nil {
		return 0, err
	}
	defer func() { <-c.wlock }()
	s := c.s
	s.mu.Lock()
	defer s.mu.Unlock()
	mid := false // a prefix of the message is queued, its end not yet
	defer func() {
		if mid { // cut short: Suspend need not wait for it
			s.midMessages--
			s.sendSig.broadcast()
		}
	}()
	n := 0
	for first := true; first || len(p) > 0; {
		if err := c.writeErrLocked(); err != nil {
			return n, err
		}
		if s.suspending && !mid {
			return n, fmt.Errorf("session: channel %q: %w", c.name, ErrSuspended)
		}
		want := min(len(p), MaxPayload)
		m := -1 // wait
		if credit := c.send.limit - c.send.sent; credit >= DataCost {
			m = int(min(uint64(want), credit-DataCost))
		}
		room := s.cfg.SendWindow - s.out.bytes - dataHdr
		if m > room && !s.out.empty() {
			if room >= minChunk {
				m = room
			} else {
				m = -1
			}
		}
		if m < 0 || m == 0 && want > 0 {
			if err := s.waitLocked(ctx, &s.sendSig); err != nil {
				return n, err
			}
			continue
		}
		r := record{typ: typeData, chanID: c.id, payload: p[:m]}
		var rec []byte
		if m >= pooledPayload {
			rec = s.bufs.get()
		} else {
			rec = make([]byte, 0, dataHdr+m)
		}
		switch {
		case msg && m == len(p):
			r.flags = dataEnd
			if mid {
				mid = false
				s.midMessages--
				s.sendSig.broadcast()
			}
		case msg && !mid:
			mid = true
			s.midMessages++
		}
		s.queueLocked(appendRecord(rec, &r))
		c.send.sent += uint64(m) + DataCost
		p = p[m:]
		n += m
		first = false
	}
	return n, nil
}

// writeErrLocked says why c cannot be written, or nil. Must hold Session.mu.
func (c *Channel) writeErrLocked() error {
	switch {
	case c.s.err != nil:
		return c.s.err
	case c.send.stopped:
		return fmt.Errorf("session: peer closed channel %q: %w", c.name, ErrChannelClosed)
	case c.send.closed:
		return fmt.Errorf("session: channel %q: %w", c.name, ErrChannelClosed)
	}
	return nil
}

// Receive returns the next message. After the peer's Close or CloseWrite it
// returns io.EOF (io.ErrUnexpectedEOF if a message was cut short). A message
// longer than MaxMessage is skipped and reported as ErrMessageTooLarge.
// Received data stays readable after the session ended; then the session's
// error is returned.
func (c *Channel) Receive(ctx context.Context) ([]byte, error) {
	if err := lock(ctx, c.rlock); err != nil {
		return nil, err
	}
	defer func() { <-c.rlock }()
	s := c.s
	s.mu.Lock()
	defer s.mu.Unlock()
	for {
		if c.closed {
			return nil, fmt.Errorf("session: channel %q: %w", c.name, ErrChannelClosed)
		}
		for len(c.recv.q) > 0 {
			ck := c.popLocked()
			if c.recv.discard {
				c.recv.discard = !ck.end
				s.bufs.put(ck.buf)
				continue
			}
			if ck.end && !c.recv.inMessage {
				if ck.b == nil {
					ck.b = []byte{}
				}
				return slices.Clip(ck.b), nil // the caller's now, pooled buffer or not
			}
			if len(c.recv.partial)+len(ck.b) > MaxMessage {
				c.recv.partial, c.recv.inMessage, c.recv.discard = nil, false, !ck.end
				return nil, fmt.Errorf("session: channel %q: %w", c.name, ErrMessageTooLarge)
			}
			c.recv.partial = append(c.recv.partial, ck.b...)
			s.bufs.put(ck.buf)
			c.recv.inMessage = true
			if ck.end {
				m := c.recv.partial
				c.recv.partial, c.recv.inMessage = nil, false
				return m, nil
			}
		}
		if c.recv.fin {
			if c.recv.inMessage {
				c.recv.partial, c.recv.inMessage = nil, false
				return nil, fmt.Errorf("session: channel %q: %w", c.name, io.ErrUnexpectedEOF)
			}
			return nil, io.EOF
		}
		if s.err != nil {
			return nil, s.err
		}
		if err := s.waitLocked(ctx, &c.sig); err != nil {
			return nil, err
		}
	}
}

// popLocked takes the first received chunk and credits the peer for it.
// Must hold Session.mu.
func (c *Channel) popLocked() chunk {
	ck := c.recv.q[0]
	c.recv.q[0] = chunk{}
	c.recv.q = c.recv.q[1:]
	if len(c.recv.q) == 0 {
		c.recv.q = nil
	}
	c.consumedLocked(len(ck.b), DataCost)
	return ck
}

// consumedLocked records that the application took n payload bytes (and
// extra credit units of record overhead) and, once enough accumulated, grants
// the peer that much more credit. Must hold Session.mu.
func (c *Channel) consumedLocked(n, extra int) {
	s := c.s
	c.recv.buffered -= n
	c.recv.consumed += uint64(n + extra)
	limit := c.recv.consumed + uint64(s.cfg.RecvBuffer)
	// limit may lie below what was advertised when a restored session runs
	// with a smaller RecvBuffer.
	if limit > c.recv.advertised && limit-c.recv.advertised >= uint64(s.cfg.RecvBuffer/4) {
		c.recv.advertised = limit
		s.queueWindowLocked(c.id, c)
	}
}

// Read reads from the channel's byte stream; message boundaries are ignored.
// It returns io.EOF after the peer's Close or CloseWrite and all its data.
func (c *Channel) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	if err := lock(context.Background(), c.rlock); err != nil {
		return 0, err
	}
	defer func() { <-c.rlock }()
	s := c.s
	s.mu.Lock()
	defer s.mu.Unlock()
	for {
		if c.closed {
			return 0, fmt.Errorf("session: channel %q: %w", c.name, ErrChannelClosed)
		}
		if len(c.recv.partial) > 0 { // left by a cancelled Receive
			n := copy(p, c.recv.partial)
			c.recv.partial = c.recv.partial[n:]
			if len(c.recv.partial) == 0 {
				c.recv.partial, c.recv.inMessage = nil, false
			}
			return n, nil
		}
		for len(c.recv.q) > 0 {
			ck := &c.recv.q[0]
			n := copy(p, ck.b)
			ck.b = ck.b[n:]
			c.consumedLocked(n, 0)
			if len(ck.b) == 0 {
				s.bufs.put(c.popLocked().buf)
			}
			if n > 0 {
				return n, nil
			}
		}
		if c.recv.fin {
			return 0, io.EOF
		}
		if s.err != nil {
			return 0, s.err
		}
		if err := s.waitLocked(context.Background(), &c.sig); err != nil {
			return 0, err
		}
	}
}

// CloseWrite ends the sending direction: the peer reads io.EOF after the data
// sent so far. The channel can still be read.
func (c *Channel) CloseWrite() error {
	s := c.s
	s.mu.Lock()
	defer s.mu.Unlock()
	c.send.closed = true
	s.finLocked(c)
	s.sendSig.broadcast()
	s.maybeRemoveLocked(c)
	return nil
}

// Close ends both directions: data sent so far still arrives and the peer
// reads io.EOF after it; data from the peer not yet read is discarded and the
// peer's further writes fail with ErrChannelClosed. Pending and later calls
// on c return ErrChannelClosed. Close is idempotent.
func (c *Channel) Close() error {
	s := c.s
	s.mu.Lock()
	defer s.mu.Unlock()
	if c.closed {
		return nil
	}
	c.closed, c.send.closed = true, true
	s.finLocked(c)
	if !c.recv.fin && s.err == nil {
		s.queueLocked(appendRecord(nil, &record{typ: typeStop, chanID: c.id}))
	}
	c.recv.q, c.recv.buffered, c.recv.partial, c.recv.inMessage = nil, 0, nil, false
	c.sig.broadcast()
	s.sendSig.broadcast()
	s.maybeRemoveLocked(c)
	return nil
}
