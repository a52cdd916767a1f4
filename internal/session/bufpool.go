package session

import (
	"bytes"
	"sync"
)

// Bulk data moves in full Data records. Allocating (and zeroing, and later
// collecting) 64 KiB for every record on both sides cost more than a tenth of
// a session's CPU time in BenchmarkSessionBulk, so records of at least
// pooledPayload bytes travel in buffers recycled through a bufPool: on the
// sending side from the Write that queues them until their Ack, on the
// receiving side from the transport's read until the application read them.
const (
	// pooledPayload is the smallest payload given a pooled buffer. Smaller
	// records are copied into buffers of their own size, so a peer sending
	// small records cannot make the receiver hold a whole buffer for each
	// (the flow-control credit counts payload bytes, not buffer capacity).
	pooledPayload = MaxPayload / 2
	// recordBufSize is the capacity of a pooled buffer: the largest record
	// plus room for what a transport puts around it (frame header, ratchet
	// header and tag) when it decrypts in place.
	recordBufSize = MaxRecord + 128
	// bulkLinger: a reader keeps reading into pooled buffers until this many
	// records passed without a large one (a stream's smaller records and the
	// peer's control records come between large ones).
	bulkLinger = 8
)

// bufPool recycles record buffers of capacity recordBufSize. The zero value
// is ready to use.
type bufPool struct{ p sync.Pool }

// get returns an empty buffer of capacity recordBufSize.
func (p *bufPool) get() []byte {
	if b, ok := p.p.Get().(*[]byte); ok {
		return (*b)[:0]
	}
	return make([]byte, 0, recordBufSize)
}

// put recycles b, which must come from get (or be nil). Nothing may use b
// afterwards.
func (p *bufPool) put(b []byte) {
	if cap(b) != recordBufSize {
		return
	}
	b = b[:0]
	p.p.Put(&b)
}

// inBuffer reports whether b lies in buf's backing array and reaches to its
// end, as a record a transport decrypted in place in buf does.
func inBuffer(b, buf []byte) bool {
	return cap(b) > 0 && cap(buf) > 0 && &b[:cap(b)][cap(b)-1] == &buf[:cap(buf)][cap(buf)-1]
}

// ownPayload makes the payload of Data record r outlive the transport's next
// Recv. A large payload read into the pooled buffer buf keeps buf (r.buf), and
// ownPayload returns nil: the reader needs a new buffer. Anything else is
// copied and buf returned for the next read.
func ownPayload(r *record, buf []byte) []byte {
	if len(r.payload) >= pooledPayload && inBuffer(r.payload, buf) {
		r.buf = buf
		return nil
	}
	r.payload = bytes.Clone(r.payload)
	return buf
}

// bufferedReceiver is implemented by transports that can read a record into a
// buffer the caller owns (securelink.Link, sessiontest.Conn), so a large
// record can be kept without a copy.
type bufferedReceiver interface {
	// RecvInto is Recv, reading into buf when the record fits: the result
	// then lies in buf's backing array and lives as long as buf.
	RecvInto(buf []byte) ([]byte, error)
}
