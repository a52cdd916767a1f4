package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/spf13/cobra"

	"github.com/cairn-dev/cairn"
)

const (
	// chatChannel names the session channel that carries chat lines, one
	// message per line, in UTF-8.
	chatChannel = "cairn/chat/v1"
	// maxChatLine splits longer input lines into several messages.
	maxChatLine = 16 << 10
	// redialEvery is how often chat tries to reach a peer that is not there yet.
	redialEvery = 2 * time.Second
	// flushWait bounds how long chat waits for its last lines to be acknowledged.
	flushWait = 5 * time.Second
)

func (a *app) chatCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "chat PEER",
		Short: "Chat with a peer, line by line (Ctrl-D to leave)",
		Long: `Chat with a paired peer: each line you type is sent, each line the peer
sends is printed. Run 'cairn chat' on both devices (or 'cairn listen' on one);
whichever starts first waits for the other. Ctrl-D (end of input) leaves.`,
		Args: argsUsage(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmdContext(cmd)
			n, err := a.openNode(online)
			if err != nil {
				return err
			}
			defer n.Close()
			peer, err := n.ResolvePeer(args[0])
			if err != nil {
				return err
			}
			return a.chat(ctx, n, peer)
		},
	}
}

// chatRoom is one chat with one peer over every session the two have: each
// side opens a chat channel on each session, reads every channel the peer
// opens, and writes to one session at a time.
type chatRoom struct {
	a     *app
	peer  cairn.PeerID
	outMu sync.Mutex // serialises stdout

	mu       sync.Mutex
	sessions []*chatSession
}

type chatSession struct {
	s   *cairn.Session
	out *cairn.Channel
}

func (a *app) chat(ctx context.Context, n *cairn.Node, peer cairn.PeerID) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	room := &chatRoom{a: a, peer: peer}
	var wg sync.WaitGroup
	defer wg.Wait()
	defer cancel()

	arrived := make(chan *cairn.Session, 4)
	gone := make(chan *chatSession, 4)
	fatal := make(chan error, 1)
	connected := make(chan struct{})
	var connectedOnce sync.Once

	wg.Go(func() { // sessions the peer opens
		for {
			s, err := n.Accept(ctx)
			if err != nil {
				return
			}
			if s.Peer() != peer {
				s.Close()
				continue
			}
			select {
			case arrived <- s:
			case <-ctx.Done():
				s.Close()
				return
			}
		}
	})
	wg.Go(func() { // sessions we open, until a chat runs on one
		waiting := false
		for {
			s, err := n.Connect(ctx, peer)
			switch {
			case err == nil:
				select {
				case arrived <- s:
				case <-ctx.Done():
					s.Close()
					return
				}
				// Dial again later unless the chat starts on it (or on
				// one the peer opened): opening the chat can still fail.
			case errors.Is(err, cairn.ErrUnknownPeer):
				select {
				case fatal <- err:
				default:
				}
				return
			case !waiting:
				waiting = true
				a.status("Waiting for %s to come online...\n", peer.Short())
			}
			select {
			case <-connected:
				return
			case <-ctx.Done():
				return
			case <-time.After(redialEvery):
			}
		}
	})

	lines := make(chan string)
	go readLines(a.stdin, lines) // stdin cannot be interrupted; it ends with the process

	var current *chatSession
	for {
		var lineCh <-chan string = lines
		if current == nil {
			lineCh = nil // hold input until connected
		}
		select {
		case <-ctx.Done():
			room.closeAll()
			return timeoutOr(ctx, ctx.Err())
		case err := <-fatal:
			return err
		case s := <-arrived:
			cs, err := room.add(ctx, s, gone, &wg)
			if err != nil {
				a.log.Info("chat session failed", "err", err)
				continue
			}
			connectedOnce.Do(func() {
				close(connected)
				if a.jsonOut {
					room.emit(map[string]any{"event": "connected", "peer": peer.String(), "name": s.PeerName()})
				} else {
					a.status("Connected to %s. Type a message and press Enter; Ctrl-D leaves.\n", peerLabel(peer, s.PeerName()))
				}
			})
			if current == nil {
				current = cs
			}
		case cs := <-gone:
			if room.remove(cs) == 0 {
				if a.jsonOut {
					room.emit(map[string]any{"event": "left", "peer": peer.String()})
				} else {
					a.status("%s left the chat.\n", peer.Short())
				}
				return nil
			}
			if current == cs {
				current = room.first()
			}
		case l, ok := <-lineCh:
			if !ok {
				room.leave(ctx)
				return nil
			}
			if l == "" {
				continue
			}
			for current != nil {
				if err := current.out.Send(ctx, []byte(l)); err == nil {
					break
				}
				room.remove(current)
				current = room.first()
			}
		}
	}
}

