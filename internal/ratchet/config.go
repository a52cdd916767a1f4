package ratchet

import (
	"crypto/rand"
	"fmt"
	"io"
	"time"
)

// Config holds the tunables of a State. The zero value selects the defaults.
type Config struct {
	// Rand is the source of ratchet private keys; crypto/rand if nil.
	// (crypto/ecdh ignores custom readers since Go 1.26, so the ratchet reads
	// 32 bytes itself and uses them as the X25519 scalar.)
	Rand io.Reader
	// MaxSkipPerChain bounds how many message keys one message may make the
	// receiver skip in a single chain; DefaultMaxSkipPerChain if zero.
	MaxSkipPerChain int
	// MaxSkippedTotal bounds the stored skipped keys; the oldest are evicted
	// first. DefaultMaxSkippedTotal if zero.
	MaxSkippedTotal int
	// MaxSkippedAge is how long a skipped key is kept; DefaultMaxSkippedAge
	// if zero.
	MaxSkippedAge time.Duration
	// Now is the clock for MaxSkippedAge; time.Now if nil.
	Now func() time.Time
}

// withDefaults validates c and fills in zero fields.
func (c Config) withDefaults() (Config, error) {
	if c.MaxSkipPerChain < 0 || c.MaxSkippedTotal < 0 || c.MaxSkippedAge < 0 {
		return c, fmt.Errorf("%w: negative limit in Config", ErrInvalidArgument)
	}
	if c.Rand == nil {
		c.Rand = rand.Reader
	}
	if c.MaxSkipPerChain == 0 {
		c.MaxSkipPerChain = DefaultMaxSkipPerChain
	}
	if c.MaxSkippedTotal == 0 {
		c.MaxSkippedTotal = DefaultMaxSkippedTotal
	}
	if c.MaxSkippedAge == 0 {
		c.MaxSkippedAge = DefaultMaxSkippedAge
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	return c, nil
}
