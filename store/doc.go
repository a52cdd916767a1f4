// Package store is a cairn node's data directory, its key store: the
// identity seed, the trust store of paired peers, and opaque state blobs for
// session resumption. It is the only place cairn writes secrets.
//
// Layout (the directory is created 0700; every file is 0600 and written
// atomically: temporary file in the same directory, fsync, rename, fsync of
// the directory):
//
//	identity.key   the Ed25519 seed, plain or sealed with a passphrase
//	peers.json     the trust store
//	state/NAME     state blobs
//	lock           flock(2)ed while writing, so two processes may share a directory
//
// A file that is corrupt, truncated or readable by others is refused with a
// typed error (ErrCorrupt, ErrInsecurePermissions); the store never replaces
// an identity or empties the trust store on its own.
//
// # Identity file
//
//	magic  "cairn-identity-v1\n" (18 bytes)
//	kind   1 byte: 0x01 plain, 0x02 sealed
//	plain:  seed (32)
//	sealed: argon2id time (u32be) || memory in KiB (u32be) || threads (1)
//	        || salt (16) || nonce (24)
//	        || XChaCha20-Poly1305(key = argon2id(passphrase, salt), nonce,
//	           seed, ad = every byte before the ciphertext) (48)
//	check  SHA-256 of every byte before it (32)
//
// The checksum tells corruption (ErrCorrupt) from a wrong passphrase
// (ErrWrongPassphrase).
package store
