package cairn

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/cairn-dev/cairn/internal/loadtest"
	"github.com/cairn-dev/cairn/relay"
)

// The load test drives one relay, running in its own process, with N
// concurrent PIN pairings and then N concurrent relayed sessions, all on
// loopback. N is 100 by default (25 with -short), 1000 with CAIRN_LOAD=full,
// or CAIRN_LOAD_N. With CAIRN_LOAD_OUT=file it writes its figures there
// (JSON if the name ends in .json, else Markdown). The full run:
//
//	CAIRN_LOAD=full CAIRN_LOAD_OUT=/tmp/load.md go test -run '^TestLoad$' -v -timeout 30m .
//
// All 2N nodes run in the test process; the relay runs in a child process
// (the test binary re-executed) so that its CPU time and memory can be read
// from /proc. Every node dials the relay from 127.0.0.1, so the relay runs
// with its per-source-IP limits raised (loadRelayConfig); every other relay
// setting is the default.
const (
	envLoad    = "CAIRN_LOAD"
	envLoadN   = "CAIRN_LOAD_N"
	envLoadOut = "CAIRN_LOAD_OUT"
)

// Environment of a relay child process.
const (
	roleRelay       = "relay"
	envRelayListen  = "CAIRN_LOADTEST_LISTEN"
	envRelayLimits  = "CAIRN_LOADTEST_LIMITS" // "load": loadRelayConfig; otherwise the defaults
	relayChildLife  = 30 * time.Minute
	loadMsgsPerSess = 20
	loadMsgSize     = 1 << 10
)

// loadRelayConfig is the relay configuration of the load test: the defaults,
// except the per-source-IP limits, which one loopback address would hit at
// once (64 connections, 20 requests/s).
func loadRelayConfig() relay.Config {
	return relay.Config{
		MaxConnsPerIP: 1 << 20,
		LookupRate:    1e6,
		LookupBurst:   1 << 20,
	}
}

// TestLoadChildRelay is the relay process of the load and fault tests.
func TestLoadChildRelay(t *testing.T) {
	loadtest.ChildOnly(t, roleRelay)
	cfg := relay.Config{}
	if os.Getenv(envRelayLimits) == "load" {
		cfg = loadRelayConfig()
	}
	srv, err := relay.NewServer(cfg)
	if err != nil {
		t.Fatal(err)
	}
	addr := os.Getenv(envRelayListen)
	ln, err := net.Listen("tcp", addr)
	// A relay killed a moment ago may still be releasing the port.
	for i := 0; err != nil && errors.Is(err, syscall.EADDRINUSE) && i < 100; i++ {
		time.Sleep(20 * time.Millisecond)
		ln, err = net.Listen("tcp", addr)
	}
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), relayChildLife)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, ln) }()
	loadtest.Signal("url", "http://"+ln.Addr().String())
	if err := loadtest.WaitForParent(ctx); err != nil {
		t.Error(err)
	}
	cancel()
	if err := <-done; err != nil && !errors.Is(err, relay.ErrServerClosed) {
		t.Fatal(err)
	}
}

// startRelayProcess runs a relay in a child process listening on addr
// (host:port on loopback; port 0 picks one) and returns it and its URL.
// limits "load" raises the per-IP limits (loadRelayConfig).
func startRelayProcess(t testing.TB, addr, limits string) (*loadtest.Child, string) {
	t.Helper()
	c := loadtest.Start(t, "TestLoadChildRelay", roleRelay,
		map[string]string{envRelayListen: addr, envRelayLimits: limits}, relayChildLife)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	url, err := c.WaitSignal(ctx, "url")
	if err != nil {
		t.Fatal(err)
	}
	return c, url
}

// loadN returns the number of pairs the load test runs.
func loadN(t *testing.T) int {
	if s := os.Getenv(envLoadN); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			t.Fatalf("%s=%q: want a positive number", envLoadN, s)
		}
		return n
	}
	switch {
	case os.Getenv(envLoad) == "full":
		return 1000
	case testing.Short():
		return 25
	}
	return 100
}

