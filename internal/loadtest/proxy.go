package loadtest

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"testing"
	"time"
)

// Dir is a direction through the proxy.
type Dir int

const (
	// Up is from the client that connected to the proxy towards the target.
	Up Dir = iota
	// Down is from the target back to the client.
	Down
)

func (d Dir) String() string {
	if d == Up {
		return "up"
	}
	return "down"
}

// Unit is one frame passing the proxy: a cairn frame, or with
// [WebSocketFrames] the HTTP header block or one WebSocket frame.
type Unit struct {
	Conn  int    // the connection's number, from 0 in accept order
	Dir   Dir    // its direction
	Index int    // the unit's number in this connection and direction, from 0
	Data  []byte // raw bytes, headers included; do not modify (copy into Action.Data)
}

// Verdict says what the proxy does with a unit.
type Verdict int

const (
	// Forward passes the unit on (Action.Data instead, if set).
	Forward Verdict = iota
	// Drop discards the unit.
	Drop
	// Duplicate forwards the unit twice.
	Duplicate
	// Delay waits Action.Delay, then forwards; the direction stalls meanwhile.
	Delay
	// Hold forwards the unit after the next unit of its direction: two
	// consecutive units swap places.
	Hold
	// Truncate forwards the first half of the unit, then cuts the connection.
	Truncate
	// Cut closes both sides of the connection without forwarding the unit.
	Cut
	// Stall forwards neither this unit nor anything after it in this
	// direction, and keeps the connection open, until it is cut (by the
	// proxy or by either side closing).
	Stall
)

// Action is a policy's decision about one unit.
type Action struct {
	Verdict Verdict
	Delay   time.Duration // for Delay
	Data    []byte        // if not nil, forwarded instead of the unit
}

// Policy decides about each unit. It is called from one goroutine per
// connection and direction, so it must be safe for concurrent use. A nil
// Policy forwards everything.
type Policy func(Unit) Action

// Splitter reads the index-th unit of a direction from r. On an error it
// returns what it read of the unit so far, which the proxy forwards before
// it closes the connection.
type Splitter func(r *bufio.Reader, index int) ([]byte, error)

// maxUnit bounds a unit, so a stream that is not framed as expected cannot
// make the proxy allocate without bound; a longer one is cut.
const maxUnit = 8 << 20

// CairnFrames splits a stream into cairn frames (u32be length, type, body;
// docs/PROTOCOL.md section 3).
func CairnFrames() Splitter {
	return func(r *bufio.Reader, _ int) ([]byte, error) {
		var hdr [4]byte
		if n, err := io.ReadFull(r, hdr[:]); err != nil {
			return hdr[:n], err
		}
		size := binary.BigEndian.Uint32(hdr[:])
		if size > maxUnit {
			return hdr[:], fmt.Errorf("loadtest: frame of %d bytes", size)
		}
		b := make([]byte, 4+int(size))
		copy(b, hdr[:])
		n, err := io.ReadFull(r, b[4:])
		return b[:4+n], err
	}
}

// WebSocketFrames splits an HTTP/1.1 connection upgraded to WebSocket: unit
// 0 is the request or response header block, each later unit one WebSocket
// frame (RFC 6455 section 5.2), masked or not.
func WebSocketFrames() Splitter {
	return func(r *bufio.Reader, index int) ([]byte, error) {
		if index == 0 {
			var b []byte
			for !bytes.HasSuffix(b, []byte("\r\n\r\n")) {
				line, err := r.ReadSlice('\n')
				b = append(b, line...)
				if err != nil {
					return b, err
				}
				if len(b) > 64<<10 {
					return b, errors.New("loadtest: HTTP header block too long")
				}
			}
			return b, nil
		}
		hdr := make([]byte, 2, 14)
		if n, err := io.ReadFull(r, hdr); err != nil {
			return hdr[:n], err
		}
		extra := 0
		switch hdr[1] & 0x7f {
		case 126:
			extra = 2
		case 127:
			extra = 8
		}
		if hdr[1]&0x80 != 0 {
			extra += 4
		}
		hdr = hdr[:2+extra]
		if n, err := io.ReadFull(r, hdr[2:]); err != nil {
			return hdr[:2+n], err
		}
		size := uint64(hdr[1] & 0x7f)
		switch size {
		case 126:
			size = uint64(binary.BigEndian.Uint16(hdr[2:4]))
		case 127:
			size = binary.BigEndian.Uint64(hdr[2:10])
		}
		if size > maxUnit {
			return hdr, fmt.Errorf("loadtest: WebSocket frame of %d bytes", size)
		}
		b := make([]byte, len(hdr)+int(size))
		copy(b, hdr)
		n, err := io.ReadFull(r, b[len(hdr):])
		return b[:len(hdr)+n], err
	}
}

// WebSocket opcodes, for policies: see [WSOpcode].
const (
	WSContinuation = 0x0
	WSText         = 0x1
	WSBinary       = 0x2
	WSClose        = 0x8
	WSPing         = 0x9
	WSPong         = 0xa
)

// WSOpcode returns the opcode of a WebSocket frame unit (not unit 0).
func WSOpcode(unit []byte) int {
	if len(unit) == 0 {
		return -1
	}
	return int(unit[0] & 0x0f)
}

// Proxy forwards TCP connections from a loopback listener to a target,
// unit by unit, applying a Policy. Close it (it is closed at the end of the
// test) to end every goroutine it started.
type Proxy struct {
	ln     net.Listener
	target string
	split  Splitter

	mu     sync.Mutex
	policy Policy
	pairs  map[int]*pair
	next   int
	record bool
	units  []Unit

	wg sync.WaitGroup
}

