package session

import (
	"encoding/binary"
	"fmt"
	"unicode/utf8"
)

// Saved state encoding (see Suspend, Restore and docs/PROTOCOL.md section 9,
// "Suspend and restore"). All integers are big-endian:
//
//	magic        "cses" (4) · version u8 (= 2)
//	role         u8 (1 dialer, 2 acceptor)
//	session_id   [16]
//	peer_window  u32
//	window       u32   the window this side announced: a new channel's credit
//	recv_next    u64   next sequence number expected from the peer
//	out_base     u64   sequence number of the first unacknowledged record
//	next_chan    u32   next id for a channel this side opens
//	last_peer    u32   highest id of a channel the peer opened
//	n_records    u32, then per record: len u32 · record (sequenced, seq = out_base + i)
//	n_channels   u32, then per channel, in increasing id order:
//	  id u32 · flags u16 · name_len u8 · name
//	  sent u64 · limit u64 · received u64 · consumed u64 · advertised u64
//	  partial_len u32 · partial
//	  n_chunks u32, then per chunk: end u8 (0 or 1) · len u32 · bytes
//
// The decoder is strict: every count is bounded by the bytes left, reserved
// flag bits, unsorted channels, inconsistent counters and trailing bytes are
// refused with a *StateError. Decoding then encoding reproduces the input.
const (
	stateMagic   = "cses"
	stateVersion = 2 // 2 added window
	// stateHdrLen is the fixed part before the records.
	stateHdrLen = 4 + 1 + 1 + 16 + 4 + 4 + 8 + 8 + 4 + 4
	// minChanLen is the smallest encoding of a channel (one-byte name, no
	// data), used to bound the channel count by the input length.
	minChanLen = 4 + 2 + 1 + 1 + 5*8 + 4 + 4
	// chunkHdr is the fixed part of a saved chunk.
	chunkHdr = 1 + 4
)

// Channel flag bits in the saved state.
const (
	stClosed     = 1 << iota // the application closed the channel
	stRefused                // refused at MaxChannels
	stPending                // not yet returned by AcceptChannel
	stSendClosed             // CloseWrite or Close called
	stFinSent                // our Fin is queued
	stStopped                // the peer sent Stop
	stRecvFin                // the peer's Fin arrived
	stInMessage              // partial holds the start of a message
	stDiscard                // skipping the rest of a too-large message
	stAllFlags   = 1<<iota - 1
)

// savedState is a suspended session, as encoded by appendState.
type savedState struct {
	role       Role
	id         ID
	peerWindow uint32
	window     uint32
	recvNext   uint64
	outBase    uint64
	out        [][]byte // encoded sequenced records, from outBase on
	nextChanID uint32
	lastPeerID uint32
	chans      []savedChannel // increasing id
}

type savedChannel struct {
	id         uint32
	flags      uint16
	name       string
	sent       uint64
	limit      uint64
	received   uint64
	consumed   uint64
	advertised uint64
	partial    []byte
	q          []chunk
}

func (c *savedChannel) has(f uint16) bool { return c.flags&f != 0 }

func appendState(dst []byte, st *savedState) []byte {
	be := binary.BigEndian
	dst = append(dst, stateMagic...)
	dst = append(dst, stateVersion, byte(st.role))
	dst = append(dst, st.id[:]...)
	dst = be.AppendUint32(dst, st.peerWindow)
	dst = be.AppendUint32(dst, st.window)
	dst = be.AppendUint64(dst, st.recvNext)
	dst = be.AppendUint64(dst, st.outBase)
	dst = be.AppendUint32(dst, st.nextChanID)
	dst = be.AppendUint32(dst, st.lastPeerID)
	dst = be.AppendUint32(dst, uint32(len(st.out)))
	for _, r := range st.out {
		dst = be.AppendUint32(dst, uint32(len(r)))
		dst = append(dst, r...)
	}
	dst = be.AppendUint32(dst, uint32(len(st.chans)))
	for i := range st.chans {
		c := &st.chans[i]
		dst = be.AppendUint32(dst, c.id)
		dst = be.AppendUint16(dst, c.flags)
		dst = append(dst, byte(len(c.name)))
		dst = append(dst, c.name...)
		for _, v := range []uint64{c.sent, c.limit, c.received, c.consumed, c.advertised} {
			dst = be.AppendUint64(dst, v)
		}
		dst = be.AppendUint32(dst, uint32(len(c.partial)))
		dst = append(dst, c.partial...)
		dst = be.AppendUint32(dst, uint32(len(c.q)))
		for _, ck := range c.q {
			end := byte(0)
			if ck.end {
				end = 1
			}
			dst = append(dst, end)
			dst = be.AppendUint32(dst, uint32(len(ck.b)))
			dst = append(dst, ck.b...)
		}
	}
	return dst
}

