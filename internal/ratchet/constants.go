package ratchet

import "time"

// Wire and protocol constants. Changing any of them changes the protocol.
const (
	// KeySize is the size of root, chain and message keys and of X25519 keys.
	KeySize = 32
	// HeaderSize is the size of an encoded [Header]: ratchet key, PN, N.
	HeaderSize = KeySize + 4 + 4
	// TagSize is the size of the AEAD authentication tag.
	TagSize = 16

	// rootInfo is the HKDF info string of the root KDF.
	rootInfo = "cairn-ratchet-root-v1"
	// rootOutputSize is the length of the root KDF output: new root key || chain key.
	rootOutputSize = 2 * KeySize

	// chainMessageByte and chainNextByte are the HMAC inputs of the chain KDF:
	// mk = HMAC-SHA256(ck, 0x01), ck' = HMAC-SHA256(ck, 0x02).
	chainMessageByte = 0x01
	chainNextByte    = 0x02
)

// Default limits, used for zero fields of [Config].
const (
	// DefaultMaxSkipPerChain bounds how far ahead of the next expected message
	// number of its chain a message may be (Signal's MAX_SKIP).
	DefaultMaxSkipPerChain = 1000
	// DefaultMaxSkippedTotal bounds the number of stored skipped message keys;
	// the oldest are evicted first.
	DefaultMaxSkippedTotal = 2000
	// DefaultMaxSkippedAge is how long a skipped message key is kept.
	DefaultMaxSkippedAge = 10 * time.Minute
)

// Implementation limits.
const (
	// maxPrevRemoteKeys is how many earlier remote ratchet keys are remembered
	// so that a replay on an old chain is reported as ErrReplay rather than
	// attempted as a new DH ratchet step.
	maxPrevRemoteKeys = 32
	// maxDecodedSkipped bounds the skipped keys UnmarshalBinary accepts.
	maxDecodedSkipped = 1 << 16
	// stateVersion is the version byte of the MarshalBinary encoding.
	stateVersion = 1
)

// Overhead returns the number of bytes Seal adds to a plaintext: the header
// plus the AEAD tag (56).
func Overhead() int { return HeaderSize + TagSize }
