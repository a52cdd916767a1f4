package ratchet

import (
	"crypto/ecdh"
	"fmt"
	"math"
	"sync"
)

// State is one side of a Double Ratchet session. It is safe for concurrent
// use; Seal and Open are serialised by an internal mutex.
//
// Open authenticates before it commits: it derives every new key in locals
// and changes the State only once the AEAD has accepted the message, so a
// forged, replayed, truncated or corrupted message leaves the State exactly as
// it was.
type State struct {
	mu        sync.Mutex
	cfg       Config
	cfgSet    bool
	suite     aeadSuite
	ready     bool
	destroyed bool

	dhs    *ecdh.PrivateKey // our current ratchet key pair
	dhsPub [KeySize]byte
	dhr    [KeySize]byte // remote ratchet public key
	hasDHr bool

	rk, cks, ckr   [KeySize]byte // root, sending chain and receiving chain keys
	hasCKs, hasCKr bool
	ns, nr, pn     uint32

	prev    [][KeySize]byte // earlier remote ratchet keys, oldest first
	skipped skippedStore

	aeadKey [KeySize]byte // scratch: the message key being used, wiped after
	adBuf   []byte        // scratch: header || ad
	staged  []skippedKey  // scratch: skipped keys of the message being opened
}

func newState(cfg Config) (*State, error) {
	c, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	return &State{cfg: c, cfgSet: true, suite: chachaSuite}, nil
}

// NewInitiator starts the ratchet on the side that initiated the handshake
// ("Alice"). sk is the 32-byte secret shared after the handshake and
// remoteRatchetPub the responder's 32-byte X25519 ratchet public key learned
// in it. Alice performs the first DH ratchet step at once and can Seal
// immediately.
func NewInitiator(sk [KeySize]byte, remoteRatchetPub []byte, cfg Config) (*State, error) {
	defer clear(sk[:])
	if len(remoteRatchetPub) != KeySize {
		return nil, fmt.Errorf("%w: remote ratchet key is %d bytes, want %d", ErrInvalidArgument, len(remoteRatchetPub), KeySize)
	}
	s, err := newState(cfg)
	if err != nil {
		return nil, err
	}
	dhs, err := generateKey(s.cfg.Rand)
	if err != nil {
		return nil, err
	}
	copy(s.dhr[:], remoteRatchetPub)
	rk, cks, err := dhRoot(&sk, dhs, &s.dhr)
	if err != nil {
		return nil, fmt.Errorf("%w: remote ratchet key: %w", ErrInvalidArgument, err)
	}
	s.setDHs(dhs)
	s.hasDHr = true
	s.rk, s.cks, s.hasCKs = rk, cks, true
	clear(rk[:])
	clear(cks[:])
	s.ready = true
	return s, nil
}

// NewResponder starts the ratchet on the responder side ("Bob"). sk is the
// shared secret and ratchetPriv the X25519 key pair whose public key the
// initiator learned in the handshake; it becomes Bob's first ratchet key (the
// State keeps its own copy). Bob has no sending chain until he has opened a
// message from Alice: Seal returns ErrNotReady until then.
func NewResponder(sk [KeySize]byte, ratchetPriv *ecdh.PrivateKey, cfg Config) (*State, error) {
	defer clear(sk[:])
	if ratchetPriv == nil || ratchetPriv.Curve() != ecdh.X25519() {
		return nil, fmt.Errorf("%w: ratchet key must be an X25519 private key", ErrInvalidArgument)
	}
	s, err := newState(cfg)
	if err != nil {
		return nil, err
	}
	b := ratchetPriv.Bytes()
	defer clear(b)
	dhs, err := ecdh.X25519().NewPrivateKey(b)
	if err != nil {
		return nil, fmt.Errorf("%w: ratchet key: %w", ErrInvalidArgument, err)
	}
	s.setDHs(dhs)
	s.rk = sk
	s.ready = true
	return s, nil
}

func (s *State) setDHs(k *ecdh.PrivateKey) {
	s.dhs = k
	copy(s.dhsPub[:], k.PublicKey().Bytes())
}

// usableLocked reports why the State cannot be used, if it cannot.
// Must hold s.mu.
func (s *State) usableLocked() error {
	if s.destroyed {
		return ErrDestroyed
	}
	if !s.ready {
		return ErrNotReady
	}
	return nil
}

