package cairn

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net"
	"sort"
	"strconv"
	"sync"
	"time"

	"github.com/cairn-dev/cairn/discovery"
	"github.com/cairn-dev/cairn/internal/frame"
	"github.com/cairn-dev/cairn/internal/pairing"
)

const (
	// sessionSlotPrefix names session slots at the relay.
	sessionSlotPrefix = "s-"
	// tagLabel separates session tags from every other use of the
	// rendezvous id.
	tagLabel = "cairn-session-slot"
	// tagLen is the length of a session tag in hex; lanTagLen of its prefix
	// in mDNS adverts, which must stay short to fit one packet.
	tagLen    = 32
	lanTagLen = 16
	// maxLANTags bounds the tags in one mDNS advert (about 20 bytes each).
	maxLANTags = 48
	// refreshEvery re-derives tags, so day rotation takes effect.
	refreshEvery = 10 * time.Minute
)

// peerTags returns the session tags under which acceptor can be reached by
// the other holder of secret at now, current day first. The tag is unique
// to the pair and the direction, and rotates with the rendezvous id, so
// neither the relay nor a LAN observer learns a stable identifier.
func peerTags(secret [32]byte, acceptor PeerID, now time.Time) []string {
	ids := pairing.RendezvousIDs(secret, now)
	tags := make([]string, len(ids))
	for i, rid := range ids {
		h := sha256.New()
		h.Write([]byte(tagLabel))
		h.Write(rid[:])
		h.Write(acceptor.Bytes())
		tags[i] = hex.EncodeToString(h.Sum(nil))[:tagLen]
	}
	return tags
}

// matchTag returns the tag whose LAN prefix the TXT record advertises.
func matchTag(txt map[string]string, tags []string) string {
	for _, v := range txt {
		for _, t := range tags {
			if v == t[:lanTagLen] {
				return t
			}
		}
	}
	return ""
}

// taggedConn remembers which tag a connection was found under, for the Hello.
type taggedConn struct {
	net.Conn
	tag string
}

// sessionJoinWindow bounds how long a dialer retries relay slots nobody
// hosts: a running peer re-hosts within milliseconds of each join, so a
// longer wait only delays telling the user the peer is offline.
const sessionJoinWindow = 1500 * time.Millisecond

// joinTags joins the first of the peer's relay slots that is hosted.
func joinTags(ctx context.Context, relayURL string, tags []string) (*taggedConn, error) {
	slots := make([]string, len(tags))
	for i, t := range tags {
		slots[i] = sessionSlotPrefix + t
	}
	conn, i, err := joinFirst(ctx, relayURL, slots, sessionJoinWindow)
	if err != nil {
		return nil, err
	}
	return &taggedConn{Conn: conn, tag: tags[i]}, nil
}

// acceptorSet is how paired peers reach this node: the tags it answers to,
// the relay slots it hosts and its mDNS advert.
type acceptorSet struct {
	mu     sync.Mutex
	byTag  map[string]PeerID
	hosted map[string]context.CancelFunc // relay slot -> stops its host loop
	lanKey string                        // the advertised tags, to skip no-op refreshes
	adv    *discovery.Advertisement
}

func (a *acceptorSet) peerOf(tag string) (PeerID, bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	id, ok := a.byTag[tag]
	return id, ok
}

// startAcceptors makes the node reachable by its paired peers and keeps
// that up to date as days turn.
func (n *Node) startAcceptors() {
	n.refreshAcceptors()
	n.goRun(func() {
		t := time.NewTicker(refreshEvery)
		defer t.Stop()
		for {
			select {
			case <-t.C:
				n.refreshAcceptors()
			case <-n.ctx.Done():
				n.acceptors.mu.Lock()
				defer n.acceptors.mu.Unlock()
				if n.acceptors.adv != nil {
					n.acceptors.adv.Close()
					n.acceptors.adv = nil
				}
				return
			}
		}
	})
}

// refreshAcceptors re-derives the tags from the trust store and adjusts the
// relay slots and the mDNS advert to match.
func (n *Node) refreshAcceptors() {
	if n.ctx.Err() != nil {
		return
	}
	peers, err := n.store.Peers()
	if err != nil {
		n.log.Warn("failed to read the trust store", "err", err)
		return
	}
	now := time.Now()
	byTag := make(map[string]PeerID)
	current := make(map[string]bool) // today's tags: hosted at the relay
	var lan []string
	for _, p := range peers {
		for i, t := range peerTags(p.PairingSecret, n.PeerID(), now) {
			byTag[t] = p.ID
			if i == 0 {
				current[t] = true
			}
			lan = append(lan, t[:lanTagLen])
		}
	}
	sort.Strings(lan)
	if len(lan) > maxLANTags {
		n.log.Warn("too many peers to advertise on the LAN; some are reachable by relay only", "peers", len(peers))
		lan = lan[:maxLANTags]
	}

	a := &n.acceptors
	a.mu.Lock()
	defer a.mu.Unlock()
	a.byTag = byTag
	if n.cfg.relayURL != "" {
		for slot, stop := range a.hosted {
			if !current[slot] {
				stop()
				delete(a.hosted, slot)
			}
		}
		for tag := range current {
			if _, ok := a.hosted[tag]; ok {
				continue
			}
			ctx, stop := context.WithCancel(n.ctx)
			a.hosted[tag] = stop
			if !n.goRun(func() {
				n.hostLoop(ctx, sessionSlotPrefix+tag, nil, func(conn net.Conn, r *frame.Reader, typ frame.Type, body []byte) {
					n.servePending(conn, func() { n.route(conn, r, typ, body, "relay") })
				})
			}) {
				stop()
			}
		}
	}
	if n.cfg.mdns {
		key := fmt.Sprint(lan)
		if key == a.lanKey && (a.adv != nil || len(lan) == 0) {
			return
		}
		if a.adv != nil {
			a.adv.Close()
			a.adv = nil
		}
		a.lanKey = key
		if len(lan) == 0 || n.ctx.Err() != nil {
			return
		}
		txt := make(map[string]string, len(lan))
		for i, t := range lan {
			txt["r"+strconv.Itoa(i)] = t
		}
		instance, err := discovery.NewInstanceName(n.cfg.rand)
		if err == nil {
			a.adv, err = discovery.Advertise(n.ctx, discovery.Service{
				Type:     sessionService,
				Instance: instance,
				Port:     n.ln.Addr().(*net.TCPAddr).Port,
				Text:     txt,
			}, n.mdnsOptions())
		}
		if err != nil {
			a.lanKey = ""
			n.log.Warn("LAN advertising failed; peers can reach this node by relay only", "err", err)
		}
	}
}
