package handshake_test

import (
	"context"
	"fmt"
	"net"

	"github.com/cairn-dev/cairn/identity"
	"github.com/cairn-dev/cairn/internal/handshake"
)

// A session handshake between two paired peers, each pinning the other's
// key from its trust store.
func Example() {
	alice, _ := identity.Generate(nil)
	bob, _ := identity.Generate(nil)
	c1, c2 := net.Pipe()
	defer c1.Close()
	defer c2.Close()

	done := make(chan *handshake.Result, 1)
	go func() {
		res, err := handshake.Responder(context.Background(), c2, handshake.Config{
			Identity: bob, ExpectedKey: alice.PublicKey(),
		})
		if err != nil {
			fmt.Println(err)
		}
		done <- res
	}()
	res, err := handshake.Initiator(context.Background(), c1, handshake.Config{
		Identity: alice, ExpectedPeer: bob.PeerID(), Payload: []byte("Alice"),
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	peer := <-done
	fmt.Println(res.PeerID == bob.PeerID(), string(peer.PeerPayload), res.SharedSecret == peer.SharedSecret)
	// Output: true Alice true
}
