package relay_test

import (
	"context"
	"fmt"
	"io"
	"log"
	"net"

	"github.com/cairn-dev/cairn/relay"
)

// Two peers meet under a slot name on a relay and get a net.Conn each.
func Example() {
	ctx := context.Background()

	// A relay on loopback (the `cairn relay` command runs the same server).
	srv, err := relay.NewServer(relay.Config{})
	if err != nil {
		log.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	sctx, stop := context.WithCancel(ctx)
	served := make(chan error, 1)
	go func() { served <- srv.Serve(sctx, ln) }()
	url := "http://" + ln.Addr().String()

	host, err := relay.Host(ctx, url, "example-slot") // returns once reserved
	if err != nil {
		log.Fatal(err)
	}
	join, err := relay.Join(ctx, url, "example-slot")
	if err != nil {
		log.Fatal(err)
	}

	go func() {
		_, _ = join.Write([]byte("hello through the relay"))
		_ = join.Close()
	}()
	got, err := io.ReadAll(host) // until the joiner closes: io.EOF
	fmt.Printf("%s, %v\n", got, err)

	_ = host.Close()
	stop()
	fmt.Println(<-served)
	// Output:
	// hello through the relay, <nil>
	// <nil>
}
