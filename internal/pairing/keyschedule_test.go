package pairing

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"testing"
)

// refHKDF is RFC 5869 HKDF-SHA256 written out from the RFC, independent of
// crypto/hkdf, to check the schedule against.
func refHKDF(ikm, salt []byte, info string, n int) []byte {
	if salt == nil {
		salt = make([]byte, sha256.Size)
	}
	ext := hmac.New(sha256.New, salt)
	ext.Write(ikm)
	prk := ext.Sum(nil)
	var out, prev []byte
	for i := byte(1); len(out) < n; i++ {
		m := hmac.New(sha256.New, prk)
		m.Write(prev)
		m.Write([]byte(info))
		m.Write([]byte{i})
		prev = m.Sum(nil)
		out = append(out, prev...)
	}
	return out[:n]
}

func unhex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestRefHKDF checks the reference against RFC 5869 test case 1.
func TestRefHKDF(t *testing.T) {
	t.Parallel()
	ikm := bytes.Repeat([]byte{0x0b}, 22)
	salt := unhex(t, "000102030405060708090a0b0c")
	info := string(unhex(t, "f0f1f2f3f4f5f6f7f8f9"))
	want := "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865"
	if got := hex.EncodeToString(refHKDF(ikm, salt, info, 42)); got != want {
		t.Fatalf("reference HKDF = %s", got)
	}
}

func TestKeySchedule(t *testing.T) {
	t.Parallel()
	spakeKey := bytes.Repeat([]byte{0x11}, 32)
	var nI, nR [NonceSize]byte
	for i := range nI {
		nI[i], nR[i] = byte(i), byte(0x80+i)
	}
	sk := SessionKey(spakeKey, nI, nR)
	if want := refHKDF(spakeKey, append(nI[:], nR[:]...), "cairn-pairing-session-key-v1", 32); !bytes.Equal(sk[:], want) {
		t.Fatalf("SessionKey = %x, want %x", sk, want)
	}
	if sk2 := SessionKey(spakeKey, nR, nI); sk2 == sk {
		t.Fatal("SessionKey ignores the nonce order")
	}
	ck := ConfirmKey(sk)
	if want := refHKDF(sk[:], nil, "cairn-pairing-key-confirm-v1", 32); !bytes.Equal(ck[:], want) {
		t.Fatalf("ConfirmKey = %x, want %x", ck, want)
	}
	for _, role := range []Role{RoleInitiator, RoleResponder} {
		m := hmac.New(sha256.New, ck[:])
		m.Write([]byte(role.String()))
		want := m.Sum(nil)
		got := ConfirmMAC(ck, role)
		if !bytes.Equal(got[:], want) {
			t.Fatalf("ConfirmMAC(%v) = %x, want %x", role, got, want)
		}
		if !VerifyConfirm(ck, role, got[:]) {
			t.Fatalf("VerifyConfirm(%v) rejects its own MAC", role)
		}
		bad := got
		bad[31] ^= 1
		if VerifyConfirm(ck, role, bad[:]) || VerifyConfirm(ck, role, got[:31]) || VerifyConfirm(ck, role, nil) {
			t.Fatalf("VerifyConfirm(%v) accepts a wrong MAC", role)
		}
	}
	mi, mr := ConfirmMAC(ck, RoleInitiator), ConfirmMAC(ck, RoleResponder)
	if mi == mr || VerifyConfirm(ck, RoleResponder, mi[:]) {
		t.Fatal("the two roles' MACs are interchangeable")
	}
	if z := ConfirmMAC(ck, Role(9)); z != [32]byte{} || VerifyConfirm(ck, Role(9), z[:]) {
		t.Fatal("an invalid role got a usable MAC")
	}
	psk := NoisePSK(sk)
	if want := refHKDF(sk[:], nil, "cairn-pairing-noise-psk-v1", 32); !bytes.Equal(psk[:], want) {
		t.Fatalf("NoisePSK = %x, want %x", psk, want)
	}
	pk := NoisePayloadKey(sk)
	if want := refHKDF(sk[:], nil, "cairn-pairing-payload-key-v1", 32); !bytes.Equal(pk[:], want) {
		t.Fatalf("NoisePayloadKey = %x, want %x", pk, want)
	}
	hh := bytes.Repeat([]byte{0x22}, 32)
	ps := PairingSecret(sk[:], hh)
	if want := refHKDF(sk[:], hh, "cairn-pairing-secret-v1", 32); !bytes.Equal(ps[:], want) {
		t.Fatalf("PairingSecret = %x, want %x", ps, want)
	}
	keys := map[[32]byte]string{sk: "session", ck: "confirm", psk: "psk", ps: "secret", mi: "mac-i", mr: "mac-r", pk: "payload"}
	if len(keys) != 7 {
		t.Fatal("two keys of the schedule are equal")
	}
}
