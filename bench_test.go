package cairn

// Benchmarks of the Node API on loopback, each beside its baseline in the
// same run. Reproduce with:
//
//	go test -run '^$' -bench . -benchmem -count 3 .
//
// docs/BENCHMARKS.md records the figures.

import (
	"context"
	"crypto/cipher"
	"encoding/binary"
	"io"
	"net"
	"testing"

	"github.com/cairn-dev/cairn/identity"
	"github.com/cairn-dev/cairn/internal/frame"
	"github.com/cairn-dev/cairn/internal/pairproto"
	"github.com/cairn-dev/cairn/relay"
	"github.com/cairn-dev/cairn/relay/relaytest"
	"golang.org/x/crypto/chacha20poly1305"
)

// unpairQuietly removes the peers a benchmark iteration paired, off the
// clock, so the trust store does not grow with b.N.
func unpairQuietly(b *testing.B, x, y *Node) {
	b.StopTimer()
	if err := x.store.DeletePeer(y.PeerID()); err != nil {
		b.Fatal(err)
	}
	if err := y.store.DeletePeer(x.PeerID()); err != nil {
		b.Fatal(err)
	}
	b.StartTimer()
}

// loopPairings pairs y with x b.N times: x shows a code, y enters it.
func loopPairings(b *testing.B, x, y *Node, show func(context.Context) (*Pairing, string, error), enter func(context.Context, string) (PeerID, error)) {
	ctx := context.Background()
	for b.Loop() {
		p, code, err := show(ctx)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := enter(ctx, code); err != nil {
			b.Fatal(err)
		}
		if _, err := p.Wait(ctx); err != nil {
			b.Fatal(err)
		}
		unpairQuietly(b, x, y)
	}
}

// BenchmarkPairing is one complete pairing between two nodes on loopback,
// from generating the code to both trust stores written (no human).
func BenchmarkPairing(b *testing.B) {
	b.Run("pin-relay", func(b *testing.B) {
		url, _ := relaytest.Start(b, relay.Config{LookupRate: 1e6, LookupBurst: 1e6})
		x := newTestNode(b, WithRelay(url))
		y := newTestNode(b, WithRelay(url))
		loopPairings(b, x, y, func(ctx context.Context) (*Pairing, string, error) {
			p, err := x.PairGeneratePin(ctx)
			if err != nil {
				return nil, "", err
			}
			return &p.Pairing, p.Pin, nil
		}, y.PairEnterPin)
	})
	b.Run("link-direct", func(b *testing.B) {
		x := newTestNode(b)
		y := newTestNode(b)
		loopPairings(b, x, y, func(ctx context.Context) (*Pairing, string, error) {
			l, err := x.PairGenerateLink(ctx)
			if err != nil {
				return nil, "", err
			}
			return &l.Pairing, l.URI, nil
		}, y.PairFromLink)
	})
	// Baseline: the pairing protocol alone (SPAKE2, key confirmation, Noise
	// XXpsk3, commit) between two goroutines over an in-memory pipe: its
	// crypto and encoding, with no network, no discovery and no disk.
	b.Run("baseline-protocol-in-memory", func(b *testing.B) {
		idI, _ := identity.Generate(nil)
		idR, _ := identity.Generate(nil)
		pw := []byte("K3XQ7PMA")
		for b.Loop() {
			ci, cr := net.Pipe()
			done := make(chan error, 1)
			go func() {
				r := frame.NewReader(ci, frame.MaxFrameSize)
				if _, _, err := r.ReadFrame(); err != nil { // the Hello
					done <- err
					return
				}
				_, err := pairproto.Initiate(context.Background(), ci, r,
					pairproto.Config{Password: pw, Identity: idI}, func(*pairproto.Outcome) error { return nil })
				done <- err
			}()
			if _, err := pairproto.Respond(context.Background(), cr, "pin-K3X", pairproto.Config{Password: pw, Identity: idR}); err != nil {
				b.Fatal(err)
			}
			if err := <-done; err != nil {
				b.Fatal(err)
			}
			ci.Close()
			cr.Close()
		}
	})
}

// connectedPair returns a session between two paired nodes, dialled with
// dial, and the acceptor's end.
func connectedPair(b *testing.B, viaRelay bool) (*Session, *Session) {
	b.Helper()
	url, _ := relaytest.Start(b, relay.Config{})
	x := newTestNode(b, WithRelay(url))
	y := newTestNode(b, WithRelay(url))
	pairByPIN(b, x, y)
	acc := acceptOne(b, x)
	ctx := testCtx(b)
	var s *Session
	var err error
	if viaRelay {
		s, err = y.Connect(ctx, x.PeerID())
	} else {
		s, err = y.ConnectAddr(ctx, x.PeerID(), x.Addr().String())
	}
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	return s, <-acc
}

const bulkChunk = 256 << 10

// BenchmarkSessionBulk streams through one channel; baselines stream the
// same bytes over raw loopback TCP and through a plain TCP proxy.
func BenchmarkSessionBulk(b *testing.B) {
	for _, tc := range []struct {
		name  string
		relay bool
	}{{"direct", false}, {"relay", true}} {
		b.Run(tc.name, func(b *testing.B) {
			s, sa := connectedPair(b, tc.relay)
			ctx := testCtx(b)
			ch, in := benchChannel(b, ctx, s, sa, "bulk")
			benchStream(b, ch, in)
		})
	}
	b.Run("baseline-raw-tcp", func(b *testing.B) {
		w, r := tcpPair(b, "")
		benchStream(b, w, r)
	})
	b.Run("baseline-tcp-proxy", func(b *testing.B) {
		w, r := tcpPair(b, "proxy")
		benchStream(b, w, r)
	})
	// The best an encrypted stream can do here: loopback TCP carrying
	// 64 KiB ChaCha20-Poly1305 records (fixed key, counter nonce), sealed
	// and opened on the same two cores as the session.
	b.Run("baseline-aead-tcp", func(b *testing.B) {
		w, r := tcpPair(b, "")
		benchStream(b, newAEADWriter(b, w), newAEADReader(b, r))
	})
}

