package session

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"testing"
)

var writeSeeds = flag.Bool("write-fuzz-seeds", false, "regenerate testdata/fuzz seed corpora")

// sampleRecords is one valid record of every type (plus edge cases).
func sampleRecords() []record {
	id := ID{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16}
	return []record{
		{typ: typeHello, version: Version, id: id, window: 1 << 20},
		{typ: typeHello, version: Version, flags: helloResume, id: id, next: 1234, window: 65536},
		{typ: typeWelcome, version: Version, id: id, next: 77, window: 1 << 20},
		{typ: typeAck, next: 1<<64 - 1},
		{typ: typeWindow, chanID: 3, limit: 1 << 40},
		{typ: typePing, nonce: 9},
		{typ: typePong, nonce: 9},
		{typ: typeClose, code: CloseProtocol, reason: "bad things"},
		{typ: typeClose, code: CloseNormal},
		{typ: typeOpen, seq: 1, chanID: 1, name: "chat"},
		{typ: typeOpen, seq: 2, chanID: 2, name: string(bytes.Repeat([]byte("é"), 127))},
		{typ: typeData, seq: 3, chanID: 1, flags: dataEnd, payload: []byte("hello")},
		{typ: typeData, seq: 4, chanID: 1, payload: []byte{}},
		{typ: typeData, seq: 5, chanID: 1, payload: make([]byte, MaxPayload)},
		{typ: typeFin, seq: 6, chanID: 1},
		{typ: typeStop, seq: 7, chanID: 2},
	}
}

func TestRecordRoundTrip(t *testing.T) {
	for _, r := range sampleRecords() {
		b := appendRecord(nil, &r)
		if len(b) > MaxRecord {
			t.Fatalf("type 0x%02x: %d bytes > MaxRecord", r.typ, len(b))
		}
		got, err := decodeRecord(b)
		if err != nil {
			t.Fatalf("type 0x%02x: %v", r.typ, err)
		}
		if again := appendRecord(nil, &got); !bytes.Equal(again, b) {
			t.Fatalf("type 0x%02x: round trip changed the record", r.typ)
		}
	}
}

func TestDecodeRecordRejects(t *testing.T) {
	data := appendRecord(nil, &record{typ: typeData, seq: 1, chanID: 1, payload: []byte("x")})
	open := appendRecord(nil, &record{typ: typeOpen, seq: 1, chanID: 1, name: "n"})
	for name, b := range map[string][]byte{
		"empty":           {},
		"unknown type":    {0x30},
		"short hello":     appendRecord(nil, &sampleRecords()[0])[:30],
		"hello flags":     func() []byte { b := appendRecord(nil, &sampleRecords()[0]); b[2] = 2; return b }(),
		"welcome flags":   func() []byte { b := appendRecord(nil, &sampleRecords()[2]); b[2] = 1; return b }(),
		"long ack":        {0x10, 0, 0, 0, 0, 0, 0, 0, 0, 0},
		"close len":       {0x14, 0, 3, 'a'},
		"channel 0":       {0x22, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0},
		"data flags":      func() []byte { b := bytes.Clone(data); b[13] = 2; return b }(),
		"data short":      data[:13],
		"open empty name": {0x20, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 1, 0},
		"open bad utf8":   append(open[:13:13], 1, 0xff),
		"open len":        append(bytes.Clone(open), 'x'),
		"fin long":        {0x22, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 1, 0},
		"too long":        append([]byte{0x21}, make([]byte, MaxRecord)...),
		"payload too long": func() []byte {
			return append(bytes.Clone(data[:dataHdr]), make([]byte, MaxPayload+1)...)
		}(),
	} {
		_, err := decodeRecord(b)
		var re *RecordError
		if !errors.As(err, &re) || !errors.Is(err, ErrProtocol) {
			t.Errorf("%s: got %v, want a RecordError", name, err)
		}
	}
}

func seedRecords() [][]byte {
	var seeds [][]byte
	for _, r := range sampleRecords() {
		if r.typ == typeData && len(r.payload) > 100 {
			continue
		}
		seeds = append(seeds, appendRecord(nil, &r))
	}
	return append(seeds, []byte{}, []byte{0x21, 1}, []byte{0x14, 0, 5, 'a'})
}

func FuzzDecodeRecord(f *testing.F) {
	requireSeeds(f, "FuzzDecodeRecord")
	for _, s := range seedRecords() {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := decodeRecord(b)
		if err != nil {
			var re *RecordError
			if !errors.As(err, &re) || !errors.Is(err, ErrProtocol) {
				t.Fatalf("error %v is not a RecordError wrapping ErrProtocol", err)
			}
			return
		}
		if again := appendRecord(nil, &r); !bytes.Equal(again, b) {
			t.Fatalf("decode/encode changed the record:\n% x\n% x", b, again)
		}
		if r.typ.sequenced() && r.chanID == 0 {
			t.Fatal("sequenced record for channel 0 accepted")
		}
	})
}

// requireSeeds fails the fuzz target if its checked-in corpus is missing.
func requireSeeds(f *testing.F, name string) {
	f.Helper()
	files, err := filepath.Glob(filepath.Join("testdata", "fuzz", name, "*"))
	if err != nil || len(files) == 0 {
		f.Fatalf("no seed corpus in testdata/fuzz/%s", name)
	}
}

// TestWriteFuzzSeeds regenerates the seed corpus with -write-fuzz-seeds.
func TestWriteFuzzSeeds(t *testing.T) {
	if !*writeSeeds {
		t.Skip("run with -write-fuzz-seeds to regenerate")
	}
	dir := filepath.Join("testdata", "fuzz", "FuzzDecodeRecord")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for i, s := range seedRecords() {
		body := fmt.Sprintf("go test fuzz v1\n[]byte(%s)\n", strconv.Quote(string(s)))
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("seed%02d", i)), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
