package relay_test

import (
	"context"
	"io"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/cairn-dev/cairn/relay"
	"github.com/cairn-dev/cairn/relay/relaytest"
)

const (
	benchChunk = 1 << 20  // bytes per benchmark op
	benchWrite = 64 << 10 // bytes per Write, the relay client's message size
)

// benchPath is one direction of a byte path: bytes written to w come out of r.
type benchPath struct {
	w io.Writer
	r io.Reader
}

// relayPath pairs two relay clients through a relay on loopback.
func relayPath(b *testing.B) benchPath {
	url, _ := relaytest.Start(b, relay.Config{})
	h, j := pair(b, url, "bench")
	return benchPath{w: h, r: j}
}

// tcpProxyPath is the baseline: a plain TCP proxy on loopback (accept, dial
// the sink, io.Copy both ways) between a client and a sink conn.
func tcpProxyPath(b *testing.B) benchPath {
	var lc net.ListenConfig
	ctx := context.Background()
	sinkLn, err := lc.Listen(ctx, "tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	proxyLn, err := lc.Listen(ctx, "tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	var wg sync.WaitGroup
	wg.Go(func() {
		in, err := proxyLn.Accept()
		if err != nil {
			return
		}
		var d net.Dialer
		out, err := d.DialContext(ctx, "tcp", sinkLn.Addr().String())
		if err != nil {
			in.Close()
			return
		}
		var cp sync.WaitGroup
		cp.Go(func() { _, _ = io.Copy(out, in); out.Close() })
		_, _ = io.Copy(in, out)
		in.Close()
		cp.Wait()
	})
	var d net.Dialer
	client, err := d.DialContext(ctx, "tcp", proxyLn.Addr().String())
	if err != nil {
		b.Fatal(err)
	}
	sink, err := sinkLn.Accept()
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		client.Close()
		sink.Close()
		proxyLn.Close()
		sinkLn.Close()
		wg.Wait()
	})
	return benchPath{w: client, r: sink}
}

// transfer moves n bytes through p and returns how long it took.
func transfer(b *testing.B, p benchPath, n int64) time.Duration {
	buf := make([]byte, benchWrite)
	start := time.Now()
	errc := make(chan error, 1)
	go func() {
		for left := n; left > 0; {
			k := min(left, int64(len(buf)))
			if _, err := p.w.Write(buf[:k]); err != nil {
				errc <- err
				return
			}
			left -= k
		}
		errc <- nil
	}()
	if _, err := io.CopyN(io.Discard, p.r, n); err != nil {
		b.Fatal(err)
	}
	if err := <-errc; err != nil {
		b.Fatal(err)
	}
	return time.Since(start)
}

// BenchmarkThroughput measures one-way throughput through the relay and
// through a plain TCP proxy on loopback; "compare" runs both in one loop and
// reports their MB/s and the relay/tcp ratio.
func BenchmarkThroughput(b *testing.B) {
	b.Run("relay", func(b *testing.B) {
		p := relayPath(b)
		b.SetBytes(benchChunk)
		b.ReportAllocs()
		b.ResetTimer()
		transfer(b, p, int64(b.N)*benchChunk)
	})
	b.Run("tcp-proxy", func(b *testing.B) {
		p := tcpProxyPath(b)
		b.SetBytes(benchChunk)
		b.ReportAllocs()
		b.ResetTimer()
		transfer(b, p, int64(b.N)*benchChunk)
	})
	b.Run("compare", func(b *testing.B) {
		rp, tp := relayPath(b), tcpProxyPath(b)
		const n = 4 * benchChunk // per path per op, so that pipeline fill is small
		b.SetBytes(2 * n)
		b.ReportAllocs()
		b.ResetTimer()
		var rd, td time.Duration
		for range b.N {
			rd += transfer(b, rp, n)
			td += transfer(b, tp, n)
		}
		mb := float64(b.N) * n / 1e6
		relayMBs, tcpMBs := mb/rd.Seconds(), mb/td.Seconds()
		b.ReportMetric(relayMBs, "relay-MB/s")
		b.ReportMetric(tcpMBs, "tcp-MB/s")
		b.ReportMetric(relayMBs/tcpMBs, "relay/tcp")
	})
}
