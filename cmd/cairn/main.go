// Command cairn pairs devices and lets them talk privately, peer to peer.
package main

import (
	"fmt"
	"os"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func main() {
	fmt.Fprintln(os.Stdout, "cairn", version)
}
