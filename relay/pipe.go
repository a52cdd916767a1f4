package relay

import (
	"context"
	"errors"
	"io"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"
)

// dirResult is how one direction of a pipe ended.
type dirResult struct {
	fromHost bool
	// readErr: reading the source failed (it left or broke a rule);
	// otherwise writing to the destination failed.
	readErr bool
	text    bool // the source sent a text message
	err     error
}

var errStopped = errors.New("relay: stopped while waiting for a joiner")

// pipe is one host's session: the wait for a joiner, then the relaying.
type pipe struct {
	s        *Server
	wt       *waiter
	host     *peer
	ctx      context.Context // cancelled once both sides are closed
	stop     chan struct{}   // closed when the host copier must stop waiting for a joiner
	stopOnce sync.Once
	results  chan dirResult // one per started copier
	running  int
	activity atomic.Int64 // unix nanos of the last relayed data
}

func (p *pipe) stopWaiting() { p.stopOnce.Do(func() { close(p.stop) }) }

func (p *pipe) start(src, dst *peer, fromHost bool) {
	p.running++
	go func() { p.results <- p.copy(src, dst, fromHost) }()
}

// copy relays messages from src to dst until either fails. With dst nil (the
// host before pairing) it first waits for the joiner; only then does it
// read on past the first message's header, so an early host message is held
// back by TCP flow control, not buffered.
func (p *pipe) copy(srcPeer, dstPeer *peer, fromHost bool) dirResult {
	src := srcPeer.ws
	var dst *websocket.Conn
	if dstPeer != nil {
		dst = dstPeer.ws
	}
	counter := &p.s.metrics.joinToHost
	if fromHost {
		counter = &p.s.metrics.hostToJoin
	}
	for {
		typ, r, err := src.Reader(p.ctx)
		if err != nil {
			return dirResult{fromHost: fromHost, readErr: true, err: err}
		}
		if typ != websocket.MessageBinary {
			return dirResult{fromHost: fromHost, readErr: true, text: true}
		}
		if dst == nil {
			p.wt.pending.Store(true)
			select {
			case <-p.wt.joined:
				if p.wt.joiner == nil {
					return dirResult{fromHost: fromHost, readErr: true, err: errStopped}
				}
				dst = p.wt.joiner.ws
			case <-p.stop:
				return dirResult{fromHost: fromHost, readErr: true, err: errStopped}
			}
		}
		w, err := dst.Writer(p.ctx, websocket.MessageBinary)
		if err != nil {
			return dirResult{fromHost: fromHost, err: err}
		}
		// The copy buffer is held only while a message is being copied:
		// waiting hosts and idle pairs, most of a relay's connections,
		// hold none.
		buf := copyBufs.Get().(*[]byte)
		res, ok := p.copyMessage(w, r, *buf, counter, fromHost)
		copyBufs.Put(buf)
		if !ok {
			return res
		}
	}
}

// copyBufs holds the relay's copy buffers (copyBufSize bytes each).
var copyBufs = sync.Pool{New: func() any {
	copyBufAllocs.Add(1)
	b := make([]byte, copyBufSize)
	return &b
}}

// copyBufAllocs counts the copy buffers allocated, for tests.
var copyBufAllocs atomic.Int64

// copyMessage copies the rest of one message from r to w through buf and
// closes w. It returns false, and how the direction ended, if it failed.
func (p *pipe) copyMessage(w io.WriteCloser, r io.Reader, buf []byte, counter *atomic.Uint64, fromHost bool) (dirResult, bool) {
	tap := p.s.cfg.Tap
	for {
		n, rerr := r.Read(buf)
		if n > 0 {
			if tap != nil {
				tap(p.wt.slot, fromHost, buf[:n])
			}
			counter.Add(uint64(n))
			p.activity.Store(time.Now().UnixNano())
			if _, err := w.Write(buf[:n]); err != nil {
				return dirResult{fromHost: fromHost, err: err}, false
			}
		}
		if rerr == io.EOF {
			break
		}
		if rerr != nil {
			return dirResult{fromHost: fromHost, readErr: true, err: rerr}, false
		}
	}
	if err := w.Close(); err != nil {
		return dirResult{fromHost: fromHost, err: err}, false
	}
	return dirResult{}, true
}

// runHost runs a reserved slot's host connection to its end: wait for a
// joiner, pipe, tear down. It returns after every goroutine it started ended.
func (s *Server) runHost(wt *waiter, host *peer) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	p := &pipe{s: s, wt: wt, host: host, ctx: ctx, stop: make(chan struct{}), results: make(chan dirResult, 2)}
	defer func() {
		for ; p.running > 0; p.running-- {
			<-p.results
		}
	}()
	defer p.stopWaiting()
	defer cancel() // after the closes below: unblocks anything still reading
	p.start(host, nil, true)

	first, ok := p.waitJoin()
	if !ok {
		return
	}
	s.metrics.pairs.Add(1)
	s.metrics.piped.Add(1)
	defer s.metrics.piped.Add(-1)
	s.log.Debug("relay: pair made", "src", wt.src.String(), "slot", wt.slot)
	p.activity.Store(time.Now().UnixNano())
	p.start(wt.joiner, host, false)
	p.relay(first)
}