// loadReport is what the load test measures.
type loadReport struct {
	N        int    `json:"n"`
	Race     bool   `json:"race"`
	Go       string `json:"go"`
	CPU      string `json:"cpu"`
	Cores    int    `json:"cores"`
	Duration string `json:"duration"`

	Setup        string           `json:"nodes_setup"`    // creating the 2N nodes, 16 at a time
	Teardown     string           `json:"nodes_teardown"` // closing them, 32 at a time
	CloseLatency loadtest.Summary `json:"node_close"`     // one Node.Close

	BasePairing time.Duration `json:"baseline_pairing_ns"` // one pairing alone
	BaseConnect time.Duration `json:"baseline_connect_ns"` // one Connect alone
	BaseRTT     time.Duration `json:"baseline_rtt_ns"`     // median echo, one session alone

	PairOK      int              `json:"pairings_ok"`
	PairLatency loadtest.Summary `json:"pairing_latency"` // PairEnterPin called -> both sides paired
	PinLatency  loadtest.Summary `json:"pin_register"`    // PairGeneratePin (slot reserved at the relay)
	PairPhase   string           `json:"pairing_phase"`   // wall time of the whole phase
	SessOK      int              `json:"sessions_ok"`     // sessions that exchanged every message
	ConnLatency loadtest.Summary `json:"connect_latency"` // Connect through the relay
	RTT         loadtest.Summary `json:"message_rtt"`     // 1 KiB message and its echo
	SessPhase   string           `json:"sessions_phase"`  // wall time of the whole phase
	Messages    int              `json:"messages_echoed"` // in all sessions
	SessClose   loadtest.Summary `json:"session_close"`   // dialer's Close -> acceptor's session ended by it

	RelayCPUPairing  string `json:"relay_cpu_pairing"`
	RelayCPUSessions string `json:"relay_cpu_sessions"`
	RelayCPUPerPair  string `json:"relay_cpu_per_pairing"`
	RelayCPUPerSess  string `json:"relay_cpu_per_session"`
	RelayRSSIdle     int64  `json:"relay_rss_idle"`
	RelayRSSHosting  int64  `json:"relay_rss_after_pairing"` // 2N session slots hosted
	RelayRSSSessions int64  `json:"relay_rss_sessions_open"` // and N sessions piped
	RelayRSSPeak     int64  `json:"relay_rss_peak"`
	RelayRSSPerSess  int64  `json:"relay_rss_per_session"` // (sessions open - after pairing) / N
	RelayRSSPerConn  int64  `json:"relay_rss_per_conn"`    // (after pairing - idle) / 2N hosted slots
	RelayFDsPeak     int    `json:"relay_fds_peak"`
	RelayThreads     int    `json:"relay_threads_peak"`
	RelayWaiting     int64  `json:"relay_waiting_slots_sessions_open"`
	RelayPiped       int64  `json:"relay_piped_pairs_sessions_open"`
	RelayRejections  string `json:"relay_rejections"`

	TestGoroutines int `json:"test_goroutines_peak"`
	TestFDs        int `json:"test_fds_peak"`
	TestLockLeak   int `json:"test_lock_fds_leaked"`
	TestOtherLeak  int `json:"test_socket_fds_leaked"`
}

