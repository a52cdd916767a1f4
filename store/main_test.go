package store

import (
	"flag"
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

var updateSeeds = flag.Bool("update", false, "rewrite the seed corpora")
