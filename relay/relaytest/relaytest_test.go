package relaytest_test

import (
	"context"
	"io"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/cairn-dev/cairn/relay"
	"github.com/cairn-dev/cairn/relay/relaytest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestStartAndRecord(t *testing.T) {
	var rec relaytest.Recorder
	url, srv := relaytest.Start(t, relay.Config{Tap: rec.Tap})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	h, err := relay.Host(ctx, url, "rec")
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	j, err := relay.Join(ctx, url, "rec")
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	if _, err := j.Write([]byte("not a secret")); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 12)
	if _, err := io.ReadFull(h, buf); err != nil {
		t.Fatal(err)
	}
	if string(rec.Bytes()) != "not a secret" || !rec.Contains([]byte("a secret")) ||
		string(rec.Stream("rec", false)) != "not a secret" || rec.Stream("rec", true) != nil {
		t.Fatalf("recorded %q", rec.Bytes())
	}
	if srv.Stats().PairsTotal != 1 {
		t.Fatalf("stats %+v", srv.Stats())
	}
}