// waitJoin waits for the joiner. It returns false if the host's session ended
// before one came (and then has closed the host); otherwise first is the
// host's early result if the host already left.
func (p *pipe) waitJoin() (first *dirResult, ok bool) {
	first, ok = p.waitClaim()
	if !ok {
		return nil, false
	}
	if p.wt.joiner == nil {
		// The joiner's upgrade failed after it claimed the slot.
		p.stopWaiting()
		code, msg := ClosePeerLost, "peer lost"
		if first != nil {
			code = 0
		}
		closePeers(p.s.cfg.CloseGrace, closing{p.host, code, msg})
		return nil, false
	}
	return first, true
}

// waitClaim waits until a joiner claims the slot and delivers (true) or the
// host's wait ends (false, host closed).
func (p *pipe) waitClaim() (first *dirResult, ok bool) {
	s, wt := p.s, p.wt
	maxWait := time.NewTimer(s.cfg.MaxHostWait)
	defer maxWait.Stop()
	idle := time.NewTimer(s.cfg.IdleTimeout)
	defer idle.Stop()
	for {
		var (
			why  reason
			code websocket.StatusCode
			msg  string
		)
		select {
		case <-wt.joined:
			return nil, true
		case res := <-p.results:
			p.running--
			if !s.unregister(wt) {
				<-wt.joined
				return &res, true
			}
			closePeers(s.cfg.CloseGrace, p.sourceClosing(p.host, res, true))
			return nil, false
		case <-maxWait.C:
			why, code, msg = reasonWaitExpired, CloseWaitExpired, "no joiner came"
		case <-idle.C:
			if wt.pending.Load() {
				idle.Reset(s.cfg.IdleTimeout)
				continue
			}
			if since := time.Since(time.Unix(0, wt.lastPing.Load())); since < s.cfg.IdleTimeout {
				idle.Reset(s.cfg.IdleTimeout - since)
				continue
			}
			why, code, msg = reasonHostIdle, CloseIdle, "host sent no ping"
		case <-s.done:
			why, code, msg = reasonShuttingDown, CloseGoingAway, "relay shutting down"
		}
		if !s.unregister(wt) {
			<-wt.joined // claimed meanwhile: pipe after all
			return nil, true
		}
		s.metrics.reject(why)
		s.log.Debug("relay: host dropped", "src", wt.src.String(), "reason", why.String())
		p.stopWaiting()
		closePeers(s.cfg.CloseGrace, closing{p.host, code, msg})
		return nil, false
	}
}

// sourceClosing says how to close the side whose read ended per res, and
// counts the rejection if it broke a rule.
func (p *pipe) sourceClosing(c *peer, res dirResult, count bool) closing {
	switch {
	case res.text:
		if count {
			p.s.metrics.reject(reasonTextMessage)
		}
		return closing{c, ClosePolicy, "binary messages only"}
	case errors.Is(res.err, websocket.ErrMessageTooBig):
		if count {
			p.s.metrics.reject(reasonMessageTooBig)
		}
		return closing{c, 0, ""} // the library already sent 1009
	}
	return closing{c, 0, ""}
}

// relay runs the piped pair until one side ends, the pair idles out or the
// server closes, then closes both sides. first is a result already received.
func (p *pipe) relay(first *dirResult) {
	s := p.s
	joiner := p.wt.joiner
	grace := s.cfg.CloseGrace
	if first == nil {
		idle := time.NewTimer(s.cfg.IdleTimeout)
		defer idle.Stop()
	loop:
		for {
			select {
			case res := <-p.results:
				p.running--
				first = &res
				break loop
			case <-idle.C:
				since := time.Since(time.Unix(0, p.activity.Load()))
				if since < s.cfg.IdleTimeout {
					idle.Reset(s.cfg.IdleTimeout - since)
					continue
				}
				s.metrics.reject(reasonIdleTimeout)
				s.log.Debug("relay: pair idle", "src", p.wt.src.String())
				closePeers(grace, closing{p.host, CloseIdle, "idle timeout"}, closing{joiner, CloseIdle, "idle timeout"})
				return
			case <-s.done:
				closePeers(grace, closing{p.host, CloseGoingAway, "relay shutting down"},
					closing{joiner, CloseGoingAway, "relay shutting down"})
				return
			}
		}
	}
	if !first.readErr && p.running > 0 {
		// Writing to one side failed: it is gone. What it sent before it
		// went may still be on its way to the other side (a client that
		// closes abruptly after its last message makes the relay's next
		// write to it fail before that message was copied): give that
		// direction up to CloseGrace to deliver it, and let how it ended
		// say how the other side is closed.
		t := time.NewTimer(grace)
		select {
		case res := <-p.results:
			p.running--
			if res.readErr {
				first = &res
			}
		case <-t.C:
		}
		t.Stop()
	}
	src, dst := joiner, p.host
	if first.fromHost {
		src, dst = p.host, joiner
	}
	if !first.readErr {
		// Writing to dst failed: dst is gone.
		closePeers(grace, closing{dst, 0, ""}, closing{src, ClosePeerLost, "peer lost"})
		return
	}
	code, msg := ClosePeerLost, "peer lost"
	if st := websocket.CloseStatus(first.err); st == websocket.StatusNormalClosure || st == websocket.StatusGoingAway {
		code, msg = CloseNormal, ""
	}
	closePeers(grace, p.sourceClosing(src, *first, true), closing{dst, code, msg})
}
