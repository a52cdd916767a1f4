package session

import (
	"encoding/binary"
	"unicode/utf8"
)

// recordType is the first byte of every record.
type recordType uint8

// Record types. Types from 0x20 up are sequenced: they carry a sequence
// number, are retransmitted after a reconnect until acknowledged, and are
// delivered exactly once, in order.
const (
	typeHello   recordType = 0x01
	typeWelcome recordType = 0x02
	typeAck     recordType = 0x10
	typeWindow  recordType = 0x11
	typePing    recordType = 0x12
	typePong    recordType = 0x13
	typeClose   recordType = 0x14
	typeOpen    recordType = 0x20
	typeData    recordType = 0x21
	typeFin     recordType = 0x22
	typeStop    recordType = 0x23
)

func (t recordType) sequenced() bool { return t >= typeOpen }

// Flag bits.
const (
	helloResume = 0x01 // Hello: resume an existing session
	dataEnd     = 0x01 // Data: last fragment of a message
)

// Record sizes (fixed parts).
const (
	helloLen  = 1 + 1 + 1 + 16 + 8 + 4 // type, version, flags, id, next, window
	ackLen    = 1 + 8                  // type, next
	windowLen = 1 + 4 + 8              // type, channel, limit
	pingLen   = 1 + 8                  // type, nonce
	closeHdr  = 1 + 1 + 1              // type, code, reason length
	seqHdr    = 1 + 8 + 4              // type, seq, channel
	openHdr   = seqHdr + 1             // + name length
	dataHdr   = seqHdr + 1             // + flags
)

// record is one decoded session record. Which fields are meaningful depends
// on typ; see docs/PROTOCOL.md (section 9).
type record struct {
	typ recordType

	// Hello, Welcome.
	version uint8
	flags   uint8 // Hello, Data
	id      ID
	next    uint64 // Hello, Welcome, Ack
	window  uint32

	chanID uint32 // Window and sequenced records
	limit  uint64 // Window
	nonce  uint64 // Ping, Pong

	code   CloseCode
	reason string

	seq     uint64 // sequenced records
	name    string // Open
	payload []byte // Data; aliases the decoded buffer
	buf     []byte // Data: the pooled buffer payload lies in, or nil
}

func malformed(t byte, reason string) error { return &RecordError{Type: t, Reason: reason} }

// decodeRecord parses one record. Every error is a *RecordError (wrapping
// ErrProtocol). Encoding a decoded record with appendRecord reproduces b.
func decodeRecord(b []byte) (record, error) {
	var r record
	if len(b) == 0 {
		return r, malformed(0, "empty record")
	}
	if len(b) > MaxRecord {
		return r, malformed(b[0], "record too long")
	}
	r.typ = recordType(b[0])
	be := binary.BigEndian
	exact := func(n int) error {
		if len(b) != n {
			return malformed(b[0], "wrong length")
		}
		return nil
	}
	switch r.typ {
	case typeHello, typeWelcome:
		if err := exact(helloLen); err != nil {
			return r, err
		}
		r.version, r.flags = b[1], b[2]
		copy(r.id[:], b[3:19])
		r.next = be.Uint64(b[19:27])
		r.window = be.Uint32(b[27:31])
		if r.typ == typeHello && r.flags&^helloResume != 0 || r.typ == typeWelcome && r.flags != 0 {
			return r, malformed(b[0], "reserved flags set")
		}
	case typeAck:
		if err := exact(ackLen); err != nil {
			return r, err
		}
		r.next = be.Uint64(b[1:])
	case typeWindow:
		if err := exact(windowLen); err != nil {
			return r, err
		}
		r.chanID = be.Uint32(b[1:5])
		r.limit = be.Uint64(b[5:13])
	case typePing, typePong:
		if err := exact(pingLen); err != nil {
			return r, err
		}
		r.nonce = be.Uint64(b[1:])
	case typeClose:
		if len(b) < closeHdr || len(b) != closeHdr+int(b[2]) {
			return r, malformed(b[0], "wrong length")
		}
		r.code = CloseCode(b[1])
		r.reason = string(b[closeHdr:])
	case typeOpen, typeData, typeFin, typeStop:
		if len(b) < seqHdr {
			return r, malformed(b[0], "too short")
		}
		r.seq = be.Uint64(b[1:9])
		r.chanID = be.Uint32(b[9:13])
		if r.chanID == 0 {
			return r, malformed(b[0], "channel 0")
		}
		switch r.typ {
		case typeOpen:
			if len(b) < openHdr || len(b) != openHdr+int(b[seqHdr]) {
				return r, malformed(b[0], "wrong length")
			}
			name := b[openHdr:]
			if len(name) == 0 || !utf8.Valid(name) {
				return r, malformed(b[0], "bad channel name")
			}
			r.name = string(name)
		case typeData:
			if len(b) < dataHdr {
				return r, malformed(b[0], "too short")
			}
			r.flags = b[seqHdr]
			if r.flags&^dataEnd != 0 {
				return r, malformed(b[0], "reserved flags set")
			}
			r.payload = b[dataHdr:]
			if len(r.payload) > MaxPayload {
				return r, malformed(b[0], "payload too long")
			}
		default:
			if err := exact(seqHdr); err != nil {
				return r, err
			}
		}
	default:
		return r, malformed(b[0], "unknown type")
	}
	return r, nil
}

// appendRecord appends the encoding of r to dst.
func appendRecord(dst []byte, r *record) []byte {
	be := binary.BigEndian
	dst = append(dst, byte(r.typ))
	switch r.typ {
	case typeHello, typeWelcome:
		dst = append(dst, r.version, r.flags)
		dst = append(dst, r.id[:]...)
		dst = be.AppendUint64(dst, r.next)
		dst = be.AppendUint32(dst, r.window)
	case typeAck:
		dst = be.AppendUint64(dst, r.next)
	case typeWindow:
		dst = be.AppendUint32(dst, r.chanID)
		dst = be.AppendUint64(dst, r.limit)
	case typePing, typePong:
		dst = be.AppendUint64(dst, r.nonce)
	case typeClose:
		reason := r.reason
		if len(reason) > MaxCloseReason {
			reason = reason[:MaxCloseReason]
		}
		dst = append(dst, byte(r.code), byte(len(reason)))
		dst = append(dst, reason...)
	default:
		dst = be.AppendUint64(dst, r.seq)
		dst = be.AppendUint32(dst, r.chanID)
		switch r.typ {
		case typeOpen:
			dst = append(dst, byte(len(r.name)))
			dst = append(dst, r.name...)
		case typeData:
			dst = append(dst, r.flags)
			dst = append(dst, r.payload...)
		}
	}
	return dst
}

// setSeq writes seq into an encoded sequenced record.
func setSeq(b []byte, seq uint64) { binary.BigEndian.PutUint64(b[1:9], seq) }
