package cairn

import (
	"context"
	"errors"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// testTimeout bounds every test's waits.
const testTimeout = 30 * time.Second

func testCtx(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	t.Cleanup(cancel)
	return ctx
}

// newTestNode starts a node on loopback with LAN discovery off: tests on
// the host never multicast (the mDNS tests run in their own namespaces).
func newTestNode(t testing.TB, opts ...Option) *Node {
	t.Helper()
	base := []Option{
		WithDataDir(t.TempDir()),
		WithListenAddr("127.0.0.1:0"),
		WithMDNS(false),
		WithHeartbeat(200*time.Millisecond, 2*time.Second),
	}
	n, err := New(append(base, opts...)...)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() { n.Close() })
	return n
}

// pairByPIN pairs b with a by PIN and checks both sides agree.
func pairByPIN(t testing.TB, a, b *Node) {
	t.Helper()
	ctx := testCtx(t)
	p, err := a.PairGeneratePin(ctx)
	if err != nil {
		t.Fatalf("PairGeneratePin: %v", err)
	}
	got, err := b.PairEnterPin(ctx, p.Pin)
	if err != nil {
		t.Fatalf("PairEnterPin: %v", err)
	}
	peer, err := p.Wait(ctx)
	if err != nil {
		t.Fatalf("Wait: %v", err)
	}
	if got != a.PeerID() || peer != b.PeerID() {
		t.Fatalf("paired with the wrong peers: %s / %s", got, peer)
	}
}

// wrongPIN returns a PIN with the same relay slot as pin but a different
// secret part.
func wrongPIN(pin string, i int) string {
	const alphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
	b := []byte(pin)
	last := len(b) - 1
	idx := strings.IndexByte(alphabet, b[last])
	b[last] = alphabet[(idx+1+i)%len(alphabet)]
	return string(b)
}

func isPaired(t testing.TB, n *Node, peer PeerID) bool {
	t.Helper()
	_, err := n.peer(peer)
	if err != nil && !errors.Is(err, ErrUnknownPeer) {
		t.Fatalf("trust store: %v", err)
	}
	return err == nil
}

// faultProxy forwards TCP connections to target and can cut them all.
type faultProxy struct {
	ln     net.Listener
	target string
	mu     sync.Mutex
	conns  []net.Conn
	wg     sync.WaitGroup
}

func newFaultProxy(t testing.TB, target string) *faultProxy {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &faultProxy{ln: ln, target: target}
	p.wg.Add(1)
	go p.serve()
	t.Cleanup(p.close)
	return p
}

func (p *faultProxy) addr() string { return p.ln.Addr().String() }

func (p *faultProxy) serve() {
	defer p.wg.Done()
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		up, err := net.Dial("tcp", p.target)
		if err != nil {
			c.Close()
			continue
		}
		p.mu.Lock()
		p.conns = append(p.conns, c, up)
		p.mu.Unlock()
		p.wg.Add(2)
		go p.pipe(c, up)
		go p.pipe(up, c)
	}
}

func (p *faultProxy) pipe(dst, src net.Conn) {
	defer p.wg.Done()
	_, _ = io.Copy(dst, src)
	dst.Close()
	src.Close()
}

// cut closes every connection through the proxy, as a network drop would.
func (p *faultProxy) cut() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range p.conns {
		c.Close()
	}
	n := len(p.conns) / 2
	p.conns = nil
	return n
}

func (p *faultProxy) close() {
	p.ln.Close()
	p.cut()
	p.wg.Wait()
}