// TestLoad: N concurrent PIN pairings through one relay process, then N
// concurrent sessions through it, each echoing sequence-numbered messages.
// Every pairing and every session must succeed; the figures are logged.
func TestLoad(t *testing.T) {
	if loadtest.InChild() {
		t.Skip("parent test")
	}
	n := loadN(t)
	begin := time.Now()
	rep := &loadReport{N: n, Race: loadtest.Race, Go: runtime.Version(), CPU: cpuModel(), Cores: runtime.NumCPU()}
	ensureFDs(t, 9*n+200) // measured: 8.5 per pair at N = 1000
	fdsBefore := openFDs(t)

	relayProc, url := startRelayProcess(t, "127.0.0.1:0", "load")
	pid := relayProc.Pid()
	idle := readProc(t, pid)
	rep.RelayRSSIdle = idle.RSS

	// Sample the relay and this process while the test runs.
	var peakFDs, peakThreads, peakG, peakSelfFDs atomic.Int64
	stopSampling := make(chan struct{})
	var sampling sync.WaitGroup
	sampling.Go(func() {
		tick := time.NewTicker(100 * time.Millisecond)
		defer tick.Stop()
		for {
			if st, err := loadtest.ReadProc(pid); err == nil {
				storeMax(&peakFDs, int64(st.FDs))
				storeMax(&peakThreads, int64(st.Threads))
			}
			storeMax(&peakG, int64(runtime.NumGoroutine()))
			if ents, err := os.ReadDir("/proc/self/fd"); err == nil {
				storeMax(&peakSelfFDs, int64(len(ents)))
			}
			select {
			case <-stopSampling:
				return
			case <-tick.C:
			}
		}
	})
	defer func() {
		close(stopSampling)
		sampling.Wait()
	}()

	// 2N nodes. Default heartbeats: what a user gets.
	as, bs := make([]*Node, n), make([]*Node, n)
	dataRoot := t.TempDir()
	setup := time.Now()
	parallel(n, 16, func(i int) error {
		var err error
		for k, p := range []**Node{&as[i], &bs[i]} {
			*p, err = New(WithDataDir(filepath.Join(dataRoot, fmt.Sprintf("%d-%d", i, k))),
				WithListenAddr("127.0.0.1:0"), WithMDNS(false), WithRelay(url))
			if err != nil {
				return err
			}
		}
		return nil
	}, t)
	rep.Setup = loadtest.Round(time.Since(setup)).String()
	closeLat := &loadtest.Latencies{}
	closeNodes := sync.OnceFunc(func() {
		teardown := time.Now()
		parallel(n, 32, func(i int) error {
			for _, x := range []*Node{as[i], bs[i]} {
				if x != nil {
					t0 := time.Now()
					x.Close()
					closeLat.Since(t0)
				}
			}
			return nil
		}, nil)
		rep.Teardown = loadtest.Round(time.Since(teardown)).String()
		rep.CloseLatency = closeLat.Summary()
	})
	defer closeNodes()
	if t.Failed() {
		return
	}

	// Baseline: one pairing and one session alone, through the same relay.
	if err := loadBaseline(t, url, dataRoot, rep); err != nil {
		t.Fatalf("baseline: %v", err)
	}

	// Phase 1: N PIN pairings at once.
	pairLat, pinLat := &loadtest.Latencies{}, &loadtest.Latencies{}
	phase := phaseBudget(n)
	ctx, cancel := context.WithTimeout(context.Background(), phase)
	defer cancel()
	errs := &errorSample{}
	start := time.Now()
	parallel(n, n, func(i int) error {
		t0 := time.Now()
		p, err := as[i].PairGeneratePin(ctx)
		if err != nil {
			return fmt.Errorf("pair %d: PairGeneratePin: %w", i, err)
		}
		pinLat.Since(t0)
		t1 := time.Now()
		got, err := bs[i].PairEnterPin(ctx, p.Pin)
		if err != nil {
			p.Cancel()
			return fmt.Errorf("pair %d: PairEnterPin: %w", i, err)
		}
		peer, err := p.Wait(ctx)
		if err != nil {
			return fmt.Errorf("pair %d: Wait: %w", i, err)
		}
		if got != as[i].PeerID() || peer != bs[i].PeerID() {
			return fmt.Errorf("pair %d: paired with the wrong peers", i)
		}
		pairLat.Since(t1)
		return nil
	}, errs)
	rep.PairPhase = loadtest.Round(time.Since(start)).String()
	rep.PairOK = pairLat.Len()
	rep.PairLatency, rep.PinLatency = pairLat.Summary(), pinLat.Summary()
	t.Logf("pairing: %d/%d in %s; enter->paired %v; PIN registration %v", rep.PairOK, n, rep.PairPhase, rep.PairLatency, rep.PinLatency)
	if rep.PairOK != n {
		t.Errorf("%d of %d pairings failed; first errors:\n%s", n-rep.PairOK, n, errs)
		return
	}
	// Let every node host its session slot (two per pair) before measuring.
	waitMetric(t, url, "cairn_relay_waiting_slots", int64(2*n), 60*time.Second)
	afterPairing := readProc(t, pid)
	rep.RelayRSSHosting = afterPairing.RSS
	rep.RelayCPUPairing = loadtest.Round(afterPairing.CPU - idle.CPU).String()
	rep.RelayCPUPerPair = loadtest.Round((afterPairing.CPU - idle.CPU) / time.Duration(n)).String()
	rep.RelayRSSPerConn = (afterPairing.RSS - idle.RSS) / int64(2*n)

	// Phase 2: N sessions at once, each echoing sequence-numbered messages;
	// all stay open until every one has finished, then the relay is measured.
	lat := &sessionLatencies{}
	ctx2, cancel2 := context.WithTimeout(context.Background(), phase)
	defer cancel2()
	var echoed atomic.Int64
	finished := make(chan struct{}, n)
	release := make(chan struct{})
	var sessions sync.WaitGroup
	errs2 := &errorSample{}
	var ok atomic.Int64
	start = time.Now()
	for i := range n {
		sessions.Go(func() {
			report := sync.OnceFunc(func() { finished <- struct{}{} })
			defer report()
			if err := loadSession(ctx2, as[i], bs[i], lat, &echoed, report, release); err != nil {
				errs2.add(fmt.Errorf("session %d: %w", i, err))
				return
			}
			ok.Add(1)
		})
	}
	// Each session reports once, when it finished its exchange or failed.
	measured := false
	for range n {
		select {
		case <-finished:
		case <-ctx2.Done():
		}
	}
	if ctx2.Err() == nil {
		open := readProc(t, pid)
		rep.RelayRSSSessions = open.RSS
		rep.RelayWaiting = relayMetric(t, url, "cairn_relay_waiting_slots")
		rep.RelayPiped = relayMetric(t, url, "cairn_relay_piped_pairs")
		measured = true
	}
	rep.SessPhase = loadtest.Round(time.Since(start)).String()
	close(release)
	sessions.Wait()
	rep.SessOK = int(ok.Load())
	rep.Messages = int(echoed.Load())
	rep.ConnLatency, rep.RTT, rep.SessClose = lat.connect.Summary(), lat.rtt.Summary(), lat.close.Summary()
	t.Logf("sessions: %d/%d in %s; connect %v; 1 KiB echo %v; %d messages; Close seen by the acceptor after %v",
		rep.SessOK, n, rep.SessPhase, rep.ConnLatency, rep.RTT, rep.Messages, rep.SessClose)
	if rep.SessOK != n || rep.Messages != n*loadMsgsPerSess {
		t.Errorf("%d of %d sessions failed, %d of %d messages echoed; first errors:\n%s", n-rep.SessOK, n, rep.Messages, n*loadMsgsPerSess, errs2)
	}
	after := readProc(t, pid)
	rep.RelayCPUSessions = loadtest.Round(after.CPU - afterPairing.CPU).String()
	rep.RelayCPUPerSess = loadtest.Round((after.CPU - afterPairing.CPU) / time.Duration(n)).String()
	rep.RelayRSSPeak = after.PeakRSS
	if measured {
		rep.RelayRSSPerSess = (rep.RelayRSSSessions - rep.RelayRSSHosting) / int64(n)
	}
	rep.RelayRejections = relayRejections(t, url)

	closeNodes()
	rep.TestGoroutines = int(peakG.Load())
	rep.TestFDs = int(peakSelfFDs.Load())
	rep.RelayFDsPeak = int(peakFDs.Load())
	rep.RelayThreads = int(peakThreads.Load())
	rep.TestLockLeak, rep.TestOtherLeak = fdLeaks(t, fdsBefore)
	rep.Duration = loadtest.Round(time.Since(begin)).String()

	t.Logf("relay CPU: pairing %s (%s per pairing), sessions %s (%s per session)",
		rep.RelayCPUPairing, rep.RelayCPUPerPair, rep.RelayCPUSessions, rep.RelayCPUPerSess)
	t.Logf("relay RSS: idle %s, %d slots hosted %s (%s per hosted slot), %d sessions open %s (%s per session), peak %s",
		loadtest.MiB(rep.RelayRSSIdle), 2*n, loadtest.MiB(rep.RelayRSSHosting), loadtest.KiB(float64(rep.RelayRSSPerConn)),
		n, loadtest.MiB(rep.RelayRSSSessions), loadtest.KiB(float64(rep.RelayRSSPerSess)), loadtest.MiB(rep.RelayRSSPeak))
	t.Logf("relay: peak %d fds, %d threads; %d waiting slots and %d piped pairs with all sessions open; rejections: %s",
		rep.RelayFDsPeak, rep.RelayThreads, rep.RelayWaiting, rep.RelayPiped, rep.RelayRejections)
	t.Logf("test process: peak %d goroutines, %d fds; after closing every node %d store lock files and %d sockets still open",
		rep.TestGoroutines, rep.TestFDs, rep.TestLockLeak, rep.TestOtherLeak)
	t.Logf("%d nodes created in %s, closed in %s; one Close: %v", 2*n, rep.Setup, rep.Teardown, rep.CloseLatency)
	if rep.TestOtherLeak > 0 {
		t.Errorf("%d sockets leaked by %d closed nodes", rep.TestOtherLeak, 2*n)
	}
	if out := os.Getenv(envLoadOut); out != "" {
		if err := writeLoadReport(out, rep); err != nil {
			t.Error(err)
		}
	}
}

