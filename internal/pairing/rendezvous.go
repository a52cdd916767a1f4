package pairing

import (
	"encoding/binary"
	"time"
)

// Rendezvous id parameters (DESIGN.md section 3).
const (
	rendezvousInfo = "cairn-rendezvous-id-v1"

	// RendezvousPeriod is the lifetime of one rendezvous id: a UTC day.
	RendezvousPeriod = 24 * time.Hour
	// RendezvousOverlap is how long into a day the previous day's id is
	// still looked under.
	RendezvousOverlap = time.Hour
	// RendezvousSkew is the clock difference between peers tolerated at
	// either edge of a day.
	RendezvousSkew = 5 * time.Minute
)

const periodSeconds = int64(RendezvousPeriod / time.Second)

// RendezvousID returns the rendezvous id of two peers with pairing secret
// secret for the day containing t: HKDF-SHA256(ikm = secret,
// salt = u64be(floor(t / 86400) * 86400), info = "cairn-rendezvous-id-v1", 32),
// t in unix seconds.
func RendezvousID(secret [KeySize]byte, t time.Time) [KeySize]byte {
	return rendezvousID(secret, dayStart(t.Unix()))
}

func rendezvousID(secret [KeySize]byte, day int64) [KeySize]byte {
	var salt [8]byte
	binary.BigEndian.PutUint64(salt[:], uint64(day)) // two's complement before 1970
	return derive(secret[:], salt[:], rendezvousInfo)
}

// dayStart is floor(t / 86400) * 86400, rounding towards minus infinity.
func dayStart(t int64) int64 {
	d := t / periodSeconds
	if t%periodSeconds < 0 {
		d--
	}
	return d * periodSeconds
}

// RendezvousIDs returns the ids to look under at now, current day first:
// the current day's; the previous day's during the first hour of a day and
// the [RendezvousSkew] after it; and the next day's within RendezvousSkew of
// the end of a day, for a peer whose clock is ahead.
func RendezvousIDs(secret [KeySize]byte, now time.Time) [][KeySize]byte {
	t := now.Unix()
	day := dayStart(t)
	into := time.Duration(t-day) * time.Second
	ids := [][KeySize]byte{rendezvousID(secret, day)}
	if into < RendezvousOverlap+RendezvousSkew {
		ids = append(ids, rendezvousID(secret, day-periodSeconds))
	}
	if into >= RendezvousPeriod-RendezvousSkew {
		ids = append(ids, rendezvousID(secret, day+periodSeconds))
	}
	return ids
}