// Seal encrypts plaintext, binding ad, and appends header || ciphertext to
// dst; the result is Overhead() bytes longer than plaintext. plaintext may
// alias the output only exactly (dst[len(dst)+HeaderSize:]).
//
// A responder that has not opened any message yet returns ErrNotReady.
func (s *State) Seal(dst, plaintext, ad []byte) ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.usableLocked(); err != nil {
		return nil, err
	}
	if !s.hasCKs {
		return nil, ErrNotReady
	}
	if s.ns == math.MaxUint32 {
		return nil, ErrChainExhausted
	}
	ret, out := sliceForAppend(dst, HeaderSize+len(plaintext)+TagSize)
	if inexactOverlap(out[HeaderSize:], plaintext) {
		return nil, fmt.Errorf("%w: plaintext overlaps output", ErrInvalidArgument)
	}
	h := Header{DH: s.dhsPub, PN: s.pn, N: s.ns}
	s.adBuf, _ = h.AppendBinary(s.adBuf[:0])
	s.adBuf = append(s.adBuf, ad...)

	mk, next := chainStep(&s.cks)
	_, err := s.sealLocked(&mk, out[HeaderSize:HeaderSize], plaintext)
	clear(mk[:])
	if err != nil {
		clear(next[:])
		return nil, err
	}
	s.cks = next
	clear(next[:])
	s.ns++
	h.encode(out)
	if s.skipped.len() > 0 {
		s.skipped.purge(s.cutoff(s.nowNanos()))
	}
	return ret, nil
}

// Open authenticates and decrypts a message produced by the peer's Seal with
// the same ad, and appends the plaintext to dst. To decrypt in place pass
// message[HeaderSize:HeaderSize] as dst.
//
// On any error the State is unchanged. Errors: ErrMalformed (short message or
// bad ratchet key), ErrAuth (forged or corrupted), ErrReplay (duplicate or
// discarded key), ErrTooManySkipped (as *SkipError).
func (s *State) Open(dst, message, ad []byte) ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.usableLocked(); err != nil {
		return nil, err
	}
	if len(message) < HeaderSize+TagSize {
		return nil, fmt.Errorf("%w: message is %d bytes, minimum %d", ErrMalformed, len(message), HeaderSize+TagSize)
	}
	var h Header
	h.put(message)
	ct := message[HeaderSize:]
	ret, out := sliceForAppend(dst, len(ct)-TagSize)
	if inexactOverlap(out, ct) {
		return nil, fmt.Errorf("%w: output overlaps message", ErrInvalidArgument)
	}
	s.adBuf = append(append(s.adBuf[:0], message[:HeaderSize]...), ad...)

	var err error
	switch {
	case s.skipped.len() > 0 && s.hasSkipped(&h):
		err = s.openSkippedLocked(&h, out, ct)
	case s.hasDHr && h.DH == s.dhr:
		err = s.openCurrentLocked(&h, out, ct)
	case s.isOldChainLocked(&h.DH):
		err = fmt.Errorf("%w: message %d of an earlier chain", ErrReplay, h.N)
	default:
		err = s.openNewChainLocked(&h, out, ct)
	}
	clear(s.staged)
	s.staged = s.staged[:0]
	if err != nil {
		return nil, err
	}
	return ret, nil
}

// sealLocked encrypts with message key mk and associated data s.adBuf.
// Must hold s.mu.
func (s *State) sealLocked(mk *[KeySize]byte, dst, plaintext []byte) ([]byte, error) {
	s.aeadKey = *mk
	defer clear(s.aeadKey[:])
	return s.suite.seal(s.aeadKey[:], dst, plaintext, s.adBuf)
}

// openLocked decrypts ct into out with message key mk and associated data
// s.adBuf. Must hold s.mu.
func (s *State) openLocked(mk *[KeySize]byte, out, ct []byte) ([]byte, error) {
	s.aeadKey = *mk
	defer clear(s.aeadKey[:])
	return s.suite.open(s.aeadKey[:], out[:0], ct, s.adBuf)
}

func (s *State) hasSkipped(h *Header) bool {
	_, ok := s.skipped.lookup(skipID{dh: h.DH, n: h.N})
	return ok
}

// openSkippedLocked opens a message whose key was stored when skipped.
func (s *State) openSkippedLocked(h *Header, out, ct []byte) error {
	id := skipID{dh: h.DH, n: h.N}
	e, _ := s.skipped.lookup(id)
	defer clear(e.mk[:])
	now := s.nowNanos()
	if e.added < s.cutoff(now) {
		return fmt.Errorf("%w: key of message %d expired", ErrReplay, h.N)
	}
	if _, err := s.openLocked(&e.mk, out, ct); err != nil {
		return err
	}
	s.skipped.remove(id)
	s.skipped.purge(s.cutoff(now))
	return nil
}

// openCurrentLocked opens a message of the current receiving chain.
func (s *State) openCurrentLocked(h *Header, out, ct []byte) error {
	if !s.hasCKr {
		// Only the responder's initial key can match without a receiving
		// chain, and the responder never sends with it.
		return ErrAuth
	}
	if h.N < s.nr {
		return fmt.Errorf("%w: message %d already received", ErrReplay, h.N)
	}
	if err := s.checkSkip(s.nr, h.N); err != nil {
		return err
	}
	ck := s.ckr
	defer clear(ck[:])
	s.skipLocked(&ck, s.nr, h.N, &h.DH)
	mk, next := chainStep(&ck)
	defer clear(mk[:])
	defer clear(next[:])
	if _, err := s.openLocked(&mk, out, ct); err != nil {
		return err
	}
	// Commit.
	s.ckr, s.nr = next, h.N+1
	s.commitStagedLocked()
	return nil
}