// stateReader reads a saved state; the first error sticks.
type stateReader struct {
	b   []byte
	err error
}

func (r *stateReader) fail(format string, args ...any) {
	if r.err == nil {
		r.err = &StateError{Reason: fmt.Sprintf(format, args...)}
	}
}

func (r *stateReader) take(n int, what string) []byte {
	if r.err != nil {
		return nil
	}
	if n < 0 || n > len(r.b) {
		r.fail("truncated %s", what)
		return nil
	}
	b := r.b[:n:n]
	r.b = r.b[n:]
	return b
}

func (r *stateReader) u8(what string) uint8 {
	if b := r.take(1, what); b != nil {
		return b[0]
	}
	return 0
}

func (r *stateReader) u16(what string) uint16 {
	if b := r.take(2, what); b != nil {
		return binary.BigEndian.Uint16(b)
	}
	return 0
}

func (r *stateReader) u32(what string) uint32 {
	if b := r.take(4, what); b != nil {
		return binary.BigEndian.Uint32(b)
	}
	return 0
}

func (r *stateReader) u64(what string) uint64 {
	if b := r.take(8, what); b != nil {
		return binary.BigEndian.Uint64(b)
	}
	return 0
}

// count reads a u32 count of items each at least min bytes long and checks
// that many fit in what is left.
func (r *stateReader) count(min int, what string) int {
	n := r.u32(what + " count")
	if r.err == nil && uint64(n)*uint64(min) > uint64(len(r.b)) {
		r.fail("%d %s do not fit in %d bytes", n, what, len(r.b))
		return 0
	}
	return int(n)
}

// decodeState parses a saved state. Every error is a *StateError. The
// returned state aliases data.
func decodeState(data []byte) (*savedState, error) {
	r := &stateReader{b: data}
	if string(r.take(len(stateMagic), "magic")) != stateMagic {
		r.fail("not a saved session state")
	}
	if v := r.u8("version"); r.err == nil && v != stateVersion {
		r.fail("unsupported version %d", v)
	}
	st := &savedState{role: Role(r.u8("role"))}
	if r.err == nil && st.role != Dialer && st.role != Acceptor {
		r.fail("bad role %d", st.role)
	}
	copy(st.id[:], r.take(16, "session id"))
	st.peerWindow = r.u32("peer window")
	if r.err == nil && checkWindow(st.peerWindow) != nil {
		r.fail("peer window %d out of range", st.peerWindow)
	}
	st.window = r.u32("window")
	if r.err == nil && checkWindow(st.window) != nil {
		r.fail("window %d out of range", st.window)
	}
	st.recvNext = r.u64("receive sequence")
	st.outBase = r.u64("send sequence")
	st.nextChanID = r.u32("next channel")
	st.lastPeerID = r.u32("last peer channel")
	if r.err != nil {
		return nil, r.err
	}
	own := func(id uint32) bool { return id%2 == 1 == (st.role == Dialer) }
	switch {
	case st.nextChanID == 0 || !own(st.nextChanID):
		r.fail("next channel id %d of the wrong side", st.nextChanID)
	case st.lastPeerID != 0 && own(st.lastPeerID):
		r.fail("last peer channel id %d of the wrong side", st.lastPeerID)
	}
	n := r.count(4+seqHdr, "records")
	if r.err == nil && st.outBase+uint64(n) < st.outBase {
		r.fail("send sequence overflows")
	}
	if r.err == nil && n > 0 {
		st.out = make([][]byte, 0, n)
	}
	for i := 0; i < n && r.err == nil; i++ {
		l := r.u32("record length")
		if r.err == nil && l > MaxRecord {
			r.fail("record %d is %d bytes", i, l)
		}
		b := r.take(int(l), "record")
		if r.err != nil {
			break
		}
		rec, err := decodeRecord(b)
		switch {
		case err != nil:
			r.fail("record %d: %v", i, err)
		case !rec.typ.sequenced():
			r.fail("record %d is not sequenced", i)
		case rec.seq != st.outBase+uint64(i):
			r.fail("record %d has sequence %d, want %d", i, rec.seq, st.outBase+uint64(i))
		}
		st.out = append(st.out, b)
	}
	n = r.count(minChanLen, "channels")
	if r.err == nil && n > 0 {
		st.chans = make([]savedChannel, 0, n)
	}
	for i := 0; i < n && r.err == nil; i++ {
		c := decodeChannel(r)
		if r.err != nil {
			break
		}
		switch {
		case len(st.chans) > 0 && c.id <= st.chans[len(st.chans)-1].id:
			r.fail("channel %d out of order", c.id)
		case own(c.id) && c.id >= st.nextChanID:
			r.fail("channel %d at or above the next id %d", c.id, st.nextChanID)
		case !own(c.id) && c.id > st.lastPeerID:
			r.fail("peer channel %d above the last peer id %d", c.id, st.lastPeerID)
		}
		st.chans = append(st.chans, c)
	}
	if r.err == nil && len(r.b) != 0 {
		r.fail("%d trailing bytes", len(r.b))
	}
	if r.err != nil {
		return nil, r.err
	}
	return st, nil
}

