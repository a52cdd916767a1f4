package handshake

import (
	"crypto/ecdh"
	"crypto/ed25519"
	"io"

	"github.com/cairn-dev/cairn/identity"
	"github.com/cairn-dev/cairn/internal/frame"
)

const (
	// PSKSize is the size of a pairing psk.
	PSKSize = 32

	// RatchetInitLabel is the HKDF info of Result.SharedSecret.
	RatchetInitLabel = "cairn-ratchet-init-v1"
	// FinishedLabel is the HKDF info of the key behind message 4.
	FinishedLabel = "cairn-handshake-finished-v1"

	// FinishedSize is the size of message 4, an HMAC-SHA256.
	FinishedSize = 32
	// MaxMessageSize bounds a handshake message: message 2 with the largest
	// payload, sealed, is 32 + 48 + sealedOverhead + MaxPayloadSize + 16 bytes.
	MaxMessageSize = 32 + 48 + sealedOverhead + MaxPayloadSize + 16
	// PayloadKeySize is the size of Config.PayloadKey.
	PayloadKeySize = 32
	// PayloadSealLabel is the HKDF info of the message 2 payload key.
	PayloadSealLabel = "cairn-handshake-payload-v1"
	// sealedOverhead is what sealing adds to a payload: a nonce and a tag.
	sealedOverhead   = payloadNonceSize + 16
	payloadNonceSize = 16
)

// Config is one side's part in a handshake.
type Config struct {
	// Identity proves who this side is. Required.
	Identity *identity.Identity
	// PSK of PSKSize bytes selects Noise_XXpsk3 (pairing); nil selects
	// Noise_XX (sessions between paired peers).
	PSK []byte
	// ExpectedPeer, if not zero, is the only identity the peer may prove.
	// Zero accepts any identity: the caller must check Result.PeerID.
	ExpectedPeer identity.PeerID
	// ExpectedKey, if not nil, must equal the peer's Ed25519 key exactly (a
	// key pinned in the trust store).
	ExpectedKey ed25519.PublicKey
	// Payload is application data (at most MaxAppData bytes) sent to the peer
	// inside the encrypted handshake, e.g. a display name. It is
	// authenticated as coming from this side's static key once the handshake
	// completes, but not signed by the identity.
	Payload []byte
	// Prologue is mixed into the handshake hash; both sides must use the
	// same. It authenticates but hides nothing: Noise derives no key from it.
	Prologue []byte
	// PayloadKey, if set (PayloadKeySize bytes, the same on both sides),
	// seals the responder's identity payload in message 2 once more, with a
	// key derived from it. In XX (and in XXpsk3, whose psk comes in only with
	// message 3) whoever sent message 1 can decrypt message 2, the
	// authentication tag aside: only a secret the two sides share, mixed in
	// here, hides the responder's identity from such an active attacker.
	PayloadKey []byte
	// Rand is the source of the static and ephemeral keys; nil means
	// crypto/rand. Inject a deterministic source only for test vectors.
	Rand io.Reader
	// Reader, if set, is the frame reader already reading conn; nil makes a
	// new one. Frames read earlier (a Hello) are never lost either way,
	// since a frame.Reader does not read ahead.
	Reader *frame.Reader
}

// Result is an authenticated peer and the keys for the session after the
// handshake.
type Result struct {
	// PeerID and PeerKey are the identity the peer proved.
	PeerID  identity.PeerID
	PeerKey ed25519.PublicKey
	// PeerPayload is the peer's application data.
	PeerPayload []byte
	// HandshakeHash is the Noise handshake hash h, a channel binding: equal
	// on both sides, unique to this handshake.
	HandshakeHash []byte
	// SharedSecret initialises the Double Ratchet:
	// HKDF-SHA256(ikm = k1 || k2, salt = HandshakeHash, info = RatchetInitLabel)
	// where k1, k2 are the keys of Noise's Split.
	SharedSecret [32]byte
	// RatchetPrivate is set on the responder: its static key pair for this
	// handshake, which is also its first ratchet key pair.
	RatchetPrivate *ecdh.PrivateKey
	// RatchetRemote is set on the initiator: the responder's static public
	// key (32 bytes), its first remote ratchet key.
	RatchetRemote []byte
}

// Destroy zeroes the secrets in r that Go lets us zero. RatchetPrivate is
// dropped; its internal copy cannot be wiped.
func (r *Result) Destroy() {
	clear(r.SharedSecret[:])
	r.RatchetPrivate = nil
}