// add starts reading the peer's chat channels on s and opens ours.
func (r *chatRoom) add(ctx context.Context, s *cairn.Session, gone chan<- *chatSession, wg *sync.WaitGroup) (*chatSession, error) {
	out, err := s.OpenChannel(ctx, chatChannel)
	if err != nil {
		s.Close()
		return nil, err
	}
	cs := &chatSession{s: s, out: out}
	r.mu.Lock()
	r.sessions = append(r.sessions, cs)
	r.mu.Unlock()
	wg.Go(func() {
		defer func() {
			select {
			case gone <- cs:
			case <-ctx.Done():
			}
		}()
		var readers sync.WaitGroup
		defer readers.Wait()
		for {
			ch, err := s.AcceptChannel(ctx)
			if err != nil {
				return
			}
			if ch.Name() != chatChannel {
				ch.Close()
				continue
			}
			readers.Go(func() { r.printLines(ctx, s, ch) })
		}
	})
	return cs, nil
}

func (r *chatRoom) printLines(ctx context.Context, s *cairn.Session, ch *cairn.Channel) {
	printChat(ctx, r.a, &r.outMu, s, ch)
}

// printChat prints the lines a peer sends on ch until it ends, holding mu
// around each write to stdout.
func printChat(ctx context.Context, a *app, mu *sync.Mutex, s *cairn.Session, ch *cairn.Channel) {
	who := sanitizeName(s.PeerName())
	if who == "" {
		who = s.Peer().Short()
	}
	for {
		m, err := ch.Receive(ctx)
		if err != nil {
			return
		}
		text := sanitizeText(string(m))
		mu.Lock()
		if a.jsonOut {
			_ = a.emit(map[string]any{"event": "message", "peer": s.Peer().String(), "name": s.PeerName(), "text": text})
		} else {
			fmt.Fprintf(a.stdout, "%s: %s\n", who, text)
		}
		mu.Unlock()
	}
}

func (r *chatRoom) emit(v any) {
	r.outMu.Lock()
	defer r.outMu.Unlock()
	_ = r.a.emit(v)
}

func (r *chatRoom) remove(cs *chatSession) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	for i, x := range r.sessions {
		if x == cs {
			r.sessions = append(r.sessions[:i], r.sessions[i+1:]...)
			break
		}
	}
	cs.s.Close()
	return len(r.sessions)
}

func (r *chatRoom) first() *chatSession {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.sessions) == 0 {
		return nil
	}
	return r.sessions[0]
}

// leave ends our side: the peer reads the end of our lines, then we hang up.
func (r *chatRoom) leave(ctx context.Context) {
	r.mu.Lock()
	all := append([]*chatSession(nil), r.sessions...)
	r.mu.Unlock()
	fctx, cancel := context.WithTimeout(ctx, flushWait)
	defer cancel()
	for _, cs := range all {
		_ = cs.out.CloseWrite()
		_ = cs.s.Flush(fctx)
	}
	r.closeAll()
}

func (r *chatRoom) closeAll() {
	r.mu.Lock()
	all := append([]*chatSession(nil), r.sessions...)
	r.sessions = nil
	r.mu.Unlock()
	for _, cs := range all {
		cs.s.Close()
	}
}

// readLines sends each line of in (split at maxChatLine) to lines, and
// closes lines at the end of input.
func readLines(in io.Reader, lines chan<- string) {
	defer close(lines)
	br := bufio.NewReaderSize(in, maxChatLine)
	for {
		line, isPrefix, err := br.ReadLine()
		if len(line) > 0 || (err == nil && !isPrefix) {
			lines <- string(line)
		}
		if err != nil {
			return
		}
	}
}
