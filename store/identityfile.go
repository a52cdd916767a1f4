package store

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"fmt"

	"golang.org/x/crypto/argon2"
	"golang.org/x/crypto/chacha20poly1305"

	"github.com/cairn-dev/cairn/identity"
)

const (
	identityMagic = "cairn-identity-v1\n"

	kindPlain  byte = 0x01
	kindSealed byte = 0x02

	// Argon2id parameters for new sealed identities (RFC 9106's second
	// recommended option: 3 passes, 64 MiB, 4 lanes).
	ArgonTime      = 3
	ArgonMemoryKiB = 64 * 1024
	ArgonThreads   = 4
	// Bounds on the parameters read from a file, so a crafted file cannot
	// make Open allocate or compute without limit.
	maxArgonTime      = 64
	maxArgonMemoryKiB = 1 << 20 // 1 GiB
	maxArgonThreads   = 64

	saltSize     = 16
	checksumSize = sha256.Size
	sealedHeader = 4 + 4 + 1 + saltSize + chacha20poly1305.NonceSizeX
	sealedSize   = identity.SeedSize + chacha20poly1305.Overhead

	plainFileSize  = len(identityMagic) + 1 + identity.SeedSize + checksumSize
	sealedFileSize = len(identityMagic) + 1 + sealedHeader + sealedSize + checksumSize
)

type kdfParams struct {
	time, memory uint32
	threads      uint8
}

var defaultKDF = kdfParams{time: ArgonTime, memory: ArgonMemoryKiB, threads: ArgonThreads}

// identityFile is a decoded identity.key, before any passphrase is applied.
type identityFile struct {
	kind  byte
	seed  []byte // plain
	kdf   kdfParams
	salt  []byte
	nonce []byte
	box   []byte // sealed seed
}

// decodeIdentityFile parses b strictly: the magic, a known kind, the exact
// length, parameters within bounds, a matching checksum. Errors wrap
// ErrCorrupt. The result aliases b.
func decodeIdentityFile(b []byte) (identityFile, error) {
	bad := func(why string) (identityFile, error) {
		return identityFile{}, fmt.Errorf("%w: %s", ErrCorrupt, why)
	}
	if len(b) < len(identityMagic)+1 || string(b[:len(identityMagic)]) != identityMagic {
		return bad("not a cairn identity file")
	}
	body, sum := b[:len(b)-min(len(b), checksumSize)], b[len(b)-min(len(b), checksumSize):]
	f := identityFile{kind: b[len(identityMagic)]}
	switch f.kind {
	case kindPlain:
		if len(b) != plainFileSize {
			return bad(fmt.Sprintf("%d bytes, want %d", len(b), plainFileSize))
		}
	case kindSealed:
		if len(b) != sealedFileSize {
			return bad(fmt.Sprintf("%d bytes, want %d", len(b), sealedFileSize))
		}
	default:
		return bad(fmt.Sprintf("unknown kind %d", f.kind))
	}
	want := sha256.Sum256(body)
	if !bytes.Equal(sum, want[:]) {
		return bad("checksum mismatch")
	}
	p := body[len(identityMagic)+1:]
	if f.kind == kindPlain {
		f.seed = p
		return f, nil
	}
	f.kdf = kdfParams{time: binary.BigEndian.Uint32(p), memory: binary.BigEndian.Uint32(p[4:]), threads: p[8]}
	if f.kdf.time < 1 || f.kdf.time > maxArgonTime || f.kdf.threads < 1 || f.kdf.threads > maxArgonThreads ||
		f.kdf.memory < 8*uint32(f.kdf.threads) || f.kdf.memory > maxArgonMemoryKiB {
		return bad("argon2id parameters out of bounds")
	}
	p = p[9:]
	f.salt, p = p[:saltSize], p[saltSize:]
	f.nonce, f.box = p[:chacha20poly1305.NonceSizeX], p[chacha20poly1305.NonceSizeX:]
	return f, nil
}

// encodeIdentityFile is the inverse of decodeIdentityFile.
func encodeIdentityFile(f identityFile) []byte {
	b := make([]byte, 0, sealedFileSize)
	b = append(b, identityMagic...)
	b = append(b, f.kind)
	if f.kind == kindPlain {
		b = append(b, f.seed...)
	} else {
		b = appendSealedHeader(b, f)
		b = append(b, f.box...)
	}
	sum := sha256.Sum256(b)
	return append(b, sum[:]...)
}

func appendSealedHeader(b []byte, f identityFile) []byte {
	b = binary.BigEndian.AppendUint32(b, f.kdf.time)
	b = binary.BigEndian.AppendUint32(b, f.kdf.memory)
	b = append(b, f.kdf.threads)
	b = append(b, f.salt...)
	return append(b, f.nonce...)
}

// sealedAD is the associated data of the sealed seed: every byte before it.
func sealedAD(f identityFile) []byte {
	b := append([]byte(identityMagic), kindSealed)
	return appendSealedHeader(b, f)
}

func sealKey(passphrase []byte, f identityFile) []byte {
	return argon2.IDKey(passphrase, f.salt, f.kdf.time, f.kdf.memory, f.kdf.threads, chacha20poly1305.KeySize)
}

// newIdentityFile encodes seed, sealed if passphrase is not empty.
func newIdentityFile(seed, passphrase []byte, kdf kdfParams) ([]byte, error) {
	if len(passphrase) == 0 {
		return encodeIdentityFile(identityFile{kind: kindPlain, seed: seed}), nil
	}
	f := identityFile{kind: kindSealed, kdf: kdf, salt: make([]byte, saltSize), nonce: make([]byte, chacha20poly1305.NonceSizeX)}
	if _, err := rand.Read(f.salt); err != nil {
		return nil, err
	}
	if _, err := rand.Read(f.nonce); err != nil {
		return nil, err
	}
	key := sealKey(passphrase, f)
	defer clear(key)
	aead, err := chacha20poly1305.NewX(key)
	if err != nil {
		return nil, err
	}
	f.box = aead.Seal(nil, f.nonce, seed, sealedAD(f))
	return encodeIdentityFile(f), nil
}

// openIdentityFile returns the seed in f.
func openIdentityFile(f identityFile, passphrase []byte) ([]byte, error) {
	if f.kind == kindPlain {
		return bytes.Clone(f.seed), nil
	}
	if len(passphrase) == 0 {
		return nil, ErrPassphraseRequired
	}
	key := sealKey(passphrase, f)
	defer clear(key)
	aead, err := chacha20poly1305.NewX(key)
	if err != nil {
		return nil, err
	}
	seed, err := aead.Open(nil, f.nonce, f.box, sealedAD(f))
	if err != nil {
		return nil, ErrWrongPassphrase
	}
	return seed, nil
}