const aeadRecord = 64 << 10

type aeadWriter struct {
	w     io.Writer
	aead  cipher.AEAD
	nonce [chacha20poly1305.NonceSize]byte
	buf   []byte
}

func newAEADWriter(b *testing.B, w io.Writer) *aeadWriter {
	a, err := chacha20poly1305.New(make([]byte, chacha20poly1305.KeySize))
	if err != nil {
		b.Fatal(err)
	}
	return &aeadWriter{w: w, aead: a, buf: make([]byte, 4, 4+aeadRecord+a.Overhead())}
}

func (a *aeadWriter) Write(p []byte) (int, error) {
	n := 0
	for len(p) > 0 {
		chunk := p[:min(len(p), aeadRecord)]
		binary.BigEndian.PutUint64(a.nonce[4:], binary.BigEndian.Uint64(a.nonce[4:])+1)
		out := a.aead.Seal(a.buf[:4], a.nonce[:], chunk, nil)
		binary.BigEndian.PutUint32(out, uint32(len(out)-4))
		if _, err := a.w.Write(out); err != nil {
			return n, err
		}
		n += len(chunk)
		p = p[len(chunk):]
	}
	return n, nil
}

type aeadReader struct {
	r       io.Reader
	aead    cipher.AEAD
	nonce   [chacha20poly1305.NonceSize]byte
	buf, pt []byte
}

func newAEADReader(b *testing.B, r io.Reader) *aeadReader {
	a, err := chacha20poly1305.New(make([]byte, chacha20poly1305.KeySize))
	if err != nil {
		b.Fatal(err)
	}
	return &aeadReader{r: r, aead: a, buf: make([]byte, aeadRecord+a.Overhead())}
}

func (a *aeadReader) Read(p []byte) (int, error) {
	if len(a.pt) == 0 {
		var hdr [4]byte
		if _, err := io.ReadFull(a.r, hdr[:]); err != nil {
			return 0, err
		}
		n := binary.BigEndian.Uint32(hdr[:])
		if int(n) > len(a.buf) {
			return 0, io.ErrShortBuffer
		}
		ct := a.buf[:n]
		if _, err := io.ReadFull(a.r, ct); err != nil {
			return 0, err
		}
		binary.BigEndian.PutUint64(a.nonce[4:], binary.BigEndian.Uint64(a.nonce[4:])+1)
		pt, err := a.aead.Open(ct[:0], a.nonce[:], ct, nil)
		if err != nil {
			return 0, err
		}
		a.pt = pt
	}
	n := copy(p, a.pt)
	a.pt = a.pt[n:]
	return n, nil
}

// tcpPair returns the two ends of a loopback TCP connection, optionally
// through a userspace proxy (the relay's baseline).
func tcpPair(b *testing.B, via string) (net.Conn, net.Conn) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer ln.Close()
	target := ln.Addr().String()
	if via == "proxy" {
		target = newFaultProxy(b, target).addr()
	}
	w, err := net.Dial("tcp", target)
	if err != nil {
		b.Fatal(err)
	}
	r, err := ln.Accept()
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { w.Close(); r.Close() })
	return w, r
}

func benchStream(b *testing.B, w io.Writer, r io.Reader) {
	buf := make([]byte, bulkChunk)
	b.SetBytes(bulkChunk)
	b.ResetTimer()
	done := make(chan error, 1)
	n := b.N
	go func() {
		_, err := io.CopyN(io.Discard, r, int64(n)*bulkChunk)
		done <- err
	}()
	for range n {
		if _, err := w.Write(buf); err != nil {
			b.Fatal(err)
		}
	}
	if err := <-done; err != nil {
		b.Fatal(err)
	}
}

// benchChannel opens a channel from s, has sa accept it and consumes the
// "start" message that announces it.
func benchChannel(b *testing.B, ctx context.Context, s, sa *Session, name string) (out, in *Channel) {
	b.Helper()
	out, err := s.OpenChannel(ctx, name)
	if err != nil {
		b.Fatal(err)
	}
	if err := out.Send(ctx, []byte("start")); err != nil {
		b.Fatal(err)
	}
	if in, err = sa.AcceptChannel(ctx); err != nil {
		b.Fatal(err)
	}
	if _, err := in.Receive(ctx); err != nil {
		b.Fatal(err)
	}
	return out, in
}

// BenchmarkSessionRoundTrip sends a 64-byte message and waits for the echo.
func BenchmarkSessionRoundTrip(b *testing.B) {
	b.Run("direct", func(b *testing.B) {
		s, sa := connectedPair(b, false)
		ctx := testCtx(b)
		ch, in := benchChannel(b, ctx, s, sa, "ping")
		go func() {
			for {
				msg, err := in.Receive(ctx)
				if err != nil || in.Send(ctx, msg) != nil {
					return
				}
			}
		}()
		msg := make([]byte, 64)
		for b.Loop() {
			if err := ch.Send(ctx, msg); err != nil {
				b.Fatal(err)
			}
			if _, err := ch.Receive(ctx); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("baseline-raw-tcp", func(b *testing.B) {
		w, r := tcpPair(b, "")
		go func() { _, _ = io.Copy(r, r) }()
		msg := make([]byte, 64)
		for b.Loop() {
			if _, err := w.Write(msg); err != nil {
				b.Fatal(err)
			}
			if _, err := io.ReadFull(w, msg); err != nil {
				b.Fatal(err)
			}
		}
	})
}
