package ratchet

import (
	"crypto/ecdh"
	"encoding/binary"
	"fmt"
)

// State encoding, version 1 (all integers big-endian):
//
//	version    u8  = 1
//	flags      u8  bit 0: has remote key, bit 1: has sending chain,
//	               bit 2: has receiving chain; other bits zero
//	dhs        32  our ratchet private key (X25519 scalar)
//	dhr        32  remote ratchet public key (zero if absent)
//	rk         32  root key
//	cks        32  sending chain key (zero if absent)
//	ckr        32  receiving chain key (zero if absent)
//	ns, nr, pn u32 each
//	nprev      u8  (<= 32), then nprev earlier remote keys of 32 bytes, oldest first
//	nskipped   u32 (<= 65536), then nskipped entries, oldest first, of
//	               dh (32) || n (u32) || added (i64, unix ns) || mk (32)
//
// The encoding is canonical: UnmarshalBinary rejects anything MarshalBinary
// would not produce (unknown flags, absent keys that are not zero, duplicate
// skipped keys, trailing bytes).
const (
	flagDHr = 1 << iota
	flagCKs
	flagCKr
	flagsKnown = flagDHr | flagCKs | flagCKr

	stateFixedSize   = 2 + 5*KeySize + 3*4
	skippedEntrySize = KeySize + 4 + 8 + KeySize
)

// MarshalBinary encodes the State for resumption. The encoding contains every
// secret of the session: store it like a key, and never resume from an older
// copy than the last one taken after a Seal (re-sending with an old state
// reuses message keys).
func (s *State) MarshalBinary() ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.usableLocked(); err != nil {
		return nil, err
	}
	b := make([]byte, 0, stateFixedSize+1+len(s.prev)*KeySize+4+s.skipped.len()*skippedEntrySize)
	var flags byte
	if s.hasDHr {
		flags |= flagDHr
	}
	if s.hasCKs {
		flags |= flagCKs
	}
	if s.hasCKr {
		flags |= flagCKr
	}
	b = append(b, stateVersion, flags)
	priv := s.dhs.Bytes()
	b = append(b, priv...)
	clear(priv)
	b = append(b, s.dhr[:]...)
	b = append(b, s.rk[:]...)
	b = append(b, s.cks[:]...)
	b = append(b, s.ckr[:]...)
	b = binary.BigEndian.AppendUint32(b, s.ns)
	b = binary.BigEndian.AppendUint32(b, s.nr)
	b = binary.BigEndian.AppendUint32(b, s.pn)
	b = append(b, byte(len(s.prev)))
	for i := range s.prev {
		b = append(b, s.prev[i][:]...)
	}
	b = binary.BigEndian.AppendUint32(b, uint32(s.skipped.len()))
	s.skipped.each(func(id skipID, e skippedEntry) {
		b = append(b, id.dh[:]...)
		b = binary.BigEndian.AppendUint32(b, id.n)
		b = binary.BigEndian.AppendUint64(b, uint64(e.added))
		b = append(b, e.mk[:]...)
	})
	return b, nil
}

// Restore decodes a MarshalBinary encoding into a new State using cfg.
func Restore(data []byte, cfg Config) (*State, error) {
	s, err := newState(cfg)
	if err != nil {
		return nil, err
	}
	if err := s.UnmarshalBinary(data); err != nil {
		return nil, err
	}
	return s, nil
}

// UnmarshalBinary replaces the State with a decoded MarshalBinary encoding.
// A zero State gets the default Config; otherwise the Config is kept. On
// error (wrapping ErrCorruptState) the State is unchanged.
func (s *State) UnmarshalBinary(data []byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.destroyed {
		return ErrDestroyed
	}
	var t State
	if err := t.decode(data); err != nil {
		t.wipeLocked()
		return err
	}
	if !s.cfgSet {
		c, err := Config{}.withDefaults()
		if err != nil {
			return err
		}
		s.cfg, s.cfgSet, s.suite = c, true, chachaSuite
	}
	s.wipeLocked()
	s.dhs, s.dhsPub, s.dhr, s.hasDHr = t.dhs, t.dhsPub, t.dhr, t.hasDHr
	s.rk, s.cks, s.ckr, s.hasCKs, s.hasCKr = t.rk, t.cks, t.ckr, t.hasCKs, t.hasCKr
	s.ns, s.nr, s.pn = t.ns, t.nr, t.pn
	s.prev, s.skipped = t.prev, t.skipped
	s.ready = true
	clear(t.rk[:])
	clear(t.cks[:])
	clear(t.ckr[:])
	return nil
}

func corrupt(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrCorruptState}, args...)...)
}

// decode parses data into the zero State t.
func (t *State) decode(data []byte) error {
	if len(data) < 1 {
		return corrupt("empty")
	}
	if data[0] != stateVersion {
		return corrupt("version %d, want %d", data[0], stateVersion)
	}
	if len(data) < stateFixedSize+1+4 {
		return corrupt("%d bytes is too short", len(data))
	}
	flags := data[1]
	if flags&^flagsKnown != 0 {
		return corrupt("unknown flags %#x", flags)
	}
	t.hasDHr, t.hasCKs, t.hasCKr = flags&flagDHr != 0, flags&flagCKs != 0, flags&flagCKr != 0
	if (t.hasCKs || t.hasCKr) && !t.hasDHr {
		return corrupt("chain without remote key")
	}
	p := data[2:]
	take := func(dst *[KeySize]byte) {
		copy(dst[:], p[:KeySize])
		p = p[KeySize:]
	}
	var priv [KeySize]byte
	defer clear(priv[:])
	take(&priv)
	take(&t.dhr)
	take(&t.rk)
	take(&t.cks)
	take(&t.ckr)
	var zero [KeySize]byte
	if (!t.hasDHr && t.dhr != zero) || (!t.hasCKs && t.cks != zero) || (!t.hasCKr && t.ckr != zero) {
		return corrupt("absent key is not zero")
	}
	t.ns = binary.BigEndian.Uint32(p)
	t.nr = binary.BigEndian.Uint32(p[4:])
	t.pn = binary.BigEndian.Uint32(p[8:])
	p = p[12:]

	nprev := int(p[0])
	p = p[1:]
	if nprev > maxPrevRemoteKeys {
		return corrupt("%d earlier remote keys, maximum %d", nprev, maxPrevRemoteKeys)
	}
	if len(p) < nprev*KeySize+4 {
		return corrupt("truncated")
	}
	if nprev > 0 {
		t.prev = make([][KeySize]byte, nprev)
		for i := range t.prev {
			take(&t.prev[i])
		}
	}
	nskipped := binary.BigEndian.Uint32(p)
	p = p[4:]
	if nskipped > maxDecodedSkipped {
		return corrupt("%d skipped keys, maximum %d", nskipped, maxDecodedSkipped)
	}
	if uint64(len(p)) != uint64(nskipped)*skippedEntrySize {
		return corrupt("skipped keys: %d bytes for %d entries", len(p), nskipped)
	}
	for range nskipped {
		var k skippedKey
		take(&k.id.dh)
		k.id.n = binary.BigEndian.Uint32(p)
		k.added = int64(binary.BigEndian.Uint64(p[4:]))
		p = p[12:]
		take(&k.mk)
		if _, dup := t.skipped.lookup(k.id); dup {
			clear(k.mk[:])
			return corrupt("duplicate skipped key")
		}
		t.skipped.add(&k)
		clear(k.mk[:])
	}

	dhs, err := ecdh.X25519().NewPrivateKey(priv[:])
	if err != nil {
		return corrupt("ratchet private key")
	}
	t.setDHs(dhs)
	return nil
}
