package relay

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
)

// Server is a rendezvous + relay server. Create it with [NewServer], mount
// [Server.Handler] or run [Server.Serve], and end it with [Server.Close] (Serve
// does so itself when its context ends).
type Server struct {
	cfg     Config
	log     *slog.Logger
	handler http.Handler
	metrics metrics
	rate    *rateLimiter
	conns   *connCounter

	// done is closed by Close; every waiting host and piped pair watches it.
	done      chan struct{}
	closeOnce sync.Once

	life struct {
		sync.Mutex
		closed   bool
		serving  bool
		handlers sync.WaitGroup // slot handlers in flight; Add only while !closed
	}

	slots struct {
		sync.Mutex
		m map[string]*waiter
	}
}

// NewServer returns a Server for cfg; zero fields of cfg take their defaults.
func NewServer(cfg Config) (*Server, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	s := &Server{
		cfg:   cfg,
		log:   cfg.Logger,
		rate:  newRateLimiter(cfg.LookupRate, cfg.LookupBurst, cfg.MaxLimiterEntries),
		conns: newConnCounter(cfg.MaxConnsPerIP, cfg.MaxConns),
		done:  make(chan struct{}),
	}
	s.slots.m = make(map[string]*waiter)
	mux := http.NewServeMux()
	mux.HandleFunc(SlotPath, s.serveSlot)
	mux.HandleFunc(HealthPath, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = w.Write([]byte("ok"))
	})
	mux.Handle(MetricsPath, s.metrics.handler())
	s.handler = mux
	return s, nil
}

// Handler returns the server's HTTP handler: the slot endpoint, /healthz and
// /metrics. Connections it upgrades are ended by [Server.Close].
func (s *Server) Handler() http.Handler { return s.handler }

// Stats returns a snapshot of the server's gauges and counters.
func (s *Server) Stats() Stats { return s.metrics.snapshot() }

// Serve serves HTTP on ln until ctx is done or [Server.Close] is called, then
// closes every WebSocket (close code 1001, which clients read as io.EOF),
// waits for every goroutine it started and returns nil. It returns an error if
// ln fails. Serve may be called once; it closes ln.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	s.life.Lock()
	if s.life.closed || s.life.serving {
		s.life.Unlock()
		_ = ln.Close()
		return ErrServerClosed
	}
	s.life.serving = true
	s.life.Unlock()

	// Every plain HTTP exchange is bounded, or one source could hold
	// connections (a kept-alive one, a request whose body never comes)
	// that no per-IP limit counts. Upgraded connections are not: net/http
	// clears the deadlines when the WebSocket hijacks the connection.
	hs := &http.Server{
		Handler:           s.handler,
		ReadHeaderTimeout: s.cfg.ReadHeaderTimeout,
		ReadTimeout:       s.cfg.ReadHeaderTimeout,
		WriteTimeout:      s.cfg.ReadHeaderTimeout,
		IdleTimeout:       s.cfg.ReadHeaderTimeout,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelDebug),
	}
	serveErr := make(chan error, 1)
	go func() { serveErr <- hs.Serve(ln) }()
	s.log.Info("relay listening", "addr", ln.Addr().String())

	var err error
	select {
	case <-ctx.Done():
	case <-s.done:
	case err = <-serveErr:
		err = fmt.Errorf("relay: failed to serve: %w", err)
	}
	// Close our WebSockets first (hijacked, so invisible to hs.Shutdown),
	// then stop the listener and drain plain HTTP requests.
	_ = s.Close()
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.cfg.ShutdownTimeout)
	defer cancel()
	if serr := hs.Shutdown(sctx); serr != nil {
		_ = hs.Close()
	}
	if err == nil {
		if e := <-serveErr; !errors.Is(e, http.ErrServerClosed) {
			err = fmt.Errorf("relay: failed to serve: %w", e)
		}
	}
	s.log.Info("relay stopped", "pairs", s.metrics.pairs.Load())
	return err
}

// ListenAndServe listens on the TCP address addr and calls [Server.Serve].
// With certFile and keyFile it serves HTTPS (and so wss://) with that
// certificate; both or neither must be set.
func (s *Server) ListenAndServe(ctx context.Context, addr, certFile, keyFile string) error {
	if (certFile == "") != (keyFile == "") {
		return errors.New("relay: need both a TLS certificate and a key, or neither")
	}
	var tcfg *tls.Config
	if certFile != "" {
		cert, err := tls.LoadX509KeyPair(certFile, keyFile)
		if err != nil {
			return fmt.Errorf("relay: failed to load TLS key pair: %w", err)
		}
		// HTTP/1.1 only: WebSocket upgrades need it.
		tcfg = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12, NextProtos: []string{"http/1.1"}}
	}
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", addr)
	if err != nil {
		return fmt.Errorf("relay: failed to listen: %w", err)
	}
	if tcfg != nil {
		ln = tls.NewListener(ln, tcfg)
	}
	return s.Serve(ctx, ln)
}

// Close ends every waiting host and piped pair (close code 1001), refuses new
// slot requests with 503, and waits until every slot handler has returned. It
// does not stop a listener passed to Serve; cancel Serve's context for that
// (Serve calls Close). Close is idempotent.
func (s *Server) Close() error {
	s.closeOnce.Do(func() {
		s.life.Lock()
		s.life.closed = true
		s.life.Unlock()
		close(s.done)
	})
	s.life.handlers.Wait()
	return nil
}

// enter registers a slot handler; it fails once the server is closed.
func (s *Server) enter() bool {
	s.life.Lock()
	defer s.life.Unlock()
	if s.life.closed {
		return false
	}
	s.life.handlers.Add(1)
	return true
}

func (s *Server) leave() { s.life.handlers.Done() }
