package handshake

import (
	"bytes"
	"crypto/cipher"
	"crypto/ecdh"
	"crypto/ed25519"
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"

	"github.com/cairn-dev/cairn/identity"
	"github.com/flynn/noise"
	"golang.org/x/crypto/chacha20poly1305"
)

// machine is one side of a handshake without I/O: the wire driver and the
// in-process benchmark and vector tests feed it messages.
//
//	initiator: writeMsg1, readMsg2, writeMsg3, readFinished
//	responder: readMsg1, writeMsg2, readMsg3, writeFinished
type machine struct {
	cfg       Config
	initiator bool
	ring      keyring
	hs        *noise.HandshakeState
	static    *ecdh.PrivateKey
	payload   []byte // our encoded payload

	peerKey     ed25519.PublicKey
	peerPayload []byte
	remote      []byte // peer's static public key

	done      bool
	hash      []byte
	secret    [32]byte
	finishKey [32]byte
}

func newMachine(cfg Config, initiator bool) (*machine, error) {
	if cfg.Identity == nil {
		return nil, fmt.Errorf("%w: no identity", ErrConfig)
	}
	if cfg.PSK != nil && len(cfg.PSK) != PSKSize {
		return nil, fmt.Errorf("%w: psk is %d bytes, want %d", ErrConfig, len(cfg.PSK), PSKSize)
	}
	if cfg.PayloadKey != nil && len(cfg.PayloadKey) != PayloadKeySize {
		return nil, fmt.Errorf("%w: payload key is %d bytes, want %d", ErrConfig, len(cfg.PayloadKey), PayloadKeySize)
	}
	if cfg.ExpectedKey != nil && len(cfg.ExpectedKey) != ed25519.PublicKeySize {
		return nil, fmt.Errorf("%w: expected key is %d bytes", ErrConfig, len(cfg.ExpectedKey))
	}
	if len(cfg.Payload) > MaxAppData {
		return nil, fmt.Errorf("%w: payload is %d bytes, max %d", ErrConfig, len(cfg.Payload), MaxAppData)
	}
	if cfg.Rand == nil {
		cfg.Rand = rand.Reader
	}
	m := &machine{cfg: cfg, initiator: initiator}
	static, key, err := m.ring.newKey(cfg.Rand)
	if err != nil {
		return nil, err
	}
	m.static = key
	m.payload = appendPayload(make([]byte, 0, MaxPayloadSize), payload{
		key:     cfg.Identity.PublicKey(),
		sig:     cfg.Identity.Sign(signedMessage(static.Public)),
		appData: cfg.Payload,
	})
	nc := noise.Config{
		CipherSuite:   noise.NewCipherSuite(&m.ring, noise.CipherChaChaPoly, noise.HashSHA256),
		Random:        cfg.Rand,
		Pattern:       noise.HandshakeXX,
		Initiator:     initiator,
		Prologue:      cfg.Prologue,
		StaticKeypair: static,
	}
	if cfg.PSK != nil {
		nc.PresharedKey = cfg.PSK
		nc.PresharedKeyPlacement = 3
	}
	if m.hs, err = noise.NewHandshakeState(nc); err != nil {
		m.wipe()
		return nil, fmt.Errorf("%w: %w", ErrConfig, err)
	}
	return m, nil
}

// write produces the next Noise message carrying pl.
func (m *machine) write(pl []byte) ([]byte, error) {
	out, cs1, cs2, err := m.hs.WriteMessage(make([]byte, 0, MaxMessageSize), pl)
	if err != nil {
		return nil, err
	}
	if cs1 != nil {
		m.split(cs1, cs2)
	}
	return out, nil
}

// read consumes the next Noise message and returns its payload.
func (m *machine) read(msg []byte) ([]byte, error) {
	if len(msg) > MaxMessageSize {
		return nil, fmt.Errorf("%w: %d bytes", ErrBadMessage, len(msg))
	}
	pl, cs1, cs2, err := m.hs.ReadMessage(nil, msg)
	switch {
	case err == nil:
	case errors.Is(err, noise.ErrShortMessage), errors.Is(err, errLowOrder):
		return nil, fmt.Errorf("%w: %w", ErrBadMessage, err)
	default:
		return nil, fmt.Errorf("%w: %w", ErrDecrypt, err)
	}
	if cs1 != nil {
		m.split(cs1, cs2)
	}
	return pl, nil
}

// split derives the outputs once Noise is done.
func (m *machine) split(cs1, cs2 *noise.CipherState) {
	var ikm [64]byte
	k1, k2 := cs1.UnsafeKey(), cs2.UnsafeKey()
	copy(ikm[:32], k1[:])
	copy(ikm[32:], k2[:])
	clear(k1[:])
	clear(k2[:])
	m.hash = bytes.Clone(m.hs.ChannelBinding())
	s, _ := hkdf.Key(sha256.New, ikm[:], m.hash, RatchetInitLabel, 32)
	f, _ := hkdf.Key(sha256.New, ikm[:], m.hash, FinishedLabel, 32)
	copy(m.secret[:], s)
	copy(m.finishKey[:], f)
	clear(s)
	clear(f)
	clear(ikm[:])
	m.done = true
}

