package relay

import (
	"bufio"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/coder/websocket"
)

// hijackRecorder lets websocket.Accept hijack the connection and keeps the
// raw net.Conn, so that a close handshake the peer never answers can be cut
// short.
type hijackRecorder struct {
	http.ResponseWriter
	raw net.Conn
}

func (h *hijackRecorder) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	c, brw, err := http.NewResponseController(h.ResponseWriter).Hijack()
	h.raw = c
	return c, brw, err
}

// peer is one upgraded connection.
type peer struct {
	ws  *websocket.Conn
	raw net.Conn // the hijacked TCP (or TLS) connection under ws
}

// accept upgrades the request and returns the peer.
func (s *Server) accept(w http.ResponseWriter, r *http.Request, wt *waiter) (*peer, error) {
	hr := &hijackRecorder{ResponseWriter: w}
	ws, err := websocket.Accept(hr, r, s.acceptOptions(wt))
	if err != nil {
		if hr.raw != nil {
			_ = hr.raw.Close()
		}
		return nil, err
	}
	ws.SetReadLimit(s.cfg.MaxMessageSize)
	return &peer{ws: ws, raw: hr.raw}, nil
}

// closing is one connection to close: code 0 means at once, without a close
// handshake.
type closing struct {
	p    *peer
	code websocket.StatusCode
	msg  string
}

// closePeers closes every peer concurrently. A close handshake the peer does
// not answer within grace is cut short by closing the raw connection.
func closePeers(grace time.Duration, cs ...closing) {
	var wg sync.WaitGroup
	done := make(chan struct{})
	for _, c := range cs {
		wg.Go(func() {
			if c.code == 0 {
				_ = c.p.ws.CloseNow()
			} else {
				_ = c.p.ws.Close(c.code, c.msg)
			}
		})
	}
	go func() { wg.Wait(); close(done) }()
	t := time.NewTimer(grace)
	defer t.Stop()
	select {
	case <-done:
		return
	case <-t.C:
	}
	for _, c := range cs {
		if c.p.raw != nil {
			_ = c.p.raw.Close()
		}
	}
	<-done
}
