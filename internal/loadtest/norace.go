//go:build !race

package loadtest

// Race reports whether the binary was built with the race detector, which
// slows everything down several times: figures from such a run only show
// that it works.
const Race = false
