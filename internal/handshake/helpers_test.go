package handshake

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"io"
	"net"
	"testing"

	"github.com/cairn-dev/cairn/identity"
)

// detRand is a deterministic byte stream: SHA-256(label || u64be(counter))
// blocks. For vectors only.
type detRand struct {
	label string
	ctr   uint64
	buf   []byte
}

func newDetRand(label string) *detRand { return &detRand{label: label} }

func (d *detRand) Read(p []byte) (int, error) {
	n := len(p)
	for len(p) > 0 {
		if len(d.buf) == 0 {
			h := sha256.New()
			h.Write([]byte(d.label))
			h.Write(binary.BigEndian.AppendUint64(nil, d.ctr))
			d.ctr++
			d.buf = h.Sum(nil)
		}
		c := copy(p, d.buf)
		p, d.buf = p[c:], d.buf[c:]
	}
	return n, nil
}

func testIdentity(t testing.TB, label string) *identity.Identity {
	t.Helper()
	id, err := identity.Generate(newDetRand("identity " + label))
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func testPSK(label string) []byte {
	s := sha256.Sum256([]byte("psk " + label))
	return s[:]
}

type outcome struct {
	res *Result
	err error
}

// runPair runs both sides over the two ends of a connection and returns
// both outcomes; the initiator's first.
func runPair(ctx context.Context, ci, cr io.ReadWriteCloser, icfg, rcfg Config) (outcome, outcome) {
	done := make(chan outcome, 1)
	go func() {
		res, err := Responder(ctx, cr, rcfg)
		if err != nil {
			cr.Close() // like a caller: a failed side hangs up
		}
		done <- outcome{res, err}
	}()
	res, err := Initiator(ctx, ci, icfg)
	if err != nil {
		ci.Close()
	}
	return outcome{res, err}, <-done
}

// tcpPair returns the two ends of a loopback TCP connection.
func tcpPair(t *testing.T) (net.Conn, net.Conn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	type acc struct {
		c   net.Conn
		err error
	}
	ch := make(chan acc, 1)
	go func() {
		c, err := ln.Accept()
		ch <- acc{c, err}
	}()
	c1, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	a := <-ch
	if a.err != nil {
		c1.Close()
		t.Fatal(a.err)
	}
	t.Cleanup(func() { c1.Close(); a.c.Close() })
	return c1, a.c
}

type transport struct {
	name string
	pair func(t *testing.T) (net.Conn, net.Conn)
}

var transports = []transport{
	{"pipe", func(t *testing.T) (net.Conn, net.Conn) {
		a, b := net.Pipe()
		t.Cleanup(func() { a.Close(); b.Close() })
		return a, b
	}},
	{"tcp", tcpPair},
}
