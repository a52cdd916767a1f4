package ratchet

// skipID names a message key: the sender's ratchet key and the message number.
type skipID struct {
	dh [KeySize]byte
	n  uint32
}

// skippedKey is a stored message key of a message not yet received.
type skippedKey struct {
	id    skipID
	mk    [KeySize]byte
	added int64 // Config.Now().UnixNano() when stored
}

type skippedEntry struct {
	mk    [KeySize]byte
	added int64
	seq   uint64
}

type orderItem struct {
	id  skipID
	seq uint64
}

// skippedStore holds skipped message keys, bounded by the caller through
// evict (oldest first) and purge (by age). order is the insertion order; it
// may hold stale items for keys already removed, recognised by their seq.
type skippedStore struct {
	keys    map[skipID]skippedEntry
	order   []orderItem
	head    int
	nextSeq uint64
}

func (s *skippedStore) len() int { return len(s.keys) }

func (s *skippedStore) lookup(id skipID) (skippedEntry, bool) {
	if len(s.keys) == 0 {
		return skippedEntry{}, false
	}
	e, ok := s.keys[id]
	return e, ok
}

// hasChain reports whether any key of the chain dh is stored.
func (s *skippedStore) hasChain(dh *[KeySize]byte) bool {
	for i := s.head; i < len(s.order); i++ {
		it := s.order[i]
		if it.id.dh == *dh {
			if e, ok := s.keys[it.id]; ok && e.seq == it.seq {
				return true
			}
		}
	}
	return false
}

func (s *skippedStore) add(k *skippedKey) {
	if s.keys == nil {
		s.keys = make(map[skipID]skippedEntry)
	}
	s.nextSeq++
	s.keys[k.id] = skippedEntry{mk: k.mk, added: k.added, seq: s.nextSeq}
	s.order = append(s.order, orderItem{id: k.id, seq: s.nextSeq})
	s.compact()
}

func (s *skippedStore) remove(id skipID) {
	if _, ok := s.keys[id]; ok {
		s.keys[id] = skippedEntry{} // overwrite the key bytes before deleting
		delete(s.keys, id)
	}
	s.compact()
}

// front returns the oldest live key, dropping stale order items.
func (s *skippedStore) front() (orderItem, skippedEntry, bool) {
	for s.head < len(s.order) {
		it := s.order[s.head]
		if e, ok := s.keys[it.id]; ok && e.seq == it.seq {
			return it, e, true
		}
		s.order[s.head] = orderItem{}
		s.head++
	}
	return orderItem{}, skippedEntry{}, false
}

// evict removes the oldest keys until at most max remain.
func (s *skippedStore) evict(max int) {
	for len(s.keys) > max {
		it, _, ok := s.front()
		if !ok {
			break
		}
		s.remove(it.id)
	}
}

// purge removes keys added before cutoff (unix nanoseconds), oldest first.
func (s *skippedStore) purge(cutoff int64) {
	for {
		it, e, ok := s.front()
		if !ok || e.added >= cutoff {
			return
		}
		s.remove(it.id)
	}
}

// compact bounds order: it drops the consumed prefix and stale items when
// they outnumber the live keys.
func (s *skippedStore) compact() {
	live := len(s.keys)
	if len(s.order)-s.head <= 2*live+64 && s.head <= len(s.order)/2 {
		return
	}
	if live == 0 {
		clear(s.order)
		s.order, s.head = s.order[:0], 0
		return
	}
	w := 0
	for i := s.head; i < len(s.order); i++ {
		it := s.order[i]
		if e, ok := s.keys[it.id]; ok && e.seq == it.seq {
			s.order[w] = it
			w++
		}
	}
	clear(s.order[w:])
	s.order, s.head = s.order[:w], 0
}

// each calls f for every live key, oldest first.
func (s *skippedStore) each(f func(id skipID, e skippedEntry)) {
	for i := s.head; i < len(s.order); i++ {
		it := s.order[i]
		if e, ok := s.keys[it.id]; ok && e.seq == it.seq {
			f(it.id, e)
		}
	}
}

// wipe zeroes and drops every key.
func (s *skippedStore) wipe() {
	for id := range s.keys {
		s.keys[id] = skippedEntry{}
		delete(s.keys, id)
	}
	clear(s.order)
	s.order, s.head = nil, 0
}
