// Package session multiplexes named channels over one secure record
// transport between two paired cairn nodes, with exactly-once, in-order
// delivery that survives reconnects.
//
// # Layers
//
// Below the session is a Transport: one authenticated, encrypted connection
// (Noise XX, then the Double Ratchet) that carries records of at most
// MaxRecord bytes. The session numbers every data-bearing record, keeps it
// until the peer acknowledges it, and after a reconnect retransmits exactly
// what the peer reports missing. The wire format is specified in
// docs/PROTOCOL.md (section "Session layer").
//
// # Starting and resuming
//
// The dialer calls New with Role Dialer and a Redial function. The acceptor's
// accept loop reads the first record of each new transport with ReadHello and
// routes it: a new session goes to Accept, a resume to the matching
// Session's Attach, an unknown one to Reject. See Hello for the routing
// code. After a drop, the dialer redials with exponential backoff and the
// acceptor waits; both give up after Config.ResumeTimeout and fail the
// session with ErrSessionFailed.
//
// # Suspending across a restart
//
// Suspend ends a session without telling the peer and returns its state: the
// sequence counters, the records the peer has not acknowledged and every
// channel with its credit and unread data, in a versioned binary encoding
// (docs/PROTOCOL.md, "Suspend and restore"). Restore rebuilds the session from
// it, in another process, as if its transport had just dropped: the dialer
// redials, the acceptor waits for Attach, and the peer, which only saw a
// drop, resumes it as usual if that happens within its ResumeTimeout. The
// restored session hands every open channel to AcceptChannel again.
//
// # Channels
//
// OpenChannel and AcceptChannel give Channels: use Send/Receive for
// messages (at most MaxMessage bytes each, split into records and
// reassembled), or Read/Write as an io.ReadWriteCloser for streams. Each
// channel has its own flow-control credit (Config.RecvBuffer), so a channel
// nobody reads stalls only its own sender; the session's send window
// (Config.SendWindow) bounds the unacknowledged bytes in total.
//
// # Guarantees
//
// Every message accepted by Send (every byte accepted by Write) is delivered
// exactly once and in order, or the session fails and calls return an error
// wrapping ErrSessionFailed. A Transport's Close does not lose data; only the
// end of the session does.
package session
