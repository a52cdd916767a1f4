package discovery_test

import (
	"context"
	"fmt"
	"log"
	"time"

	"github.com/cairn-dev/cairn/discovery"
)

// An initiator advertises its pairing slot; the responder browses for it.
// (No Output comment: examples are not run, because running this would
// multicast on the host's network.)
func Example() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	instance, err := discovery.NewInstanceName(nil)
	if err != nil {
		log.Fatal(err)
	}
	adv, err := discovery.Advertise(ctx, discovery.Service{
		Type:     discovery.PairServiceType,
		Instance: instance,
		Port:     7345,
		Text:     map[string]string{"s": "K7Q"},
	}, discovery.Options{})
	if err != nil {
		log.Fatal(err)
	}
	defer adv.Close()

	err = discovery.Browse(ctx, discovery.PairServiceType, discovery.Options{}, func(e discovery.Entry) bool {
		if e.Text["s"] != "K7Q" {
			return true // someone else's pairing: keep looking
		}
		fmt.Println("dial", e.Addrs)
		return false
	})
	if err != nil {
		log.Fatal(err)
	}
}
