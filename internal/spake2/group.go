package spake2

import (
	"bytes"
	"crypto/hkdf"
	"crypto/sha256"
	"encoding/hex"
	"fmt"

	"filippo.io/edwards25519"
)

const (
	// passwordInfo is python-spake2's HKDF info for the password scalar.
	passwordInfo = "SPAKE2 pw"
	// passwordHashSize is the HKDF output length for the password scalar:
	// the 32-byte scalar size plus 16 bytes to make the reduction unbiased.
	passwordHashSize = 48
	// uniformSize is how many random bytes make one scalar.
	uniformSize = 64

	// mHex and nHex are python-spake2's ParamsEd25519 M and N, which
	// RustCrypto spake2 also uses.
	mHex = "15cfd18e385952982b6a8f8c7854963b58e34388c8e6dae891db756481a02312"
	nHex = "f04f2e7eb734b2a8f8b472eaf9c3c632576ac64aea650b496a8a20ff00e583c3"
)

// params holds the decoded group constants. It is immutable once built.
type params struct {
	m, n     *edwards25519.Point
	lMinus1  *edwards25519.Scalar // l − 1 ≡ −1, for the subgroup check
	zero     *edwards25519.Scalar
	identity *edwards25519.Point
}

// newParams decodes M and N. They are constants, so an error here means the
// source is corrupt; it is still returned rather than panicking.
func newParams() (*params, error) {
	m, err := decodeConstant(mHex)
	if err != nil {
		return nil, fmt.Errorf("spake2: failed to decode M: %w", err)
	}
	n, err := decodeConstant(nHex)
	if err != nil {
		return nil, fmt.Errorf("spake2: failed to decode N: %w", err)
	}
	one, err := edwards25519.NewScalar().SetCanonicalBytes(append([]byte{1}, make([]byte, 31)...))
	if err != nil {
		return nil, err
	}
	return &params{
		m:        m,
		n:        n,
		lMinus1:  edwards25519.NewScalar().Negate(one),
		zero:     edwards25519.NewScalar(),
		identity: edwards25519.NewIdentityPoint(),
	}, nil
}

func decodeConstant(h string) (*edwards25519.Point, error) {
	b, err := hex.DecodeString(h)
	if err != nil {
		return nil, err
	}
	return new(edwards25519.Point).SetBytes(b)
}

// passwordScalar maps a password to a scalar the way python-spake2 does:
// 48 bytes of HKDF output read as a big-endian integer, reduced mod l.
func passwordScalar(password []byte) (*edwards25519.Scalar, error) {
	h, err := hkdf.Key(sha256.New, password, nil, passwordInfo, passwordHashSize)
	if err != nil {
		return nil, fmt.Errorf("spake2: failed to hash the password: %w", err)
	}
	s, err := uniformScalar(h)
	clear(h)
	return s, err
}

// uniformScalar reads up to 64 bytes as a big-endian integer and reduces it
// mod l. SetUniformBytes wants exactly 64 little-endian bytes, so the input
// is reversed into a zero-padded buffer.
func uniformScalar(be []byte) (*edwards25519.Scalar, error) {
	var le [uniformSize]byte
	for i, b := range be {
		le[len(be)-1-i] = b
	}
	s, err := edwards25519.NewScalar().SetUniformBytes(le[:])
	clear(le[:])
	if err != nil {
		return nil, fmt.Errorf("spake2: failed to reduce a scalar: %w", err)
	}
	return s, nil
}

// decodePeerPoint decodes and validates the peer's point, which is public.
func (p *params) decodePeerPoint(b []byte) (*edwards25519.Point, error) {
	pt, err := new(edwards25519.Point).SetBytes(b)
	if err != nil {
		return nil, messageError(ErrInvalidPoint, "not a curve point")
	}
	if !bytes.Equal(pt.Bytes(), b) {
		return nil, messageError(ErrInvalidPoint, "non-canonical encoding")
	}
	if new(edwards25519.Point).MultByCofactor(pt).Equal(p.identity) == 1 {
		return nil, messageError(ErrSmallOrder, "point of small order")
	}
	// l·P = (l−1)·P + P is the identity exactly for P in the prime-order
	// subgroup. Variable time is fine: P is public.
	lp := new(edwards25519.Point).VarTimeDoubleScalarBaseMult(p.lMinus1, pt, p.zero)
	if lp.Add(lp, pt).Equal(p.identity) != 1 {
		return nil, messageError(ErrSmallOrder, "point has a small-order component")
	}
	return pt, nil
}
