package session

import "encoding/binary"

// sendQueue holds the sequenced records sent (or waiting to be sent) and not
// yet acknowledged, in sequence order. It is both the send queue and the
// retransmission buffer: each transport's writer walks it from its own cursor.
// Its size is bounded by Config.SendWindow (plus a few small control records).
type sendQueue struct {
	recs  [][]byte // encoded records; recs[i] has sequence number base+i
	head  int      // recs[:head] are acknowledged and released
	base  uint64   // sequence number of recs[head]
	bytes int      // total size of recs[head:]
}

// next is the sequence number the next pushed record gets.
func (q *sendQueue) next() uint64 { return q.base + uint64(len(q.recs)-q.head) }

func (q *sendQueue) push(b []byte) uint64 {
	seq := q.next()
	setSeq(b, seq)
	q.recs = append(q.recs, b)
	q.bytes += len(b)
	return seq
}

// get returns the record with sequence number seq, which must be in
// [base, next).
func (q *sendQueue) get(seq uint64) []byte { return q.recs[q.head+int(seq-q.base)] }

// ackTo releases every record below seq (base <= seq <= next), passing each
// to release.
func (q *sendQueue) ackTo(seq uint64, release func([]byte)) {
	for q.base < seq {
		release(q.recs[q.head])
		q.bytes -= len(q.recs[q.head])
		q.recs[q.head] = nil
		q.head++
		q.base++
	}
	if q.head > 64 && q.head*2 > len(q.recs) {
		n := copy(q.recs, q.recs[q.head:])
		clear(q.recs[n:])
		q.recs = q.recs[:n]
		q.head = 0
	}
}

// queuedOpens maps each channel whose Open record is still queued (not yet
// acknowledged) to the Open's sequence number.
func (q *sendQueue) queuedOpens() map[uint32]uint64 {
	m := make(map[uint32]uint64)
	for i, b := range q.recs[q.head:] {
		if recordType(b[0]) == typeOpen && len(b) >= seqHdr {
			m[binary.BigEndian.Uint32(b[9:13])] = q.base + uint64(i)
		}
	}
	return m
}

func (q *sendQueue) empty() bool { return q.head == len(q.recs) }