// pair is one proxied connection: client side and target side.
type pair struct {
	id       int
	client   net.Conn
	upstream net.Conn
	wmu      [2]sync.Mutex // per direction: one writer at a time (pump or Inject)
	done     chan struct{} // closed by close
	once     sync.Once
}

func (p *pair) close() {
	p.once.Do(func() {
		close(p.done)
		p.client.Close()
		p.upstream.Close()
	})
}

// dst returns where units of dir go.
func (p *pair) dst(d Dir) net.Conn {
	if d == Up {
		return p.upstream
	}
	return p.client
}

// NewProxy starts a proxy on 127.0.0.1 to target (a loopback address).
func NewProxy(t testing.TB, target string, split Splitter, policy Policy) *Proxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &Proxy{ln: ln, target: target, split: split, policy: policy, pairs: make(map[int]*pair)}
	p.wg.Add(1)
	go p.serve()
	t.Cleanup(p.Close)
	return p
}

// Addr returns the proxy's address, host:port.
func (p *Proxy) Addr() string { return p.ln.Addr().String() }

// URL returns "http://" + Addr(), for a relay behind the proxy.
func (p *Proxy) URL() string { return "http://" + p.Addr() }

// SetPolicy replaces the policy for the units that pass from now on.
func (p *Proxy) SetPolicy(policy Policy) {
	p.mu.Lock()
	p.policy = policy
	p.mu.Unlock()
}

// Record starts or stops keeping a copy of every unit that passes.
func (p *Proxy) Record(on bool) {
	p.mu.Lock()
	p.record = on
	p.mu.Unlock()
}

// Units returns the units recorded so far, in the order they passed.
func (p *Proxy) Units() []Unit {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]Unit(nil), p.units...)
}

// Conns returns how many connections the proxy accepted so far.
func (p *Proxy) Conns() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.next
}

// Open returns the numbers of the connections still open.
func (p *Proxy) Open() []int {
	p.mu.Lock()
	defer p.mu.Unlock()
	var ids []int
	for id := range p.pairs {
		ids = append(ids, id)
	}
	return ids
}

// Inject writes data into connection conn in direction d, between two
// units. It fails if the connection is gone.
func (p *Proxy) Inject(conn int, d Dir, data []byte) error {
	p.mu.Lock()
	pc := p.pairs[conn]
	p.mu.Unlock()
	if pc == nil {
		return fmt.Errorf("loadtest: connection %d is closed", conn)
	}
	pc.wmu[d].Lock()
	defer pc.wmu[d].Unlock()
	_, err := pc.dst(d).Write(data)
	return err
}

// Cut closes every open connection, as a network drop would, and returns
// how many there were.
func (p *Proxy) Cut() int {
	p.mu.Lock()
	pairs := make([]*pair, 0, len(p.pairs))
	for _, pc := range p.pairs {
		pairs = append(pairs, pc)
	}
	p.mu.Unlock()
	for _, pc := range pairs {
		pc.close()
	}
	return len(pairs)
}

// Close stops the proxy: it stops accepting, cuts every connection and
// waits for its goroutines.
func (p *Proxy) Close() {
	p.ln.Close()
	p.Cut()
	p.wg.Wait()
}

func (p *Proxy) serve() {
	defer p.wg.Done()
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		up, err := net.DialTimeout("tcp", p.target, 5*time.Second)
		if err != nil {
			c.Close()
			continue
		}
		p.mu.Lock()
		pc := &pair{id: p.next, client: c, upstream: up, done: make(chan struct{})}
		p.next++
		p.pairs[pc.id] = pc
		p.mu.Unlock()
		p.wg.Add(2)
		go p.pump(pc, Up)
		go p.pump(pc, Down)
	}
}

// pump moves the units of one direction of pc until either side ends.
func (p *Proxy) pump(pc *pair, d Dir) {
	defer p.wg.Done()
	defer func() {
		pc.close()
		p.mu.Lock()
		delete(p.pairs, pc.id)
		p.mu.Unlock()
	}()
	src := pc.client
	if d == Down {
		src = pc.upstream
	}
	dst := pc.dst(d)
	r := bufio.NewReaderSize(src, 64<<10)
	write := func(b []byte) bool {
		pc.wmu[d].Lock()
		defer pc.wmu[d].Unlock()
		_, err := dst.Write(b)
		return err == nil
	}
	var held []byte
	for i := 0; ; i++ {
		data, err := p.split(r, i)
		if len(data) > 0 {
			p.mu.Lock()
			policy := p.policy
			u := Unit{Conn: pc.id, Dir: d, Index: i, Data: data}
			if p.record {
				p.units = append(p.units, u)
			}
			p.mu.Unlock()
			act := Action{}
			if policy != nil && err == nil {
				act = policy(u)
			}
			if act.Data != nil {
				data = act.Data
			}
			switch act.Verdict {
			case Forward:
				if !write(data) {
					return
				}
			case Drop:
			case Duplicate:
				if !write(data) || !write(data) {
					return
				}
			case Delay:
				t := time.NewTimer(act.Delay)
				select {
				case <-t.C:
				case <-pc.done:
					t.Stop()
					return
				}
				if !write(data) {
					return
				}
			case Hold:
				if held != nil { // two Holds in a row: release the first
					if !write(held) {
						return
					}
				}
				held = data
				continue
			case Truncate:
				write(data[:len(data)/2])
				return
			case Cut:
				return
			case Stall:
				<-pc.done
				return
			}
			if held != nil {
				if !write(held) {
					return
				}
				held = nil
			}
		}
		if err != nil {
			return
		}
	}
}
