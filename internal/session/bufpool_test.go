package session

import (
	"bytes"
	"testing"
)

// TestOwnPayload: only a large payload read into the pooled buffer keeps the
// buffer; small payloads are copied out, so a peer sending small records
// cannot make the receiver hold a whole buffer for each.
func TestOwnPayload(t *testing.T) {
	data := func(buf []byte, n int) record {
		enc := appendRecord(buf, &record{typ: typeData, seq: 1, chanID: 1, payload: bytes.Repeat([]byte{7}, n)})
		r, err := decodeRecord(enc)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	var p bufPool

	buf := p.get()
	r := data(buf, pooledPayload)
	if left := ownPayload(&r, buf); left != nil || !inBuffer(r.buf, buf) || !inBuffer(r.payload, buf) {
		t.Fatalf("large payload: buffer returned %v, kept %v", left != nil, r.buf != nil)
	}

	buf = p.get()
	r = data(buf, pooledPayload-1)
	if left := ownPayload(&r, buf); !inBuffer(left, buf) || r.buf != nil || inBuffer(r.payload, buf) {
		t.Fatalf("small payload: buffer returned %v, kept %v, payload copied %v", left != nil, r.buf != nil, !inBuffer(r.payload, buf))
	}
	if len(r.payload) != pooledPayload-1 || cap(r.payload) >= recordBufSize {
		t.Fatalf("small payload copied into %d/%d bytes", len(r.payload), cap(r.payload))
	}

	// A transport that did not read into buf (the record was too large for
	// it, or it cannot): the payload is copied whatever its size.
	other := data(nil, MaxPayload)
	if left := ownPayload(&other, buf); !inBuffer(left, buf) || other.buf != nil {
		t.Fatal("payload outside buf was not copied")
	}
}

// TestAckedBufferWaitsForWriters: an acknowledged record's buffer is not
// recycled while a writer may still be sending it.
func TestAckedBufferWaitsForWriters(t *testing.T) {
	var s Session
	rec := s.bufs.get()[:100]
	s.sending = 2
	s.releaseLocked(rec)
	for range 100 {
		if b := s.bufs.get(); inBuffer(b, rec) {
			t.Fatal("buffer recycled while writers were sending")
		}
	}
	s.sentLocked()
	if len(s.ackedBufs) != 1 {
		t.Fatalf("released with a writer still sending: %d held", len(s.ackedBufs))
	}
	s.sentLocked()
	if len(s.ackedBufs) != 0 || s.sending != 0 {
		t.Fatalf("after the last writer: %d held, %d sending", len(s.ackedBufs), s.sending)
	}

	// Buffers not from the pool are left to the garbage collector.
	s.releaseLocked(make([]byte, 10))
	if len(s.ackedBufs) != 0 {
		t.Fatal("foreign buffer held")
	}
}
