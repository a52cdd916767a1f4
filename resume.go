package cairn

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/cairn-dev/cairn/identity"
	"github.com/cairn-dev/cairn/internal/session"
	"github.com/cairn-dev/cairn/internal/wire"
	"github.com/cairn-dev/cairn/store"
)

// Session persistence (WithSessionPersistence): on Close every live session
// is suspended and stored as a state blob; New restores them.
const (
	// sessionIndexState lists the names of the saved session states, one a
	// line (the store has no directory listing).
	sessionIndexState = "sessions"
	// sessionStatePrefix starts the name of every saved session state:
	// session-<d|a>-<peer id>-<session id hex>.
	sessionStatePrefix = "session-"
	// savedSessionVersion is the first byte of a saved session blob.
	savedSessionVersion = 1
	// suspendTimeout bounds how long Close lets Sends in progress finish
	// their message before it suspends a session.
	suspendTimeout = 5 * time.Second
	// maxSavedAddrs and maxSavedAddrLen bound the direct addresses kept
	// with a dialer's session.
	maxSavedAddrs   = 16
	maxSavedAddrLen = 255
)

// errBadSavedSession: a saved session blob does not decode.
var errBadSavedSession = errors.New("bad saved session")

// Restored reports whether the session was saved when this node last closed
// and restored when it started again (see WithSessionPersistence). Its
// channels come back from AcceptChannel, also the ones this side opened.
func (s *Session) Restored() bool { return s.s.Restored() }

// stateName names a session's saved state by role, peer and session id.
// None of them is secret.
func stateName(role session.Role, peer PeerID, id session.ID) string {
	r := "d"
	if role == session.Acceptor {
		r = "a"
	}
	return sessionStatePrefix + r + "-" + peer.String() + "-" + hex.EncodeToString(id[:])
}

// encodeSavedSession wraps a suspended session's state:
//
//	version u8 · peer [34] · n_addrs u8 · (len u8 · addr)* · session state
func encodeSavedSession(peer PeerID, addrs []string, state []byte) []byte {
	if len(addrs) > maxSavedAddrs {
		addrs = addrs[:maxSavedAddrs]
	}
	b := []byte{savedSessionVersion}
	b = append(b, peer.Bytes()...)
	var keep []string
	for _, a := range addrs {
		if len(a) > 0 && len(a) <= maxSavedAddrLen {
			keep = append(keep, a)
		}
	}
	b = append(b, byte(len(keep)))
	for _, a := range keep {
		b = append(b, byte(len(a)))
		b = append(b, a...)
	}
	return append(b, state...)
}

func decodeSavedSession(b []byte) (peer PeerID, addrs []string, state []byte, err error) {
	bad := func(reason string) error { return fmt.Errorf("%w: %s", errBadSavedSession, reason) }
	if len(b) < 1+identity.PeerIDSize+1 || b[0] != savedSessionVersion {
		return peer, nil, nil, bad("unknown version or truncated")
	}
	peer, err = identity.PeerIDFromBytes(b[1 : 1+identity.PeerIDSize])
	if err != nil {
		return peer, nil, nil, bad(err.Error())
	}
	b = b[1+identity.PeerIDSize:]
	n := int(b[0])
	b = b[1:]
	if n > maxSavedAddrs {
		return peer, nil, nil, bad("too many addresses")
	}
	for range n {
		if len(b) < 1 || b[0] == 0 || len(b) < 1+int(b[0]) {
			return peer, nil, nil, bad("truncated address")
		}
		addrs = append(addrs, string(b[1:1+int(b[0])]))
		b = b[1+int(b[0]):]
	}
	return peer, addrs, b, nil
}