// openNewChainLocked performs a DH ratchet step on copies and commits it if
// the message opens.
func (s *State) openNewChainLocked(h *Header, out, ct []byte) error {
	// Cheap checks first, so that a forged header costs no DH.
	if s.hasCKr && h.PN > s.nr {
		if err := s.checkSkip(s.nr, h.PN); err != nil {
			return err
		}
	}
	if err := s.checkSkip(0, h.N); err != nil {
		return err
	}
	if s.hasCKr && h.PN > s.nr {
		ck := s.ckr
		s.skipLocked(&ck, s.nr, h.PN, &s.dhr)
		clear(ck[:])
	}
	rk1, ckr, err := dhRoot(&s.rk, s.dhs, &h.DH)
	defer clear(rk1[:])
	defer clear(ckr[:])
	if err != nil {
		return err
	}
	dhs, err := generateKey(s.cfg.Rand)
	if err != nil {
		return err
	}
	rk2, cks, err := dhRoot(&rk1, dhs, &h.DH)
	defer clear(rk2[:])
	defer clear(cks[:])
	if err != nil {
		return err
	}
	s.skipLocked(&ckr, 0, h.N, &h.DH)
	mk, next := chainStep(&ckr)
	defer clear(mk[:])
	defer clear(next[:])
	if _, err := s.openLocked(&mk, out, ct); err != nil {
		return err
	}
	// Commit.
	if s.hasDHr {
		if len(s.prev) == maxPrevRemoteKeys {
			s.prev = append(s.prev[:0], s.prev[1:]...)
		}
		s.prev = append(s.prev, s.dhr)
	}
	s.dhr, s.hasDHr = h.DH, true
	s.pn, s.ns, s.nr = s.ns, 0, h.N+1
	s.rk = rk2
	s.ckr, s.hasCKr = next, true
	s.cks, s.hasCKs = cks, true
	s.setDHs(dhs)
	s.commitStagedLocked()
	return nil
}

// isOldChainLocked reports whether dh is an earlier remote ratchet key.
func (s *State) isOldChainLocked(dh *[KeySize]byte) bool {
	for i := range s.prev {
		if s.prev[i] == *dh {
			return true
		}
	}
	return s.skipped.hasChain(dh)
}

func (s *State) checkSkip(from, until uint32) error {
	if until > from && uint64(until-from) > uint64(s.cfg.MaxSkipPerChain) {
		return &SkipError{Skip: uint64(until - from), Limit: s.cfg.MaxSkipPerChain}
	}
	return nil
}

// skipLocked advances the chain copy ck from message from to until, staging
// the keys of the messages in between. Must hold s.mu.
func (s *State) skipLocked(ck *[KeySize]byte, from, until uint32, dh *[KeySize]byte) {
	if until <= from {
		return
	}
	now := s.nowNanos()
	for n := from; n < until; n++ {
		mk, next := chainStep(ck)
		s.staged = append(s.staged, skippedKey{id: skipID{dh: *dh, n: n}, mk: mk, added: now})
		*ck = next
		clear(mk[:])
		clear(next[:])
	}
}

// commitStagedLocked moves staged keys into the store and enforces its
// bounds. Must hold s.mu.
func (s *State) commitStagedLocked() {
	for i := range s.staged {
		s.skipped.add(&s.staged[i])
	}
	if s.skipped.len() == 0 {
		return
	}
	s.skipped.evict(s.cfg.MaxSkippedTotal)
	s.skipped.purge(s.cutoff(s.nowNanos()))
}

func (s *State) nowNanos() int64 { return s.cfg.Now().UnixNano() }

func (s *State) cutoff(now int64) int64 { return now - s.cfg.MaxSkippedAge.Nanoseconds() }

// SkippedKeys returns the number of stored skipped message keys.
func (s *State) SkippedKeys() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.skipped.len()
}

// CanSend reports whether Seal would not return ErrNotReady.
func (s *State) CanSend() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.ready && !s.destroyed && s.hasCKs
}

// Destroy overwrites every key the State holds and makes later calls fail
// with ErrDestroyed. Go cannot promise that no copy survives (the X25519
// private key lives inside crypto/ecdh), so this is best effort.
func (s *State) Destroy() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.wipeLocked()
	s.destroyed = true
}

// wipeLocked zeroes all key material. Must hold s.mu.
func (s *State) wipeLocked() {
	clear(s.rk[:])
	clear(s.cks[:])
	clear(s.ckr[:])
	clear(s.dhr[:])
	clear(s.dhsPub[:])
	s.dhs = nil
	s.skipped.wipe()
	clear(s.staged)
	s.staged = nil
	clear(s.adBuf)
	s.prev = nil
	s.hasCKs, s.hasCKr, s.hasDHr = false, false, false
	s.ns, s.nr, s.pn = 0, 0, 0
	s.ready = false
}