// loadBaseline pairs two fresh nodes and runs one session between them,
// alone, and records the latencies the load phases are compared with.
func loadBaseline(t *testing.T, url, dataRoot string, rep *loadReport) error {
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	var nodes [2]*Node
	for k := range nodes {
		n, err := New(WithDataDir(filepath.Join(dataRoot, fmt.Sprintf("base-%d", k))),
			WithListenAddr("127.0.0.1:0"), WithMDNS(false), WithRelay(url))
		if err != nil {
			return err
		}
		defer n.Close()
		nodes[k] = n
	}
	a, b := nodes[0], nodes[1]
	p, err := a.PairGeneratePin(ctx)
	if err != nil {
		return err
	}
	t0 := time.Now()
	if _, err := b.PairEnterPin(ctx, p.Pin); err != nil {
		return err
	}
	if _, err := p.Wait(ctx); err != nil {
		return err
	}
	rep.BasePairing = time.Since(t0)
	lat := &sessionLatencies{}
	var echoed atomic.Int64
	release := make(chan struct{})
	close(release)
	if err := loadSession(ctx, a, b, lat, &echoed, func() {}, release); err != nil {
		return err
	}
	rep.BaseConnect, rep.BaseRTT = lat.connect.Quantile(0.5), lat.rtt.Quantile(0.5)
	t.Logf("baseline, one pair alone: pairing %v, Connect %v, 1 KiB echo p50 %v",
		loadtest.Round(rep.BasePairing), loadtest.Round(rep.BaseConnect), loadtest.Round(rep.BaseRTT))
	return nil
}

