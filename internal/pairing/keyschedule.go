package pairing

import (
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/sha256"
	"fmt"
)

// Labels of the pairing key schedule (DESIGN.md section 3, docs/PROTOCOL.md).
const (
	sessionKeyInfo    = "cairn-pairing-session-key-v1"
	confirmKeyInfo    = "cairn-pairing-key-confirm-v1"
	noisePSKInfo      = "cairn-pairing-noise-psk-v1"
	payloadKeyInfo    = "cairn-pairing-payload-key-v1"
	pairingSecretInfo = "cairn-pairing-secret-v1"

	initiatorLabel = "initiator"
	responderLabel = "responder"
)

// KeySize is the size of every key of the schedule.
const KeySize = 32

// NonceSize is the size of each side's pairing nonce.
const NonceSize = 16

// Role is a side of a pairing.
type Role int

const (
	// RoleInitiator showed the PIN, QR code or link.
	RoleInitiator Role = iota + 1
	// RoleResponder typed, scanned or opened it.
	RoleResponder
)

func (r Role) String() string {
	switch r {
	case RoleInitiator:
		return initiatorLabel
	case RoleResponder:
		return responderLabel
	}
	return fmt.Sprintf("Role(%d)", int(r))
}

// SessionKey derives the pairing session key from the SPAKE2 key and both
// nonces: HKDF-SHA256(ikm = spake2Key, salt = nonceI || nonceR,
// info = "cairn-pairing-session-key-v1", 32).
func SessionKey(spake2Key []byte, nonceI, nonceR [NonceSize]byte) [KeySize]byte {
	salt := make([]byte, 0, 2*NonceSize)
	salt = append(salt, nonceI[:]...)
	salt = append(salt, nonceR[:]...)
	return derive(spake2Key, salt, sessionKeyInfo)
}

// ConfirmKey derives the key-confirmation key: HKDF-SHA256(ikm =
// sessionKey, salt = empty, info = "cairn-pairing-key-confirm-v1", 32).
func ConfirmKey(sessionKey [KeySize]byte) [KeySize]byte {
	return derive(sessionKey[:], nil, confirmKeyInfo)
}

// ConfirmMAC is role's proof of the key: HMAC-SHA256(confirmKey,
// "initiator") or HMAC-SHA256(confirmKey, "responder"). An invalid role
// gets an all-zero MAC, which VerifyConfirm never accepts.
func ConfirmMAC(confirmKey [KeySize]byte, role Role) [KeySize]byte {
	var out [KeySize]byte
	if role != RoleInitiator && role != RoleResponder {
		return out
	}
	m := hmac.New(sha256.New, confirmKey[:])
	m.Write([]byte(role.String()))
	m.Sum(out[:0])
	return out
}

// VerifyConfirm reports, in constant time, whether mac is role's
// confirmation MAC under confirmKey.
func VerifyConfirm(confirmKey [KeySize]byte, role Role, mac []byte) bool {
	if role != RoleInitiator && role != RoleResponder {
		return false
	}
	want := ConfirmMAC(confirmKey, role)
	return hmac.Equal(want[:], mac)
}

// NoisePSK derives the Noise XXpsk3 pre-shared key: HKDF-SHA256(ikm =
// sessionKey, salt = empty, info = "cairn-pairing-noise-psk-v1", 32).
func NoisePSK(sessionKey [KeySize]byte) [KeySize]byte {
	return derive(sessionKey[:], nil, noisePSKInfo)
}

// NoisePayloadKey derives the key that seals the initiator's identity in
// message 2 of the pairing's Noise handshake (handshake.Config.PayloadKey):
// HKDF-SHA256(ikm = sessionKey, salt = empty,
// info = "cairn-pairing-payload-key-v1", 32). XXpsk3 mixes the psk in only
// with message 3, so without it whoever sent message 1 (a relay in the
// middle) could read that identity.
func NoisePayloadKey(sessionKey [KeySize]byte) [KeySize]byte {
	return derive(sessionKey[:], nil, payloadKeyInfo)
}

// PairingSecret derives the long-term shared secret of two paired peers
// from the pairing session key and the Noise handshake hash:
// HKDF-SHA256(ikm = sessionKey, salt = handshakeHash,
// info = "cairn-pairing-secret-v1", 32).
func PairingSecret(sessionKey, handshakeHash []byte) [KeySize]byte {
	return derive(sessionKey, handshakeHash, pairingSecretInfo)
}

// derive is HKDF-SHA256 with a 32-byte output. hkdf.Key fails only for an
// output longer than 255 hash lengths, or, in FIPS 140-only mode, for an
// input key shorter than 112 bits; every key here is 32 bytes, so an error
// is a programming error (a truncated key passed in) and panics.
func derive(ikm, salt []byte, info string) [KeySize]byte {
	k := deriveN(ikm, salt, info, KeySize)
	out := [KeySize]byte(k)
	clear(k)
	return out
}

// deriveN is HKDF-SHA256 with an n-byte output (n ≤ 8160); see derive.
func deriveN(ikm, salt []byte, info string, n int) []byte {
	k, err := hkdf.Key(sha256.New, ikm, salt, info, n)
	if err != nil {
		panic("pairing: HKDF failed: " + err.Error())
	}
	return k
}