func decodeChannel(r *stateReader) savedChannel {
	var c savedChannel
	c.id = r.u32("channel id")
	c.flags = r.u16("channel flags")
	name := r.take(int(r.u8("name length")), "channel name")
	c.name = string(name)
	c.sent = r.u64("sent")
	c.limit = r.u64("limit")
	c.received = r.u64("received")
	c.consumed = r.u64("consumed")
	c.advertised = r.u64("advertised")
	pl := r.u32("partial length")
	if r.err == nil && pl > MaxMessage {
		r.fail("channel %d: partial message of %d bytes", c.id, pl)
	}
	if pl > 0 {
		c.partial = r.take(int(pl), "partial message")
	}
	n := r.count(chunkHdr, "chunks")
	if r.err == nil && n > 0 {
		c.q = make([]chunk, 0, n)
	}
	var held uint64
	for i := 0; i < n && r.err == nil; i++ {
		end := r.u8("chunk flag")
		l := r.u32("chunk length")
		if r.err == nil && (end > 1 || l > MaxPayload) {
			r.fail("channel %d: bad chunk", c.id)
		}
		b := r.take(int(l), "chunk")
		if r.err != nil {
			break
		}
		c.q = append(c.q, chunk{b: b, end: end == 1})
		held += uint64(l) + DataCost
	}
	if r.err != nil {
		return c
	}
	closed := c.has(stClosed)
	switch {
	case c.id == 0:
		r.fail("channel 0")
	case len(name) == 0 || !utf8.Valid(name):
		r.fail("channel %d: bad name", c.id)
	case c.flags&^stAllFlags != 0:
		r.fail("channel %d: reserved flags 0x%04x", c.id, c.flags)
	case c.has(stRefused) && !(closed && c.has(stSendClosed)):
		r.fail("channel %d: refused but open", c.id)
	case closed && (!c.has(stSendClosed) || c.has(stPending)):
		r.fail("channel %d: closed but writable or pending", c.id)
	case c.has(stFinSent) && !c.has(stSendClosed) && !c.has(stStopped):
		r.fail("channel %d: Fin sent while writable", c.id)
	case (c.has(stSendClosed) || c.has(stStopped)) && !c.has(stFinSent):
		r.fail("channel %d: closed without a Fin", c.id)
	case closed && c.has(stRecvFin):
		r.fail("channel %d: finished channel kept", c.id)
	case c.sent > c.limit:
		r.fail("channel %d: sent %d beyond the limit %d", c.id, c.sent, c.limit)
	case c.received > c.advertised:
		r.fail("channel %d: received %d beyond the credit %d", c.id, c.received, c.advertised)
	case closed && (len(c.q) > 0 || len(c.partial) > 0 || c.has(stInMessage|stDiscard)):
		r.fail("channel %d: closed with data", c.id)
	case !closed && (c.consumed > c.received || c.received-c.consumed != held):
		r.fail("channel %d: counters do not match the buffered data", c.id)
	case len(c.partial) > 0 && !c.has(stInMessage):
		r.fail("channel %d: partial data outside a message", c.id)
	case c.has(stInMessage) && c.has(stDiscard):
		r.fail("channel %d: both in and skipping a message", c.id)
	}
	return c
}
