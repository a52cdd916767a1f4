package loadtest

import (
	"bufio"
	"bytes"
	"io"
	"net"
	"os"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func cairnFrame(typ byte, body string) []byte {
	b := []byte{0, 0, 0, byte(1 + len(body)), typ}
	return append(b, body...)
}

func TestCairnFrames(t *testing.T) {
	stream := append(cairnFrame(1, "abc"), cairnFrame(2, "")...)
	r := bufio.NewReader(bytes.NewReader(append(stream, 0, 0)))
	split := CairnFrames()
	for i, want := range [][]byte{cairnFrame(1, "abc"), cairnFrame(2, "")} {
		got, err := split(r, i)
		if err != nil || !bytes.Equal(got, want) {
			t.Fatalf("unit %d = %x, %v; want %x", i, got, err, want)
		}
	}
	if got, err := split(r, 2); err == nil || !bytes.Equal(got, []byte{0, 0}) {
		t.Fatalf("truncated header = %x, %v; want the 2 bytes and an error", got, err)
	}
}

func TestWebSocketFrames(t *testing.T) {
	hdr := "GET /v1/slot/x?mode=host HTTP/1.1\r\nHost: a\r\n\r\n"
	small := []byte{0x82, 0x83, 1, 2, 3, 4, 'a', 'b', 'c'} // masked binary, 3 bytes
	big := append([]byte{0x02, 126, 1, 0}, make([]byte, 256)...)
	r := bufio.NewReader(bytes.NewReader(append(append([]byte(hdr), small...), big...)))
	split := WebSocketFrames()
	for i, want := range [][]byte{[]byte(hdr), small, big} {
		got, err := split(r, i)
		if err != nil || !bytes.Equal(got, want) {
			t.Fatalf("unit %d = %q, %v", i, got, err)
		}
	}
	if WSOpcode(small) != WSBinary || WSOpcode(big) != WSBinary {
		t.Fatal("opcodes")
	}
}

// TestProxyPolicies sends frames through a proxy to an echo-less sink and
// checks what arrives for each verdict.
func TestProxyPolicies(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	got := make(chan []byte, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			got <- nil
			return
		}
		defer c.Close()
		b, _ := io.ReadAll(c)
		got <- b
	}()
	f := func(i int) []byte { return cairnFrame(2, string(rune('a'+i))) }
	p := NewProxy(t, ln.Addr().String(), CairnFrames(), func(u Unit) Action {
		switch u.Index {
		case 1:
			return Action{Verdict: Drop}
		case 2:
			return Action{Verdict: Duplicate}
		case 3:
			return Action{Verdict: Hold}
		case 5:
			return Action{Data: f(9)}
		}
		return Action{}
	})
	c, err := net.Dial("tcp", p.Addr())
	if err != nil {
		t.Fatal(err)
	}
	for i := range 6 {
		if _, err := c.Write(f(i)); err != nil {
			t.Fatal(err)
		}
	}
	for len(p.Open()) == 0 {
		time.Sleep(time.Millisecond)
	}
	if err := p.Inject(0, Up, f(7)); err != nil {
		t.Fatal(err)
	}
	time.Sleep(50 * time.Millisecond)
	c.Close()
	// The injected frame lands between two units, wherever the pump is.
	b := <-got
	if bytes.Count(b, f(7)) != 1 {
		t.Fatalf("injected frame missing: %x", b)
	}
	b = bytes.Replace(b, f(7), nil, 1)
	want := bytes.Join([][]byte{f(0), f(2), f(2), f(4), f(3), f(9)}, nil)
	if !bytes.Equal(b, want) {
		t.Fatalf("through the proxy:\n got %x\nwant %x", b, want)
	}
}

func TestReadProcSelf(t *testing.T) {
	st, err := ReadProc(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if st.RSS <= 0 || st.PeakRSS < st.RSS || st.Threads < 1 || st.FDs < 3 {
		t.Fatalf("implausible stats %+v", st)
	}
}

func TestLatencies(t *testing.T) {
	var l Latencies
	for i := 1; i <= 100; i++ {
		l.Add(time.Duration(i) * time.Millisecond)
	}
	s := l.Summary()
	if s.Count != 100 || s.P50 != 50*time.Millisecond || s.P99 != 99*time.Millisecond || s.Max != 100*time.Millisecond {
		t.Fatalf("summary %+v", s)
	}
}
