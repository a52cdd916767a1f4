// Package handshake runs cairn's Noise handshake on a connection and binds
// each side's fresh X25519 static key to its long-term Ed25519 identity.
//
// Pairing uses Noise_XXpsk3_25519_ChaChaPoly_SHA256 with the 32-byte psk that
// the SPAKE2 exchange produced; sessions between paired peers use
// Noise_XX_25519_ChaChaPoly_SHA256. Each side generates a fresh X25519 static
// key for every handshake and, like libp2p's Noise transport, proves that it
// holds its identity by signing StaticKeyLabel || static public key with its
// Ed25519 key. The signature, the Ed25519 public key and optional application
// data (a display name) travel in the encrypted handshake payload: the
// responder's in message 2, the initiator's in message 3. A fourth message,
// from the responder, confirms that it accepted the initiator, so that both
// sides fail (a wrong psk, an unexpected identity) or both succeed.
//
// The result carries what the Double Ratchet needs: a 32-byte shared secret
// derived from the final Noise keys and the handshake hash, and the
// responder's static key pair, which doubles as its first ratchet key pair.
//
// Messages travel in frames of type frame.TypeHandshake. Either side may send
// a frame.TypeReject (package wire) instead of its next message. The wire
// format is specified in docs/PROTOCOL.md, section "Handshake".
package handshake
