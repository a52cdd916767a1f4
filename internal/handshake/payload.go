package handshake

import (
	"crypto/ed25519"
	"encoding/binary"
	"fmt"
)

const (
	// StaticKeyLabel prefixes the X25519 static public key in the message an
	// identity signs in the handshake payload.
	StaticKeyLabel = "cairn-noise-static-key:"

	// MaxAppData bounds the application data in a handshake payload.
	MaxAppData = 256

	payloadVersion = 1
	// payloadHeaderSize: version, Ed25519 key, signature, app data length.
	payloadHeaderSize = 1 + ed25519.PublicKeySize + ed25519.SignatureSize + 2
	// MaxPayloadSize is the largest encoded handshake payload.
	MaxPayloadSize = payloadHeaderSize + MaxAppData
)

// payload is the identity proof each side sends inside the handshake.
//
//	version (1) = 0x01
//	ed25519 public key (32)
//	signature (64) = Ed25519(StaticKeyLabel || x25519 static public key)
//	app data length (u16be, <= MaxAppData)
//	app data
type payload struct {
	key     ed25519.PublicKey
	sig     []byte
	appData []byte
}

// signedMessage is what a payload's signature covers.
func signedMessage(static []byte) []byte {
	return append([]byte(StaticKeyLabel), static...)
}

// appendPayload appends the encoding of p to dst. p.appData must be at most
// MaxAppData bytes.
func appendPayload(dst []byte, p payload) []byte {
	dst = append(dst, payloadVersion)
	dst = append(dst, p.key...)
	dst = append(dst, p.sig...)
	dst = binary.BigEndian.AppendUint16(dst, uint16(len(p.appData)))
	return append(dst, p.appData...)
}

// parsePayload decodes a payload strictly: a known version, an app data
// length within bounds, and nothing after the app data. The result aliases b.
// Errors wrap ErrBadPayload.
func parsePayload(b []byte) (payload, error) {
	if len(b) < payloadHeaderSize {
		return payload{}, fmt.Errorf("%w: %d bytes, want at least %d", ErrBadPayload, len(b), payloadHeaderSize)
	}
	if b[0] != payloadVersion {
		return payload{}, fmt.Errorf("%w: unknown version %d", ErrBadPayload, b[0])
	}
	n := int(binary.BigEndian.Uint16(b[payloadHeaderSize-2:]))
	if n > MaxAppData {
		return payload{}, fmt.Errorf("%w: %d bytes of app data, max %d", ErrBadPayload, n, MaxAppData)
	}
	if len(b) != payloadHeaderSize+n {
		return payload{}, fmt.Errorf("%w: %d bytes, want %d", ErrBadPayload, len(b), payloadHeaderSize+n)
	}
	const keyEnd = 1 + ed25519.PublicKeySize
	return payload{
		key:     ed25519.PublicKey(b[1:keyEnd:keyEnd]),
		sig:     b[keyEnd : keyEnd+ed25519.SignatureSize : keyEnd+ed25519.SignatureSize],
		appData: b[payloadHeaderSize:],
	}, nil
}
