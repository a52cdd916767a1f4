package store_test

import (
	"fmt"
	"os"

	"github.com/cairn-dev/cairn/store"
)

func Example() {
	dir, _ := os.MkdirTemp("", "cairn-example")
	defer os.RemoveAll(dir)

	s, err := store.Open(dir, store.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer s.Close()
	id, err := s.Identity() // created on first use
	if err != nil {
		fmt.Println(err)
		return
	}
	again, _ := s.Identity()
	peers, _ := s.Peers()
	fmt.Println(id.PeerID() == again.PeerID(), len(peers))
	// Output: true 0
}