// closeSessions ends every session as Close does: suspended and stored with
// persistence on, else closed.
func (n *Node) closeSessions() {
	if !n.cfg.persistSessions {
		n.sessions.closeAll()
		return
	}
	all := n.sessions.refuseNew()
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		names []string
	)
	for _, s := range all {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if name := n.saveSession(s); name != "" {
				mu.Lock()
				names = append(names, name)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	n.sessions.closeAll() // drains the accept queue; suspended sessions are ended already
	var err error
	if len(names) > 0 {
		err = n.store.PutState(sessionIndexState, []byte(strings.Join(names, "\n")))
	} else {
		err = n.store.DeleteState(sessionIndexState)
	}
	if err != nil {
		n.log.Warn("failed to store the session index; saved sessions are lost", "err", err)
	}
}

// saveSession suspends s and stores its state; it returns the state's name,
// or "" if s had ended or could not be stored (then it is closed).
func (n *Node) saveSession(s *Session) string {
	ctx, cancel := context.WithTimeout(context.Background(), suspendTimeout)
	defer cancel()
	state, err := s.s.Suspend(ctx)
	if err != nil {
		s.s.Close()
		return ""
	}
	_, role, err := session.StateInfo(state)
	if err == nil {
		name := stateName(role, s.peer, s.s.ID())
		err = n.store.PutState(name, encodeSavedSession(s.peer, s.addrs, state))
		clear(state)
		if err == nil {
			n.log.Info("session saved", "peer", s.peer.Short(), "role", role.String())
			return name
		}
	}
	// The peer sees a drop and fails the session after its resume timeout.
	n.log.Warn("failed to save a session; it is lost", "peer", s.peer.Short(), "err", err)
	return ""
}

// restoreSessions restores the sessions saved by the last Close, before the
// node accepts connections, and deletes their states. A session with a peer
// no longer paired, or whose state does not decode, is dropped.
func (n *Node) restoreSessions() {
	index, err := n.store.State(sessionIndexState)
	if errors.Is(err, store.ErrNoState) {
		return
	}
	if err != nil {
		n.log.Warn("failed to read the session index; saved sessions are lost", "err", err)
		_ = n.store.DeleteState(sessionIndexState)
		return
	}
	for _, name := range strings.Split(string(index), "\n") {
		if !strings.HasPrefix(name, sessionStatePrefix) {
			continue
		}
		if err := n.restoreSession(name); err != nil {
			n.log.Warn("dropped a saved session", "err", err)
		}
		if err := n.store.DeleteState(name); err != nil {
			n.log.Warn("failed to delete a saved session", "err", err)
		}
	}
	if err := n.store.DeleteState(sessionIndexState); err != nil {
		n.log.Warn("failed to delete the session index", "err", err)
	}
}

func (n *Node) restoreSession(name string) error {
	blob, err := n.store.State(name)
	if err != nil {
		return err
	}
	defer clear(blob)
	peerID, addrs, state, err := decodeSavedSession(blob)
	if err != nil {
		return err
	}
	id, role, err := session.StateInfo(state)
	if err != nil {
		return err
	}
	if stateName(role, peerID, id) != name {
		return fmt.Errorf("%w: stored as %s", errBadSavedSession, name)
	}
	p, err := n.peer(peerID)
	if err != nil {
		return err // unpaired since: the state goes
	}
	var redial func(context.Context) (session.Transport, error)
	if role == session.Dialer {
		redial = func(ctx context.Context) (session.Transport, error) {
			link, path, err := n.dialPeer(ctx, p, wire.PurposeSession, addrs)
			if err == nil {
				n.log.Debug("session path re-established", "peer", p.ID.Short(), "path", path)
			}
			return link, err
		}
	}
	inner, err := session.Restore(state, n.sessionConfig(role, redial))
	if err != nil {
		return err
	}
	s := &Session{n: n, peer: p.ID, name: p.Name, s: inner, addrs: addrs}
	var key *sessionKey
	if role == session.Acceptor {
		key = &sessionKey{peer: p.ID, id: id}
	}
	if !n.sessions.add(s, key) {
		inner.Close()
		return ErrClosed
	}
	n.sessions.mu.Lock()
	n.sessions.restored = append(n.sessions.restored, s)
	n.sessions.mu.Unlock()
	n.log.Info("session restored", "peer", p.ID.Short(), "role", role.String())
	if !n.goRun(func() { n.watchSession(s) }) {
		inner.Close()
		return ErrClosed
	}
	return nil
}

// popRestored returns the next restored session Accept has not returned
// yet, or nil.
func (t *sessionTable) popRestored() *Session {
	t.mu.Lock()
	defer t.mu.Unlock()
	if len(t.restored) == 0 {
		return nil
	}
	s := t.restored[0]
	t.restored[0] = nil
	t.restored = t.restored[1:]
	return s
}
