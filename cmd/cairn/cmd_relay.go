package main

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"

	"github.com/spf13/cobra"

	"github.com/cairn-dev/cairn/relay"
)

// defaultRelayAddr is where `cairn relay` listens without --listen.
const defaultRelayAddr = ":8080"

func (a *app) relayCommand() *cobra.Command {
	var addr, certFile, keyFile string
	var limits relay.Config
	c := &cobra.Command{
		Use:   "relay",
		Short: "Run a relay server that peers on different networks meet through",
		Long: `Run a cairn relay: the rendezvous and relay server that lets peers on
different networks pair and connect. It only ever sees ciphertext. Peers use
it with --relay URL (or CAIRN_RELAY). It serves /healthz and /metrics too.

With --tls-cert and --tls-key it serves HTTPS (https:// URLs). It stops
cleanly on Ctrl-C or SIGTERM. The limit flags default to the relay package's
defaults (0 = default); raise them for a relay shared by many devices
behind one address.`,
		// The relay shares the global flags but none of the node's.
		Args: argsUsage(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmdContext(cmd)
			if (certFile == "") != (keyFile == "") {
				return usageErrorf("--tls-cert and --tls-key go together")
			}
			limits.Logger = a.log
			srv, err := relay.NewServer(limits)
			if err != nil {
				return usageError{err} // only the flags feed the config
			}
			ln, url, err := listenRelay(ctx, addr, certFile, keyFile)
			if err != nil {
				return err
			}
			if a.jsonOut {
				if err := a.emit(map[string]string{"event": "listening", "url": url, "addr": ln.Addr().String()}); err != nil {
					ln.Close()
					return err
				}
			} else {
				a.printf("Relay listening on %s\n", url)
				a.status("Peers use it with: --relay %s   (Ctrl-C to stop)\n", url)
			}
			err = srv.Serve(ctx, ln)
			if errors.Is(err, relay.ErrServerClosed) {
				err = nil
			}
			if err == nil && ctx.Err() != nil && !errors.Is(ctx.Err(), context.Canceled) {
				return timeoutOr(ctx, ctx.Err())
			}
			return err
		},
	}
	c.Flags().StringVar(&addr, "listen", defaultRelayAddr, "TCP address to serve on")
	c.Flags().StringVar(&certFile, "tls-cert", "", "TLS certificate (PEM) for HTTPS")
	c.Flags().StringVar(&keyFile, "tls-key", "", "TLS private key (PEM) for HTTPS")
	c.Flags().IntVar(&limits.MaxWaitingSlots, "max-slots", 0, fmt.Sprintf("hosts waiting at once (default %d)", relay.DefaultMaxWaitingSlots))
	c.Flags().IntVar(&limits.MaxConnsPerIP, "max-conns-per-ip", 0, fmt.Sprintf("concurrent connections per source address (default %d)", relay.DefaultMaxConnsPerIP))
	c.Flags().IntVar(&limits.MaxConns, "max-conns", 0, fmt.Sprintf("concurrent connections in all (default %d)", relay.DefaultMaxConns))
	c.Flags().Float64Var(&limits.LookupRate, "lookup-rate", 0, fmt.Sprintf("slot requests per second per source address (default %g)", relay.DefaultLookupRate))
	c.Flags().IntVar(&limits.LookupBurst, "lookup-burst", 0, fmt.Sprintf("burst of slot requests per source address (default %d)", relay.DefaultLookupBurst))
	c.Flags().DurationVar(&limits.IdleTimeout, "idle-timeout", 0, fmt.Sprintf("close a relayed pair idle this long (default %v)", relay.DefaultIdleTimeout))
	return c
}

// listenRelay opens the relay's listener and returns the URL peers use.
func listenRelay(ctx context.Context, addr, certFile, keyFile string) (net.Listener, string, error) {
	var tcfg *tls.Config
	if certFile != "" {
		cert, err := tls.LoadX509KeyPair(certFile, keyFile)
		if err != nil {
			return nil, "", fmt.Errorf("cannot load the TLS key pair: %w", err)
		}
		// HTTP/1.1 only: WebSocket upgrades need it.
		tcfg = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12, NextProtos: []string{"http/1.1"}}
	}
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", addr)
	if err != nil {
		return nil, "", fmt.Errorf("cannot listen on %s: %w", addr, err)
	}
	tcp := ln.Addr().(*net.TCPAddr)
	host := tcp.IP.String()
	if tcp.IP.IsUnspecified() {
		host = "localhost"
	}
	scheme := "http"
	if tcfg != nil {
		scheme = "https"
		ln = tls.NewListener(ln, tcfg)
	}
	return ln, fmt.Sprintf("%s://%s", scheme, net.JoinHostPort(host, fmt.Sprint(tcp.Port))), nil
}
