package session

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"testing"
)

// sampleStates are valid saved states covering every field and flag.
func sampleStates() []*savedState {
	id := ID{16, 15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1}
	data := func(seq uint64, ch uint32, p string, end bool) []byte {
		r := record{typ: typeData, seq: seq, chanID: ch, payload: []byte(p)}
		if end {
			r.flags = dataEnd
		}
		return appendRecord(nil, &r)
	}
	w := uint64(DefaultRecvBuffer)
	return []*savedState{
		{role: Dialer, id: id, peerWindow: 1 << 20, window: 1 << 20, nextChanID: 1},
		{role: Acceptor, id: id, peerWindow: 4096, window: 1 << 22, recvNext: 9, outBase: 1 << 40, nextChanID: 2, lastPeerID: 7},
		{
			role: Dialer, id: id, peerWindow: 1 << 20, window: 4096, recvNext: 12, outBase: 3, nextChanID: 7, lastPeerID: 6,
			out: [][]byte{
				appendRecord(nil, &record{typ: typeOpen, seq: 3, chanID: 5, name: "late"}),
				data(4, 5, "hel", false),
				data(5, 5, "lo", true),
				appendRecord(nil, &record{typ: typeFin, seq: 6, chanID: 3}),
				appendRecord(nil, &record{typ: typeStop, seq: 7, chanID: 4}),
			},
			chans: []savedChannel{
				{id: 1, name: "chat", sent: 500, limit: w, received: 266, consumed: DataCost + 2, advertised: w,
					flags: stInMessage, partial: []byte("ab"),
					q: []chunk{{b: []byte("cde"), end: true}, {b: []byte{}, end: true}, {b: []byte("fghij")}}},
				{id: 2, name: "файл", sent: 0, limit: w, received: 0, consumed: 0, advertised: w + w/2, flags: stPending},
				{id: 3, name: "done", sent: 64, limit: w, flags: stSendClosed | stFinSent | stRecvFin, advertised: w},
				{id: 4, name: "gone", flags: stClosed | stSendClosed | stFinSent, received: 9000, consumed: 100, advertised: w},
				{id: 5, name: "late", sent: 2*DataCost + 5, limit: w, advertised: w, flags: stStopped | stFinSent},
				{id: 6, name: "refused", flags: stClosed | stRefused | stSendClosed | stFinSent, advertised: w, limit: 4096},
			},
		},
		{role: Acceptor, id: id, peerWindow: 1 << 30, window: 1 << 30, nextChanID: 4, lastPeerID: 1, chans: []savedChannel{
			{id: 1, name: "skip", flags: stDiscard, limit: 1, advertised: 1 << 30, received: DataCost + 1, consumed: 0,
				q: []chunk{{b: []byte("z"), end: true}}},
		}},
	}
}

func TestStateRoundTrip(t *testing.T) {
	for i, st := range sampleStates() {
		b := appendState(nil, st)
		got, err := decodeState(b)
		if err != nil {
			t.Fatalf("state %d: %v", i, err)
		}
		if again := appendState(nil, got); !bytes.Equal(again, b) {
			t.Fatalf("state %d: round trip changed it", i)
		}
		s, err := Restore(b, Config{})
		if err != nil {
			t.Fatalf("state %d: Restore: %v", i, err)
		}
		s.Close()
	}
}

func TestDecodeStateRejects(t *testing.T) {
	good := sampleStates()[2]
	mutate := func(f func(st *savedState)) []byte {
		st := sampleStates()[2]
		f(st)
		return appendState(nil, st)
	}
	for name, b := range map[string][]byte{
		"magic":        append([]byte("csex"), appendState(nil, good)[4:]...),
		"version":      func() []byte { b := appendState(nil, good); b[4] = 1; return b }(),
		"role":         mutate(func(st *savedState) { st.role = 3 }),
		"window":       mutate(func(st *savedState) { st.peerWindow = 1 }),
		"own window":   mutate(func(st *savedState) { st.window = 1 << 31 }),
		"next parity":  mutate(func(st *savedState) { st.nextChanID = 8 }),
		"peer parity":  mutate(func(st *savedState) { st.lastPeerID = 7 }),
		"seq":          mutate(func(st *savedState) { st.outBase = 2 }),
		"unsequenced":  mutate(func(st *savedState) { st.out[0] = appendRecord(nil, &record{typ: typeAck}) }),
		"order":        mutate(func(st *savedState) { st.chans[0], st.chans[1] = st.chans[1], st.chans[0] }),
		"own too high": mutate(func(st *savedState) { st.nextChanID = 5 }),
		"peer high":    mutate(func(st *savedState) { st.lastPeerID = 4 }),
		"flags":        mutate(func(st *savedState) { st.chans[0].flags |= 1 << 12 }),
		"name":         mutate(func(st *savedState) { st.chans[0].name = "\xff" }),
		"counters":     mutate(func(st *savedState) { st.chans[0].received++ }),
		"credit":       mutate(func(st *savedState) { st.chans[0].sent = st.chans[0].limit + 1 }),
		"closed data":  mutate(func(st *savedState) { st.chans[3].q = []chunk{{b: []byte("x")}} }),
		"no fin":       mutate(func(st *savedState) { st.chans[2].flags &^= stFinSent }),
		"partial":      mutate(func(st *savedState) { st.chans[0].flags &^= stInMessage }),
		"chunk flag":   func() []byte { b := appendState(nil, sampleStates()[3]); b[len(b)-6] = 2; return b }(),
		"trailing":     append(appendState(nil, good), 0),
		"huge count":   append(appendState(nil, sampleStates()[0])[:stateHdrLen], 0xff, 0xff, 0xff, 0xff),
	} {
		_, err := decodeState(b)
		var se *StateError
		if !errors.As(err, &se) || !errors.Is(err, ErrBadState) {
			t.Errorf("%s: got %v, want a StateError", name, err)
		}
	}
}

func FuzzDecodeState(f *testing.F) {
	requireSeeds(f, "FuzzDecodeState")
	for _, st := range sampleStates() {
		f.Add(appendState(nil, st))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		st, err := decodeState(b)
		if err != nil {
			var se *StateError
			if !errors.As(err, &se) || !errors.Is(err, ErrBadState) {
				t.Fatalf("error %v is not a StateError wrapping ErrBadState", err)
			}
			return
		}
		if again := appendState(nil, st); !bytes.Equal(again, b) {
			t.Fatalf("decode/encode changed the state:\n% x\n% x", b, again)
		}
		s, err := Restore(b, Config{})
		if err != nil {
			t.Fatalf("Restore of a state that decodes: %v", err)
		}
		s.Close()
	})
}

// TestWriteStateFuzzSeeds regenerates the FuzzDecodeState corpus with
// -write-fuzz-seeds.
func TestWriteStateFuzzSeeds(t *testing.T) {
	if !*writeSeeds {
		t.Skip("run with -write-fuzz-seeds to regenerate")
	}
	dir := filepath.Join("testdata", "fuzz", "FuzzDecodeState")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	seeds := [][]byte{nil, []byte(stateMagic + "\x02")}
	for _, st := range sampleStates() {
		seeds = append(seeds, appendState(nil, st))
	}
	for i, s := range seeds {
		body := fmt.Sprintf("go test fuzz v1\n[]byte(%s)\n", strconv.Quote(string(s)))
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("seed%02d", i)), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
