package pairing

import (
	"encoding/binary"
	"fmt"
)

// Labels of the short authentication strings.
const (
	sasNumericInfo = "cairn-sas-numeric-v1"
	sasEmojiInfo   = "cairn-sas-emoji-v1"
)

// SASEmojiCount is the number of words SASEmoji returns.
const SASEmojiCount = 4

// sasEmojiNames is the 64-entry table of DESIGN.md section 3; index = value.
var sasEmojiNames = [64]string{
	"dog", "cat", "fish", "bird", "bear", "lion", "wolf", "fox",
	"deer", "owl", "bee", "ant", "star", "moon", "sun", "fire",
	"tree", "leaf", "rose", "wave", "rain", "snow", "bolt", "wind",
	"rock", "gem", "bell", "key", "lock", "flag", "book", "pen",
	"cup", "hat", "shoe", "ring", "cake", "gift", "lamp", "gear",
	"ship", "car", "bike", "drum", "horn", "harp", "dice", "coin",
	"map", "tent", "crown", "sword", "shield", "bow", "axe", "hammer",
	"anchor", "wheel", "clock", "heart", "skull", "ghost", "robot", "alien",
}

// SASNumeric returns the 6-digit verification code of a pairing secret:
// u32be(HKDF-SHA256(ikm = secret, info = "cairn-sas-numeric-v1", 4))
// mod 1000000, zero-padded.
func SASNumeric(secret [KeySize]byte) string {
	b := expandShort(secret, sasNumericInfo, 4)
	return fmt.Sprintf("%06d", binary.BigEndian.Uint32(b)%1000000)
}

// SASEmoji returns the 4 verification words of a pairing secret: with
// b = HKDF-SHA256(ikm = secret, info = "cairn-sas-emoji-v1", 8), word i is
// the table entry u16be(b[2i:2i+2]) mod 64.
func SASEmoji(secret [KeySize]byte) []string {
	b := expandShort(secret, sasEmojiInfo, 2*SASEmojiCount)
	out := make([]string, SASEmojiCount)
	for i := range out {
		out[i] = sasEmojiNames[binary.BigEndian.Uint16(b[2*i:])%64]
	}
	return out
}

// expandShort is HKDF-SHA256 with an empty salt and an output of n bytes.
func expandShort(secret [KeySize]byte, info string, n int) []byte {
	return deriveN(secret[:], nil, info, n)
}
