package spake2_test

import (
	"bytes"
	"fmt"

	"github.com/cairn-dev/cairn/internal/spake2"
)

func Example() {
	// Both devices know the PIN; each sends its Message to the other.
	a, err := spake2.New(spake2.RoleA, []byte("A1B2C3D4"), nil)
	if err != nil {
		panic(err)
	}
	b, err := spake2.New(spake2.RoleB, []byte("A1B2C3D4"), nil)
	if err != nil {
		panic(err)
	}
	keyA, err := a.Finish(b.Message())
	if err != nil {
		panic(err)
	}
	keyB, err := b.Finish(a.Message())
	if err != nil {
		panic(err)
	}
	// Equal keys; a real caller confirms this with a MAC exchange.
	fmt.Println(len(keyA), bytes.Equal(keyA, keyB))
	// Output: 32 true
}
