// Package spake2 implements the SPAKE2 password-authenticated key exchange
// in its asymmetric (A/B) form over the Ed25519 group, as cairn uses it for
// pairing.
//
// It is wire- and key-compatible with python-spake2 0.8 (SPAKE2_A/SPAKE2_B
// with ParamsEd25519) and RustCrypto spake2 0.4 (Ed25519Group, asymmetric),
// with cairn's fixed identities idA = "cairn-initiator" and
// idB = "cairn-responder".
//
// # Use
//
// Each side creates a [State] for its [Role], sends [State.Message] to the
// other side, and passes the message it receives to [State.Finish], which
// returns a 32-byte key. The two keys are equal if and only if both sides
// used the same password; SPAKE2 itself does not tell them apart, so the
// caller must confirm the key (cairn does so with an HMAC exchange, see
// internal/pairing) before trusting it.
//
// # Protocol
//
//	pw  = HKDF-SHA256(salt = "", ikm = password, info = "SPAKE2 pw", L = 48)
//	      read as a big-endian integer, reduced mod l
//	A:  x random,  X = x·B + pw·M,  sends 0x41 || X
//	B:  y random,  Y = y·B + pw·N,  sends 0x42 || Y
//	A:  K = x·(Y − pw·N)            B:  K = y·(X − pw·M)
//	key = SHA-256(SHA-256(password) || SHA-256(idA) || SHA-256(idB) || X || Y || K)
//
// M and N are python-spake2's "arbitrary elements" for the seeds "M" and "N".
// Random scalars are read from 64 bytes of the random source as a big-endian
// integer reduced mod l, exactly as python-spake2 reads its entropy, so a
// deterministic source gives the same messages in both implementations.
//
// # Checks beyond the reference
//
// Finish rejects, with a typed error: a message of the wrong length, one
// from the wrong side, a point that does not decode, a non-canonical point
// encoding, a point of small order or with a small-order component (any
// point outside the prime-order subgroup, as python-spake2 also does), and
// the reflection of this side's own message.
package spake2
