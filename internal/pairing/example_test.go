package pairing_test

import (
	"bytes"
	"fmt"
	"strings"
	"time"

	"github.com/cairn-dev/cairn/internal/pairing"
)

func ExampleParsePIN() {
	// What the user typed on the responder, with a lower-case l and an O.
	pin, err := pairing.ParsePIN("a1b2 c3dl")
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(pin, string(pin.Password()), pin.Slot())

	_, err = pairing.ParsePIN("A1B2-C3DU")
	fmt.Println(err)
	// Output:
	// A1B2-C3D1 A1B2C3D1 A1B
	// invalid PIN: invalid character at position 9
}

func ExampleGeneratePIN() {
	pin, err := pairing.GeneratePIN(bytes.NewReader([]byte{0x01, 0x23, 0x45, 0x67, 0x89}))
	if err != nil {
		panic(err)
	}
	fmt.Println(pin)
	// Output: 04HM-ASW9
}

func ExamplePayload_Link() {
	now := time.Unix(1_750_000_000, 0)
	p := &pairing.Payload{
		PeerID:   [34]byte{0x12, 0x20}, // 0x12 0x20 || SHA-256(public key)
		Addrs:    []string{"192.168.1.20:41234"},
		RelayURL: "https://relay.example.org",
		Expires:  now.Add(5 * time.Minute),
	}
	copy(p.Secret[:], "0123456789abcdef") // random in real use
	copy(p.Slot[:], "fedcba9876543210")

	link, err := p.Link()
	if err != nil {
		panic(err)
	}
	public, _, _ := strings.Cut(link, "#")
	fmt.Println(public)

	got, err := pairing.ParseLink(link, now)
	if err != nil {
		panic(err)
	}
	fmt.Println(got.Secret == p.Secret, got.Addrs)

	_, err = pairing.ParseLink(link, now.Add(time.Hour))
	fmt.Println(err)
	// Output:
	// cairn://pair?v=1&peer=QmNLei78zWmzUdbeRB3CiUfAizWUrbeeZh5K1rhAQKCh51&slot=66656463626139383736353433323130&exp=1750000300&addr=192.168.1.20:41234&relay=https://relay.example.org
	// true [192.168.1.20:41234]
	// pairing payload expired
}

func ExampleSASEmoji() {
	var secret [32]byte // the pairing secret both peers hold
	fmt.Println(pairing.SASNumeric(secret), pairing.SASEmoji(secret))
	// Output: 632979 [crown anchor bike tree]
}
