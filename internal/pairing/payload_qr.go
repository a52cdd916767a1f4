package pairing

import (
	"strings"
	"time"
)

// QRPrefix starts every QR data string. What follows is base45 (RFC 9285)
// of the binary payload, so the whole string is in the QR alphanumeric set.
const QRPrefix = "CAIRN:"

// QRData returns the string to render as a QR code:
//
//	"CAIRN:" || base45( P || secret [16] || tag [4] )
//
// where P is the public encoding and tag its 4-byte tag keyed by the secret
// (docs/PROTOCOL.md). It fails with a [*PayloadError] if p is invalid or the
// result would exceed MaxEncodedSize.
func (p *Payload) QRData() (string, error) {
	public, err := p.publicBytes()
	if err != nil {
		return "", err
	}
	tag := payloadTag(p.Secret, public)
	bin := make([]byte, 0, len(public)+SecretSize+tagSize)
	bin = append(bin, public...)
	bin = append(bin, p.Secret[:]...)
	bin = append(bin, tag[:]...)
	s := QRPrefix + base45Encode(bin)
	clear(bin)
	if len(s) > MaxEncodedSize {
		return "", payloadError(ErrTooLarge, "", "QR data over the size limit")
	}
	return s, nil
}

// ParseQRData decodes a QR data string made by [Payload.QRData] and checks
// it at time now. Errors are [*PayloadError] values wrapping ErrTooLarge,
// ErrMalformed, ErrUnsupportedVersion, ErrTampered or ErrExpired, checked in
// that order.
func ParseQRData(s string, now time.Time) (*Payload, error) {
	if len(s) > MaxEncodedSize {
		return nil, payloadError(ErrTooLarge, "", "QR data over the size limit")
	}
	rest, ok := strings.CutPrefix(s, QRPrefix)
	if !ok {
		return nil, payloadError(ErrMalformed, "", "not cairn QR data")
	}
	bin, err := base45Decode(rest)
	if err != nil {
		return nil, payloadError(ErrMalformed, "", "invalid base45")
	}
	defer clear(bin)
	if len(bin) == 0 {
		return nil, payloadError(ErrMalformed, "", "empty")
	}
	if bin[0] != PayloadVersion {
		return nil, payloadError(ErrUnsupportedVersion, "version", "")
	}
	p, tail, err := parsePublic(bin)
	if err != nil {
		return nil, err
	}
	if len(tail) != SecretSize+tagSize {
		return nil, payloadError(ErrMalformed, "", "wrong length")
	}
	public := bin[:len(bin)-len(tail)]
	copy(p.Secret[:], tail)
	if err := checkTagAndExpiry(p, public, tail[SecretSize:], now); err != nil {
		return nil, err
	}
	return p, nil
}
