package cairn_test

import (
	"context"
	"fmt"
	"io"
	"log"
	"net"
	"os"
	"strings"
	"time"

	"github.com/cairn-dev/cairn"
	"github.com/cairn-dev/cairn/relay"
)

// Two devices pair by PIN through a relay, connect, and exchange a message.
// Everything runs on loopback with LAN discovery off.
func Example() {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	// A relay on 127.0.0.1 (the `cairn relay` command runs the same server;
	// tests use relay/relaytest).
	srv, err := relay.NewServer(relay.Config{})
	if err != nil {
		log.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	rctx, stopRelay := context.WithCancel(ctx)
	served := make(chan error, 1)
	go func() { served <- srv.Serve(rctx, ln) }()
	defer func() { stopRelay(); <-served }()
	relayURL := "http://" + ln.Addr().String()

	// Two nodes, each with its own data directory.
	var dirs []string
	defer func() {
		for _, d := range dirs {
			os.RemoveAll(d)
		}
	}()
	newNode := func(name string) *cairn.Node {
		dir, err := os.MkdirTemp("", "cairn-example-")
		if err != nil {
			log.Fatal(err)
		}
		dirs = append(dirs, dir)
		node, err := cairn.New(
			cairn.WithDataDir(dir),
			cairn.WithName(name),
			cairn.WithRelay(relayURL),
			cairn.WithListenAddr("127.0.0.1:0"),
			cairn.WithMDNS(false),
		)
		if err != nil {
			log.Fatal(err)
		}
		return node
	}
	alice, bob := newNode("alice"), newNode("bob")
	defer alice.Close()
	defer bob.Close()

	// Alice shows a PIN; Bob enters it.
	pin, err := alice.PairGeneratePin(ctx)
	if err != nil {
		log.Fatal(err)
	}
	if _, err := bob.PairEnterPin(ctx, pin.Pin); err != nil {
		log.Fatal(err)
	}
	paired, err := pin.Result(ctx)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("alice paired with", paired.Name)

	// Bob accepts; Alice connects and sends a message on a channel.
	received := make(chan string, 1)
	go func() {
		sess, err := bob.Accept(ctx)
		if err != nil {
			log.Fatal(err)
		}
		ch, err := sess.AcceptChannel(ctx)
		if err != nil {
			log.Fatal(err)
		}
		msg, err := ch.Receive(ctx)
		if err != nil {
			log.Fatal(err)
		}
		received <- string(msg)
	}()
	sess, err := alice.Connect(ctx, bob.PeerID())
	if err != nil {
		log.Fatal(err)
	}
	defer sess.Close()
	ch, err := sess.OpenChannel(ctx, "greetings")
	if err != nil {
		log.Fatal(err)
	}
	if err := ch.Send(ctx, []byte("hello, bob")); err != nil {
		log.Fatal(err)
	}
	fmt.Println("bob received:", <-received)

	// Output:
	// alice paired with bob
	// bob received: hello, bob
}

// A link pairs two devices with no relay and no LAN discovery: it carries
// the showing device's addresses, and its 128-bit secret rides in the
// fragment. Then the two stream a file-sized blob with io.Copy.
func ExampleNode_PairGenerateLink() {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	newNode := func() (*cairn.Node, func()) {
		dir, err := os.MkdirTemp("", "cairn-example-")
		if err != nil {
			log.Fatal(err)
		}
		node, err := cairn.New(cairn.WithDataDir(dir), cairn.WithListenAddr("127.0.0.1:0"), cairn.WithMDNS(false))
		if err != nil {
			log.Fatal(err)
		}
		return node, func() { node.Close(); os.RemoveAll(dir) }
	}
	alice, closeAlice := newNode()
	defer closeAlice()
	bob, closeBob := newNode()
	defer closeBob()

	link, err := alice.PairGenerateLink(ctx)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(strings.HasPrefix(link.URI, "cairn://"))
	if _, err := bob.PairFromLink(ctx, link.URI); err != nil {
		log.Fatal(err)
	}
	if _, err := link.Wait(ctx); err != nil {
		log.Fatal(err)
	}

	// Without a relay or mDNS, Bob dials Alice's address himself.
	got := make(chan int64, 1)
	go func() {
		sess, err := alice.Accept(ctx)
		if err != nil {
			log.Fatal(err)
		}
		ch, err := sess.AcceptChannel(ctx)
		if err != nil {
			log.Fatal(err)
		}
		n, err := io.Copy(io.Discard, ch)
		if err != nil {
			log.Fatal(err)
		}
		got <- n
	}()
	sess, err := bob.ConnectAddr(ctx, alice.PeerID(), alice.Addr().String())
	if err != nil {
		log.Fatal(err)
	}
	defer sess.Close()
	ch, err := sess.OpenChannel(ctx, "file")
	if err != nil {
		log.Fatal(err)
	}
	if _, err := io.Copy(ch, io.LimitReader(zeros{}, 1<<20)); err != nil {
		log.Fatal(err)
	}
	ch.CloseWrite()
	fmt.Println("alice received", <-got, "bytes")

	// Output:
	// true
	// alice received 1048576 bytes
}

type zeros struct{}

func (zeros) Read(p []byte) (int, error) { clear(p); return len(p), nil }
