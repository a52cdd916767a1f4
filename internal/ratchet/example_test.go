package ratchet_test

import (
	"crypto/ecdh"
	"crypto/rand"
	"fmt"

	"github.com/cairn-dev/cairn/internal/ratchet"
)

func Example() {
	// Both sides hold sk after the handshake; Bob's per-connection ratchet
	// key pair was sent to Alice in it.
	var sk [32]byte
	if _, err := rand.Read(sk[:]); err != nil {
		panic(err)
	}
	bobKey, err := ecdh.X25519().GenerateKey(rand.Reader)
	if err != nil {
		panic(err)
	}
	alice, err := ratchet.NewInitiator(sk, bobKey.PublicKey().Bytes(), ratchet.Config{})
	if err != nil {
		panic(err)
	}
	defer alice.Destroy()
	bob, err := ratchet.NewResponder(sk, bobKey, ratchet.Config{})
	if err != nil {
		panic(err)
	}
	defer bob.Destroy()

	if _, err := bob.Seal(nil, []byte("too early"), nil); err != nil {
		fmt.Println("bob:", err)
	}
	ad := []byte("channel 1")
	msg, err := alice.Seal(nil, []byte("hello bob"), ad)
	if err != nil {
		panic(err)
	}
	fmt.Println("overhead:", len(msg)-len("hello bob"))
	pt, err := bob.Open(nil, msg, ad)
	if err != nil {
		panic(err)
	}
	fmt.Println("bob got:", string(pt))
	if _, err := bob.Open(nil, msg, ad); err != nil {
		fmt.Println("again:", err)
	}
	reply, err := bob.Seal(nil, []byte("hi alice"), ad)
	if err != nil {
		panic(err)
	}
	pt, err = alice.Open(nil, reply, ad)
	if err != nil {
		panic(err)
	}
	fmt.Println("alice got:", string(pt))
	// Output:
	// bob: ratchet: no sending chain yet (responder must receive first)
	// overhead: 56
	// bob got: hello bob
	// again: ratchet: duplicate or stale message: message 0 already received
	// alice got: hi alice
}