// verifyPeer checks the peer's payload against its static key and the
// expectations in the config.
func (m *machine) verifyPeer(pl []byte) error {
	p, err := parsePayload(pl)
	if err != nil {
		return err
	}
	m.remote = bytes.Clone(m.hs.PeerStatic())
	if !ed25519.Verify(p.key, signedMessage(m.remote), p.sig) {
		return ErrBadSignature
	}
	actual := identity.PeerIDFromPublicKey(p.key)
	if !m.cfg.ExpectedPeer.IsZero() && actual != m.cfg.ExpectedPeer {
		return &PeerIDMismatchError{Expected: m.cfg.ExpectedPeer, Actual: actual}
	}
	if m.cfg.ExpectedKey != nil && !bytes.Equal(m.cfg.ExpectedKey, p.key) {
		return &PeerIDMismatchError{Expected: identity.PeerIDFromPublicKey(m.cfg.ExpectedKey), Actual: actual}
	}
	m.peerKey = bytes.Clone(p.key)
	m.peerPayload = bytes.Clone(p.appData)
	return nil
}

func (m *machine) writeMsg1() ([]byte, error) { return m.write(nil) }

func (m *machine) readMsg1(msg []byte) error {
	pl, err := m.read(msg)
	if err != nil {
		return err
	}
	if len(pl) != 0 {
		return fmt.Errorf("%w: message 1 carries a payload", ErrBadMessage)
	}
	return nil
}

func (m *machine) writeMsg2() ([]byte, error) {
	if m.cfg.PayloadKey == nil {
		return m.write(m.payload)
	}
	// nonce || ChaCha20-Poly1305(key, payload), the key from PayloadKey,
	// the initiator's ephemeral key and the nonce: new for every handshake.
	sealed := make([]byte, payloadNonceSize, sealedOverhead+len(m.payload))
	if _, err := io.ReadFull(m.cfg.Rand, sealed); err != nil {
		return nil, fmt.Errorf("handshake: no randomness: %w", err)
	}
	aead := m.payloadAEAD(m.hs.PeerEphemeral(), sealed)
	return m.write(aead.Seal(sealed, make([]byte, chacha20poly1305.NonceSize), m.payload, nil))
}

func (m *machine) readMsg2(msg []byte) error {
	pl, err := m.read(msg)
	if err != nil {
		return err
	}
	if m.cfg.PayloadKey != nil {
		if len(pl) < sealedOverhead {
			return fmt.Errorf("%w: sealed payload of %d bytes", ErrBadPayload, len(pl))
		}
		aead := m.payloadAEAD(m.hs.LocalEphemeral().Public, pl[:payloadNonceSize])
		if pl, err = aead.Open(nil, make([]byte, chacha20poly1305.NonceSize), pl[payloadNonceSize:], nil); err != nil {
			return fmt.Errorf("%w: sealed payload", ErrDecrypt)
		}
	}
	return m.verifyPeer(pl)
}

// payloadAEAD is the cipher that seals message 2's payload:
// ChaCha20-Poly1305 keyed by HKDF-SHA256(ikm = PayloadKey, salt = the
// initiator's ephemeral public key || nonce, info = PayloadSealLabel).
func (m *machine) payloadAEAD(initiatorEphemeral, nonce []byte) cipher.AEAD {
	salt := append(bytes.Clone(initiatorEphemeral), nonce...)
	k, _ := hkdf.Key(sha256.New, m.cfg.PayloadKey, salt, PayloadSealLabel, chacha20poly1305.KeySize)
	defer clear(k)
	aead, _ := chacha20poly1305.New(k) // a 32-byte key: cannot fail
	return aead
}

func (m *machine) writeMsg3() ([]byte, error) { return m.write(m.payload) }

func (m *machine) readMsg3(msg []byte) error {
	pl, err := m.read(msg)
	if err != nil {
		return err
	}
	return m.verifyPeer(pl)
}

// finished is message 4: HMAC-SHA256(finished key, handshake hash).
func (m *machine) finished() []byte {
	mac := hmac.New(sha256.New, m.finishKey[:])
	mac.Write(m.hash)
	return mac.Sum(nil)
}

func (m *machine) writeFinished() ([]byte, error) {
	if !m.done {
		return nil, errors.New("handshake not complete")
	}
	return m.finished(), nil
}

func (m *machine) readFinished(msg []byte) error {
	if !m.done {
		return errors.New("handshake not complete")
	}
	if len(msg) != FinishedSize {
		return fmt.Errorf("%w: finished message of %d bytes", ErrBadMessage, len(msg))
	}
	if !hmac.Equal(msg, m.finished()) {
		return fmt.Errorf("%w: finished message", ErrDecrypt)
	}
	return nil
}

// result returns the outcome; the machine must be done and verified.
func (m *machine) result() *Result {
	r := &Result{
		PeerID:        identity.PeerIDFromPublicKey(m.peerKey),
		PeerKey:       m.peerKey,
		PeerPayload:   m.peerPayload,
		HandshakeHash: m.hash,
		SharedSecret:  m.secret,
	}
	if m.initiator {
		r.RatchetRemote = m.remote
	} else {
		r.RatchetPrivate = m.static
	}
	return r
}

// wipe zeroes the secrets the machine holds. flynn/noise keeps its chaining
// key and a copy of the psk inside the HandshakeState, which it does not let
// us reach; they go with the garbage collector.
func (m *machine) wipe() {
	m.ring.wipe()
	clear(m.secret[:])
	clear(m.finishKey[:])
	m.static = nil
	m.hs = nil
}