// loadSession connects b to a through the relay, echoes loadMsgsPerSess
// sequence-numbered messages, calls finished and holds the session open
// until release.
func loadSession(ctx context.Context, a, b *Node, lat *sessionLatencies, echoed *atomic.Int64, finished func(), release <-chan struct{}) error {
	echoDone := make(chan error, 1)
	go func() { echoDone <- echo(ctx, a) }()
	t0 := time.Now()
	s, err := b.Connect(ctx, a.PeerID())
	if err != nil {
		return fmt.Errorf("Connect: %w", err)
	}
	closed := false
	defer func() {
		if !closed {
			s.Close()
			<-echoDone
		}
	}()
	lat.connect.Since(t0)
	ch, err := s.OpenChannel(ctx, "load")
	if err != nil {
		return err
	}
	msg := make([]byte, loadMsgSize)
	for k := range loadMsgsPerSess {
		binary.BigEndian.PutUint64(msg, uint64(k))
		_, _ = rand.Read(msg[8:])
		t1 := time.Now()
		if err := ch.Send(ctx, msg); err != nil {
			return fmt.Errorf("Send %d: %w", k, err)
		}
		got, err := ch.Receive(ctx)
		if err != nil {
			return fmt.Errorf("Receive %d: %w", k, err)
		}
		if !bytes.Equal(got, msg) {
			return fmt.Errorf("echo %d differs (seq %d)", k, binary.BigEndian.Uint64(got))
		}
		lat.rtt.Since(t1)
		echoed.Add(1)
	}
	finished()
	select {
	case <-release:
	case <-ctx.Done():
		return ctx.Err()
	}
	// The acceptor must learn that the session ended from the Close
	// record, not by waiting out the resume timeout (2 minutes).
	closed = true
	t2 := time.Now()
	s.Close()
	select {
	case err := <-echoDone:
		if err != nil {
			return fmt.Errorf("acceptor: %w", err)
		}
		lat.close.Since(t2)
	case <-time.After(loadCloseBound):
		return fmt.Errorf("the acceptor did not see the session close within %v", loadCloseBound)
	}
	return nil
}

