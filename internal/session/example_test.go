package session_test

import (
	"context"
	"fmt"
	"log"

	"github.com/cairn-dev/cairn/internal/session"
	"github.com/cairn-dev/cairn/internal/session/sessiontest"
)

func Example() {
	ctx := context.Background()
	dt, at := sessiontest.Pipe() // stands in for a Noise + ratchet transport

	// The acceptor's accept loop: read the Hello, start (or route) the session.
	accepted := make(chan *session.Session)
	go func() {
		h, err := session.ReadHello(ctx, at)
		if err != nil {
			log.Fatal(err)
		}
		s, err := session.Accept(ctx, at, h, session.Config{Role: session.Acceptor})
		if err != nil {
			log.Fatal(err)
		}
		accepted <- s
	}()

	dialer, err := session.New(ctx, dt, session.Config{Role: session.Dialer})
	if err != nil {
		log.Fatal(err)
	}
	defer dialer.Close()
	acceptor := <-accepted
	defer acceptor.Close()

	ch, err := dialer.OpenChannel(ctx, "chat")
	if err != nil {
		log.Fatal(err)
	}
	if err := ch.Send(ctx, []byte("hello")); err != nil {
		log.Fatal(err)
	}
	peer, err := acceptor.AcceptChannel(ctx)
	if err != nil {
		log.Fatal(err)
	}
	msg, err := peer.Receive(ctx)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%s: %s\n", peer.Name(), msg)
	// Output: chat: hello
}
