package pairing

import (
	"bytes"
	"encoding/binary"
	"testing"
	"time"
)

func TestRendezvousID(t *testing.T) {
	t.Parallel()
	var s [32]byte
	s[0] = 7
	day := time.Date(2025, 3, 14, 0, 0, 0, 0, time.UTC)
	salt := binary.BigEndian.AppendUint64(nil, uint64(day.Unix()))
	want := refHKDF(s[:], salt, "cairn-rendezvous-id-v1", 32)
	for _, at := range []time.Time{day, day.Add(12 * time.Hour), day.Add(24*time.Hour - time.Nanosecond),
		day.Add(5 * time.Hour).In(time.FixedZone("UTC+14", 14*3600))} {
		if got := RendezvousID(s, at); !bytes.Equal(got[:], want) {
			t.Errorf("RendezvousID at %v = %x, want %x", at, got, want)
		}
	}
	if RendezvousID(s, day.Add(24*time.Hour)) == RendezvousID(s, day) {
		t.Error("next day has the same id")
	}
	var other [32]byte
	if RendezvousID(other, day) == RendezvousID(s, day) {
		t.Error("different secrets have the same id")
	}
	// Before 1970 the day still rounds down.
	if dayStart(-1) != -86400 || dayStart(-86400) != -86400 || dayStart(0) != 0 || dayStart(86399) != 0 {
		t.Error("dayStart does not floor")
	}
}

func TestRendezvousIDs(t *testing.T) {
	t.Parallel()
	var s [32]byte
	s[5] = 1
	day := time.Date(2025, 3, 14, 0, 0, 0, 0, time.UTC)
	prev, cur, next := RendezvousID(s, day.Add(-time.Hour)), RendezvousID(s, day), RendezvousID(s, day.Add(25*time.Hour))
	for _, tc := range []struct {
		name string
		at   time.Duration // after the start of day
		want [][32]byte
	}{
		{"midnight", 0, [][32]byte{cur, prev}},
		{"first hour", 30 * time.Minute, [][32]byte{cur, prev}},
		{"one hour", time.Hour, [][32]byte{cur, prev}},
		{"hour plus skew minus 1s", time.Hour + 5*time.Minute - time.Second, [][32]byte{cur, prev}},
		{"hour plus skew", time.Hour + 5*time.Minute, [][32]byte{cur}},
		{"midday", 12 * time.Hour, [][32]byte{cur}},
		{"before end skew", 24*time.Hour - 5*time.Minute - time.Second, [][32]byte{cur}},
		{"end skew", 24*time.Hour - 5*time.Minute, [][32]byte{cur, next}},
		{"last second", 24*time.Hour - time.Second, [][32]byte{cur, next}},
	} {
		got := RendezvousIDs(s, day.Add(tc.at))
		if len(got) != len(tc.want) {
			t.Errorf("%s: %d ids, want %d", tc.name, len(got), len(tc.want))
			continue
		}
		for i := range got {
			if got[i] != tc.want[i] {
				t.Errorf("%s: id %d differs", tc.name, i)
			}
		}
	}
}