// loadCloseBound bounds how long an acceptor may take to see the dialer's
// Close once the dialer called it.
const loadCloseBound = 30 * time.Second

type sessionLatencies struct {
	connect, rtt, close loadtest.Latencies
}

// errUncleanEnd: a session ended other than by the peer's Close record.
var errUncleanEnd = errors.New("the session did not end with the peer's Close")

// echo accepts one session on n and echoes every message of its first
// channel until the session ends, which must be by the peer's Close.
func echo(ctx context.Context, n *Node) error {
	s, err := n.Accept(ctx)
	if err != nil {
		return err
	}
	defer s.Close()
	ch, err := s.AcceptChannel(ctx)
	if err != nil {
		return err
	}
	for {
		msg, err := ch.Receive(ctx)
		if err != nil {
			break
		}
		if err := ch.Send(ctx, msg); err != nil {
			break
		}
	}
	select {
	case <-s.Done():
	case <-ctx.Done():
		return ctx.Err()
	}
	if err := s.Err(); !errors.Is(err, ErrSessionClosed) {
		return fmt.Errorf("%w: %w", errUncleanEnd, err)
	}
	return nil
}

// phaseBudget bounds one phase of the load test.
func phaseBudget(n int) time.Duration {
	d := 60*time.Second + time.Duration(n)*300*time.Millisecond
	if loadtest.Race {
		d *= 2
	}
	return d
}

// parallel runs f(0..n-1) with at most limit at once. Errors go to errs
// (an *errorSample, a testing.TB that fails, or nil to ignore them).
func parallel(n, limit int, f func(i int) error, errs any) {
	sem := make(chan struct{}, limit)
	var wg sync.WaitGroup
	for i := range n {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			err := f(i)
			if err == nil {
				return
			}
			switch e := errs.(type) {
			case *errorSample:
				e.add(err)
			case testing.TB:
				e.Error(err)
			}
		})
	}
	wg.Wait()
}

// errorSample keeps the first few errors of many.
type errorSample struct {
	mu    sync.Mutex
	n     int
	first []string
}

func (e *errorSample) add(err error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.n++
	if len(e.first) < 10 {
		e.first = append(e.first, err.Error())
	}
}

func (e *errorSample) String() string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return fmt.Sprintf("%d errors:\n\t%s", e.n, strings.Join(e.first, "\n\t"))
}

func storeMax(a *atomic.Int64, v int64) {
	for {
		old := a.Load()
		if v <= old || a.CompareAndSwap(old, v) {
			return
		}
	}
}

