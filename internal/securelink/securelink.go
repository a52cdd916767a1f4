// Package securelink turns a connection on which a Noise handshake succeeded
// into a record transport encrypted with the Double Ratchet: every record is
// one frame holding one ratchet message.
package securelink

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"

	"github.com/cairn-dev/cairn/internal/frame"
	"github.com/cairn-dev/cairn/internal/handshake"
	"github.com/cairn-dev/cairn/internal/ratchet"
	"github.com/cairn-dev/cairn/internal/wire"
)

// MaxBadFrames is how many frames that fail to authenticate a link tolerates
// before it gives up on the peer: a few can be line noise or an injected
// packet, many mean an attacker or a broken peer.
const MaxBadFrames = 32

// ErrTooManyBadFrames is returned by Recv once MaxBadFrames were dropped.
var ErrTooManyBadFrames = errors.New("too many frames failed to authenticate")

// associatedData binds every ratchet message to this protocol and role.
var associatedData = []byte("cairn-session-v1")

// Link is an encrypted record transport over one connection.
type Link struct {
	conn net.Conn
	r    *frame.Reader
	log  *slog.Logger

	ratchet struct {
		sync.Mutex
		st *ratchet.State
	}
	send struct {
		sync.Mutex
		buf []byte
	}
	bad    atomic.Int64
	closed atomic.Bool
}

// New starts the Double Ratchet from a finished handshake. initiator is true
// on the side that ran the Noise initiator; that side may send first, the
// other only after its first Recv.
func New(conn net.Conn, r *frame.Reader, res *handshake.Result, initiator bool, log *slog.Logger) (*Link, error) {
	var (
		st  *ratchet.State
		err error
	)
	if initiator {
		st, err = ratchet.NewInitiator(res.SharedSecret, res.RatchetRemote, ratchet.Config{})
	} else {
		st, err = ratchet.NewResponder(res.SharedSecret, res.RatchetPrivate, ratchet.Config{})
	}
	if err != nil {
		return nil, fmt.Errorf("failed to start the ratchet: %w", err)
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	l := &Link{conn: conn, r: r, log: log}
	l.ratchet.st = st
	return l, nil
}

// Send encrypts and writes one record.
func (l *Link) Send(record []byte) error {
	// Checked before sealing: a record sealed and then not sent would cost
	// the peer a skipped key.
	if size := 1 + len(record) + ratchet.Overhead(); size > frame.MaxFrameSize {
		return fmt.Errorf("failed to send: %w", &frame.TooLargeError{Size: int64(size), Max: frame.MaxFrameSize})
	}
	l.send.Lock()
	defer l.send.Unlock()
	// Seal straight after room for the frame header, so the record is
	// copied once (by the cipher) and written with one call.
	var hdr [frame.HeaderSize + 1]byte
	l.ratchet.Lock()
	msg, err := l.ratchet.st.Seal(append(l.send.buf[:0], hdr[:]...), record, associatedData)
	l.ratchet.Unlock()
	if err != nil {
		return fmt.Errorf("failed to encrypt: %w", err)
	}
	l.send.buf = msg
	binary.BigEndian.PutUint32(msg, uint32(len(msg)-frame.HeaderSize)) // type byte + body
	msg[frame.HeaderSize] = byte(frame.TypeRatchet)
	if _, err := l.conn.Write(msg); err != nil {
		return fmt.Errorf("failed to send: %w", err)
	}
	return nil
}

// RecvOverhead is how many bytes of a buffer passed to RecvInto go to
// framing and the ratchet rather than the record.
const RecvOverhead = 1 + ratchet.HeaderSize + ratchet.TagSize

// Recv reads and decrypts the next record. Frames that fail to authenticate
// (forged, replayed, corrupted) are dropped and counted; the link goes on
// until MaxBadFrames. The record is valid until the next Recv or RecvInto.
func (l *Link) Recv() ([]byte, error) { return l.RecvInto(nil) }

// RecvInto is Recv, reading and decrypting in place in buf when the frame
// fits in cap(buf) (a record of up to cap(buf)-RecvOverhead bytes): the record
// then aliases buf and the caller may keep it without a copy.
func (l *Link) RecvInto(buf []byte) ([]byte, error) {
	for {
		typ, body, err := l.r.ReadFrameInto(buf)
		if err != nil {
			if errors.Is(err, io.EOF) || l.closed.Load() {
				return nil, fmt.Errorf("connection closed: %w", err)
			}
			return nil, fmt.Errorf("failed to read: %w", err)
		}
		switch typ {
		case frame.TypeRatchet:
		case frame.TypeReject:
			rej, err := wire.ParseReject(body)
			if err != nil {
				return nil, err
			}
			return nil, rej
		default:
			if l.dropBad("unexpected frame type", nil) {
				return nil, ErrTooManyBadFrames
			}
			continue
		}
		// Decrypt in place: body stays valid until the next read (or as
		// long as buf), which is as long as the result must.
		var pt []byte
		if len(body) >= ratchet.HeaderSize {
			l.ratchet.Lock()
			pt, err = l.ratchet.st.Open(body[ratchet.HeaderSize:ratchet.HeaderSize], body, associatedData)
			l.ratchet.Unlock()
		} else {
			err = ratchet.ErrMalformed
		}
		if err != nil {
			if l.dropBad("frame failed to authenticate", err) {
				return nil, ErrTooManyBadFrames
			}
			continue
		}
		return pt, nil
	}
}

// dropBad counts a bad frame and reports whether the link should give up.
func (l *Link) dropBad(why string, err error) bool {
	n := l.bad.Add(1)
	l.log.Warn("dropped bad frame", "why", why, "err", err, "count", n)
	return n >= MaxBadFrames
}

// BadFrames returns how many frames were dropped.
func (l *Link) BadFrames() int64 { return l.bad.Load() }

// Close closes the connection and destroys the ratchet keys.
func (l *Link) Close() error {
	if l.closed.Swap(true) {
		return nil
	}
	err := l.conn.Close()
	l.ratchet.Lock()
	l.ratchet.st.Destroy()
	l.ratchet.Unlock()
	return err
}
