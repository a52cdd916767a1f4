package session_test

import (
	"context"
	"errors"
	"io"
	"net"
	"testing"
	"time"

	"github.com/cairn-dev/cairn/internal/session/sessiontest"
)

const benchChunk = 1 << 20

// rawTCPCopy io.Copies total bytes over a fresh loopback TCP connection and
// returns how long it took.
func rawTCPCopy(tb testing.TB, total int64) time.Duration {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	defer ln.Close()
	a, b, err := sessiontest.TCPConns(ln)
	if err != nil {
		tb.Fatal(err)
	}
	defer a.Close()
	defer b.Close()
	done := make(chan int64, 1)
	start := time.Now()
	go func() {
		n, _ := io.Copy(io.Discard, b)
		done <- n
	}()
	buf := make([]byte, benchChunk)
	for sent := int64(0); sent < total; sent += benchChunk {
		if _, err := a.Write(buf); err != nil {
			tb.Fatal(err)
		}
	}
	a.(*net.TCPConn).CloseWrite()
	if n := <-done; n != total {
		tb.Fatalf("raw copy: %d of %d bytes", n, total)
	}
	return time.Since(start)
}

// sessionTCPCopy sends total bytes on one channel of a session over loopback
// TCP (framed, no encryption) and returns how long it took until the
// receiver had all of it.
func sessionTCPCopy(tb testing.TB, total int64) time.Duration {
	opts := defaultPairOpts()
	opts.tcp = true
	p, err := startPair(opts)
	if err != nil {
		tb.Fatal(err)
	}
	defer p.close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	ch, err := p.d.OpenChannel(ctx, "bulk")
	if err != nil {
		tb.Fatal(err)
	}
	defer ch.Close()
	done := make(chan int64, 1)
	start := time.Now()
	go func() {
		peer, err := p.a.AcceptChannel(ctx)
		if err != nil {
			done <- -1
			return
		}
		defer peer.Close()
		n, _ := io.Copy(io.Discard, peer)
		done <- n
	}()
	buf := make([]byte, benchChunk)
	for sent := int64(0); sent < total; sent += benchChunk {
		if _, err := ch.Write(buf); err != nil {
			tb.Fatal(err)
		}
	}
	ch.CloseWrite()
	if n := <-done; n != total {
		tb.Fatalf("session copy: %d of %d bytes", n, total)
	}
	return time.Since(start)
}

// BenchmarkBulk measures one-way throughput of raw loopback TCP and of a
// session over it, in the same run.
func BenchmarkBulk(b *testing.B) {
	for _, c := range []struct {
		name string
		run  func(testing.TB, int64) time.Duration
	}{{"raw-tcp", rawTCPCopy}, {"session-tcp", sessionTCPCopy}} {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(benchChunk)
			c.run(b, int64(b.N)*benchChunk)
		})
	}
}

// BenchmarkBulkRatio reports session throughput as a fraction of raw TCP's
// (1.0 = as fast), both measured on 64 MiB per iteration.
func BenchmarkBulkRatio(b *testing.B) {
	const total = 64 << 20
	var raw, sess time.Duration
	b.SetBytes(2 * total)
	for b.Loop() {
		raw += rawTCPCopy(b, total)
		sess += sessionTCPCopy(b, total)
	}
	b.ReportMetric(raw.Seconds()/sess.Seconds(), "session/raw")
	b.ReportMetric(float64(b.N)*total/sess.Seconds()/1e6, "session-MB/s")
	b.ReportMetric(float64(b.N)*total/raw.Seconds()/1e6, "raw-MB/s")
}

// BenchmarkRoundTrip measures small-message round trips: a 64-byte message
// and its echo, on a session over loopback TCP and on raw TCP.
func BenchmarkRoundTrip(b *testing.B) {
	msg := make([]byte, 64)
	b.Run("raw-tcp", func(b *testing.B) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			b.Fatal(err)
		}
		defer ln.Close()
		c, s, err := sessiontest.TCPConns(ln)
		if err != nil {
			b.Fatal(err)
		}
		defer c.Close()
		go func() {
			defer s.Close()
			buf := make([]byte, len(msg))
			for {
				if _, err := io.ReadFull(s, buf); err != nil {
					return
				}
				if _, err := s.Write(buf); err != nil {
					return
				}
			}
		}()
		buf := make([]byte, len(msg))
		b.ReportAllocs()
		start := time.Now()
		for b.Loop() {
			if _, err := c.Write(msg); err != nil {
				b.Fatal(err)
			}
			if _, err := io.ReadFull(c, buf); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "roundtrips/s")
	})
	b.Run("session-tcp", func(b *testing.B) {
		opts := defaultPairOpts()
		opts.tcp = true
		p, err := startPair(opts)
		if err != nil {
			b.Fatal(err)
		}
		defer p.close()
		ctx := context.Background()
		ch, err := p.d.OpenChannel(ctx, "rtt")
		if err != nil {
			b.Fatal(err)
		}
		defer ch.Close()
		echoDone := make(chan error, 1)
		go func() {
			peer, err := p.a.AcceptChannel(ctx)
			if err != nil {
				echoDone <- err
				return
			}
			defer peer.Close()
			for {
				m, err := peer.Receive(ctx)
				if err != nil {
					echoDone <- err
					return
				}
				if err := peer.Send(ctx, m); err != nil {
					echoDone <- err
					return
				}
			}
		}()
		b.ReportAllocs()
		start := time.Now()
		for b.Loop() {
			if err := ch.Send(ctx, msg); err != nil {
				b.Fatal(err)
			}
			if _, err := ch.Receive(ctx); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "roundtrips/s")
		ch.CloseWrite()
		if err := <-echoDone; !errors.Is(err, io.EOF) {
			b.Fatal(err)
		}
	})
}