func readProc(t testing.TB, pid int) loadtest.ProcStats {
	t.Helper()
	st, err := loadtest.ReadProc(pid)
	if err != nil {
		t.Fatalf("reading /proc/%d: %v", pid, err)
	}
	return st
}

// ensureFDs raises this process's open-file limit to need if the hard limit
// allows, and skips the test if it cannot.
func ensureFDs(t *testing.T, need int) {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		t.Fatal(err)
	}
	if lim.Cur >= uint64(need) {
		return
	}
	if lim.Max < uint64(need) {
		t.Skipf("needs %d open files, the hard limit is %d (raise it with ulimit -Hn)", need, lim.Max)
	}
	lim.Cur = lim.Max
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		t.Fatalf("raising RLIMIT_NOFILE to %d: %v", lim.Max, err)
	}
}

// openFDs returns this process's open file descriptors and their targets.
func openFDs(t testing.TB) map[string]string {
	t.Helper()
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	m := make(map[string]string, len(ents))
	for _, e := range ents {
		target, err := os.Readlink("/proc/self/fd/" + e.Name())
		if err == nil {
			m[e.Name()] = target
		}
	}
	return m
}

// fdLeaks counts file descriptors opened since before and still open: store
// lock files (Node.Close does not close its store; the os.File finalizer
// closes them when the GC runs) and sockets.
func fdLeaks(t testing.TB, before map[string]string) (locks, other int) {
	t.Helper()
	// Sockets a closing peer left in the kernel can take a moment.
	var leaked []string
	for range 50 {
		leaked = leaked[:0]
		for fd, target := range openFDs(t) {
			if before[fd] != target {
				leaked = append(leaked, target)
			}
		}
		locks, other = 0, 0
		for _, target := range leaked {
			switch {
			case filepath.Base(target) == "lock":
				locks++
			case strings.HasPrefix(target, "socket:"):
				other++
			}
			// Pipes and a pidfd belong to the relay child process.
		}
		if other == 0 {
			return locks, 0
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Logf("leaked fds: %v", leaked[:min(len(leaked), 20)])
	return locks, other
}

// relayMetric reads one unlabelled metric from the relay's /metrics.
func relayMetric(t testing.TB, url, name string) int64 {
	t.Helper()
	m, err := scrape(url)
	if err != nil {
		t.Fatal(err)
	}
	return m[name]
}

// relayRejections lists the relay's non-zero rejection counters.
func relayRejections(t testing.TB, url string) string {
	t.Helper()
	m, err := scrape(url)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for k, v := range m {
		if r, ok := strings.CutPrefix(k, "cairn_relay_rejections_total{reason=\""); ok && v > 0 {
			out = append(out, strings.TrimSuffix(r, "\"}")+"="+strconv.FormatInt(v, 10))
		}
	}
	if len(out) == 0 {
		return "none"
	}
	return strings.Join(out, ", ")
}

// scrape reads the relay's Prometheus text metrics.
func scrape(url string) (map[string]int64, error) {
	tr := &http.Transport{DisableKeepAlives: true}
	defer tr.CloseIdleConnections()
	resp, err := (&http.Client{Transport: tr, Timeout: 10 * time.Second}).Get(url + relay.MetricsPath)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	m := make(map[string]int64)
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "#") {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		if i < 0 {
			continue
		}
		if v, err := strconv.ParseInt(line[i+1:], 10, 64); err == nil {
			m[line[:i]] = v
		}
	}
	return m, sc.Err()
}

// waitMetric waits until the relay's metric reaches want.
func waitMetric(t testing.TB, url, name string, want int64, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	var got int64
	for time.Now().Before(deadline) {
		got = relayMetric(t, url, name)
		if got >= want {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Errorf("relay %s = %d after %v, want %d", name, got, timeout, want)
}

func cpuModel() string {
	b, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return runtime.GOARCH
	}
	for line := range strings.Lines(string(b)) {
		if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return runtime.GOARCH
}

// writeLoadReport writes rep as JSON (a .json name) or as a Markdown table.
func writeLoadReport(path string, rep *loadReport) error {
	var b []byte
	if strings.HasSuffix(path, ".json") {
		var err error
		if b, err = json.MarshalIndent(rep, "", "  "); err != nil {
			return err
		}
		b = append(b, '\n')
	} else {
		var w bytes.Buffer
		row := func(k, v string, args ...any) { fmt.Fprintf(&w, "| %s | %s |\n", k, fmt.Sprintf(v, args...)) }
		fmt.Fprintf(&w, "| figure | N = %d |\n| --- | --- |\n", rep.N)
		row("machine", "%s, %d cores, %s%s", rep.CPU, rep.Cores, rep.Go, map[bool]string{true: ", -race", false: ""}[rep.Race])
		row("whole run", "%s (creating the 2N nodes %s, closing them %s)", rep.Duration, rep.Setup, rep.Teardown)
		row("pairings succeeded", "%d / %d (phase %s)", rep.PairOK, rep.N, rep.PairPhase)
		row("pairing latency (PIN entered → both paired)", "p50 %v, p99 %v, max %v; alone: %v", loadtest.Round(rep.PairLatency.P50), loadtest.Round(rep.PairLatency.P99), loadtest.Round(rep.PairLatency.Max), loadtest.Round(rep.BasePairing))
		row("PIN registration at the relay", "p50 %v, p99 %v", loadtest.Round(rep.PinLatency.P50), loadtest.Round(rep.PinLatency.P99))
		row("sessions succeeded", "%d / %d (phase %s), %d messages echoed", rep.SessOK, rep.N, rep.SessPhase, rep.Messages)
		row("Connect through the relay", "p50 %v, p99 %v, max %v; alone: %v", loadtest.Round(rep.ConnLatency.P50), loadtest.Round(rep.ConnLatency.P99), loadtest.Round(rep.ConnLatency.Max), loadtest.Round(rep.BaseConnect))
		row("1 KiB message echo (round trip)", "p50 %v, p99 %v, max %v; alone: p50 %v", loadtest.Round(rep.RTT.P50), loadtest.Round(rep.RTT.P99), loadtest.Round(rep.RTT.Max), loadtest.Round(rep.BaseRTT))
		row("Session.Close → the peer's session ends (all N at once)", "p50 %v, p99 %v, max %v", loadtest.Round(rep.SessClose.P50), loadtest.Round(rep.SessClose.P99), loadtest.Round(rep.SessClose.Max))
		row("relay CPU, pairing phase", "%s (%s per pairing)", rep.RelayCPUPairing, rep.RelayCPUPerPair)
		row("relay CPU, session phase", "%s (%s per session)", rep.RelayCPUSessions, rep.RelayCPUPerSess)
		row("relay RSS idle", "%s", loadtest.MiB(rep.RelayRSSIdle))
		row("relay RSS, 2N session slots hosted", "%s (%s per hosted slot)", loadtest.MiB(rep.RelayRSSHosting), loadtest.KiB(float64(rep.RelayRSSPerConn)))
		row("relay RSS, N sessions open", "%s (%s per session)", loadtest.MiB(rep.RelayRSSSessions), loadtest.KiB(float64(rep.RelayRSSPerSess)))
		row("relay peak RSS / fds / threads", "%s / %d / %d", loadtest.MiB(rep.RelayRSSPeak), rep.RelayFDsPeak, rep.RelayThreads)
		row("relay with all sessions open", "%d waiting slots, %d piped pairs", rep.RelayWaiting, rep.RelayPiped)
		row("relay rejections", "%s", rep.RelayRejections)
		row("test process peak", "%d goroutines, %d fds", rep.TestGoroutines, rep.TestFDs)
		row("one Node.Close, 32 at a time", "p50 %v, p99 %v, max %v", loadtest.Round(rep.CloseLatency.P50), loadtest.Round(rep.CloseLatency.P99), loadtest.Round(rep.CloseLatency.Max))
		row("fds left after closing every node", "%d store lock files, %d sockets", rep.TestLockLeak, rep.TestOtherLeak)
		b = w.Bytes()
	}
	return os.WriteFile(path, b, 0o644)
}
