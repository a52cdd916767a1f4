// Package ratchet implements the Double Ratchet that encrypts cairn session
// messages after the Noise XX handshake: a fresh key per message, forward
// secrecy, break-in recovery and out-of-order delivery.
//
// It follows the Signal specification ("The Double Ratchet Algorithm",
// revision 1, 2016) with X25519, HMAC-SHA256 chain keys, an HKDF-SHA256 root
// KDF and ChaCha20-Poly1305. The byte-exact construction is in
// docs/PROTOCOL.md, section "Double Ratchet"; testdata/vectorgen.py is an
// independent reference that the tests check against.
//
// # Use
//
// After the handshake both sides hold a 32-byte secret sk. The responder
// ("Bob") made a fresh X25519 key pair for the connection and sent its public
// key in the handshake:
//
//	alice, err := ratchet.NewInitiator(sk, bobRatchetPub, ratchet.Config{})
//	bob, err := ratchet.NewResponder(sk, bobRatchetPriv, ratchet.Config{})
//	msg, err := alice.Seal(nil, plaintext, ad) // header || ciphertext
//	pt, err := bob.Open(nil, msg, ad)
//
// Alice can send at once; Bob's Seal returns [ErrNotReady] until he has opened
// Alice's first message. Every message is [Overhead] (56) bytes longer than
// its plaintext.
//
// # Failure handling
//
// Open authenticates before it changes anything: a forged, replayed,
// truncated or corrupted message returns [ErrAuth], [ErrReplay],
// [ErrMalformed] or [ErrTooManySkipped] (as a [*SkipError]) and the [State] is
// exactly as before, so the session simply drops the frame and goes on.
//
// # Skipped keys
//
// Keys of messages that have not arrived yet are kept for out-of-order
// delivery, bounded by [Config]: at most MaxSkipPerChain skipped by one
// message, MaxSkippedTotal in all (oldest evicted first) and for at most
// MaxSkippedAge. A key is deleted when used.
//
// # Persistence
//
// [State.MarshalBinary] and [Restore] save and resume a session. The encoding
// holds all session secrets. Never resume from a copy older than the last
// Seal: the sender would reuse message keys.
//
// # Secrets
//
// Keys are overwritten when dropped and by [State.Destroy]. In Go this is
// best effort: the X25519 private key lives inside crypto/ecdh, and the
// runtime may have copied values.
package ratchet
