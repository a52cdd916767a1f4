// Package sessiontest provides in-memory and loopback transports for testing
// the session layer: framed connections without encryption, and a wrapper
// that injects faults (cuts, stalls, delays).
package sessiontest

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"

	"github.com/cairn-dev/cairn/internal/session"
)

// ErrRecordTooLarge is returned for a record longer than session.MaxRecord.
var ErrRecordTooLarge = errors.New("sessiontest: record too large")

// Conn is a session.Transport over a stream connection: every record is sent
// as a 4-byte big-endian length and the record. No encryption.
type Conn struct {
	c    net.Conn
	wbuf []byte
	rbuf []byte
	hdr  [4]byte
	once sync.Once
	err  error
}

var _ session.Transport = (*Conn)(nil)

// NewConn frames records over c.
func NewConn(c net.Conn) *Conn { return &Conn{c: c} }

// Send writes one record.
func (c *Conn) Send(record []byte) error {
	if len(record) > session.MaxRecord {
		return ErrRecordTooLarge
	}
	c.wbuf = binary.BigEndian.AppendUint32(c.wbuf[:0], uint32(len(record)))
	c.wbuf = append(c.wbuf, record...)
	_, err := c.c.Write(c.wbuf)
	return err
}

// Recv reads one record; the slice is valid until the next Recv.
func (c *Conn) Recv() ([]byte, error) {
	b, err := c.RecvInto(c.rbuf)
	if err == nil && cap(b) > cap(c.rbuf) {
		c.rbuf = b
	}
	return b, err
}

// RecvInto reads one record into buf if it fits in cap(buf), else into a new
// slice, as a session's transports may.
func (c *Conn) RecvInto(buf []byte) ([]byte, error) {
	if _, err := io.ReadFull(c.c, c.hdr[:]); err != nil {
		return nil, err
	}
	n := binary.BigEndian.Uint32(c.hdr[:])
	if n > session.MaxRecord {
		return nil, fmt.Errorf("%w: %d bytes", ErrRecordTooLarge, n)
	}
	if cap(buf) < int(n) {
		buf = make([]byte, n)
	}
	buf = buf[:n]
	if _, err := io.ReadFull(c.c, buf); err != nil {
		return nil, err
	}
	return buf, nil
}

// Close closes the connection; it is idempotent.
func (c *Conn) Close() error {
	c.once.Do(func() { c.err = c.c.Close() })
	return c.err
}

// Pipe returns the two ends of an in-memory transport (net.Pipe, framed).
func Pipe() (session.Transport, session.Transport) {
	a, b := net.Pipe()
	return NewConn(a), NewConn(b)
}

// TCP returns the two ends of a framed transport over a loopback TCP
// connection (127.0.0.1).
func TCP() (dialer, acceptor session.Transport, err error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, nil, err
	}
	defer ln.Close()
	a, b, err := TCPConns(ln)
	if err != nil {
		return nil, nil, err
	}
	return NewConn(a), NewConn(b), nil
}

// TCPConns dials ln (a loopback listener) and returns both ends.
func TCPConns(ln net.Listener) (dialed, accepted net.Conn, err error) {
	type res struct {
		c   net.Conn
		err error
	}
	ch := make(chan res, 1)
	go func() {
		c, err := ln.Accept()
		ch <- res{c, err}
	}()
	a, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		ln.Close()
		<-ch
		return nil, nil, err
	}
	r := <-ch
	if r.err != nil {
		a.Close()
		return nil, nil, r.err
	}
	return a, r.c, nil
}
