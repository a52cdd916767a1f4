// Package cairn pairs two devices and lets them talk privately, peer to peer.
//
// One device shows a PIN, a QR code or a link; the other types, scans or
// opens it. SPAKE2 turns that short secret into a strong key without
// revealing it, a Noise XX handshake keyed by it exchanges the devices'
// Ed25519 identities, and from then on every message is encrypted with the
// Double Ratchet.
//
// # Starting a node
//
// A [Node] owns an identity (created on first use in its data directory) and
// a trust store of paired peers:
//
//	node, err := cairn.New(cairn.WithDataDir(dir), cairn.WithRelay("https://relay.example"))
//	defer node.Close()
//
// Peers on the same LAN find each other by mDNS. Peers on different networks
// meet at a relay ([WithRelay]; run one with `cairn relay` or package relay),
// which only ever sees ciphertext.
//
// # Pairing
//
// The device that shows the secret calls one of [Node.PairGeneratePin],
// [Node.PairGenerateQR] or [Node.PairGenerateLink], shows what it returns,
// then waits with [Pairing.Wait]. The other device calls
// [Node.PairEnterPin], [Node.PairScanQR] or [Node.PairFromLink]. Both end up
// with the other's PeerID in their trust stores.
//
// A PIN ("A1B2-C3D4") holds 40 bits: the first 3 symbols name a public
// meeting slot, the other 25 bits are only ever a SPAKE2 input, and the
// showing device invalidates the PIN after [MaxPairingFailures] wrong
// guesses. QR codes and links carry a 128-bit secret. Pairing material
// expires after [DefaultPairingTTL]. A wrong secret fails on both sides with
// [ErrWrongSecret].
//
// # Sessions
//
// Paired peers connect with [Node.Connect] and accept with [Node.Accept]. A
// [Session] carries named channels; a [Channel] is an io.ReadWriteCloser with
// message-oriented Send and Receive besides. Sessions reconnect by themselves
// when the network changes and resume without losing or repeating data.
//
// A peer is found on the LAN by mDNS and at the relay under a tag derived
// from the pair's secret that changes every day, so neither a LAN observer
// nor the relay learns who is who. Both paths are tried at once, the direct
// one with a head start. Where multicast does not work and there is no relay,
// [Node.ConnectAddr] dials known addresses. The handshake pins the peer's
// identity key from the trust store: another key under the same PeerID is
// refused.
//
// # Managing peers and events
//
// [Node.Peers] lists the trust store, [Node.Rename] sets a local name,
// [Node.ResolvePeer] accepts a PeerID, a unique prefix of it or a name, and
// [Node.Unpair] removes a peer on both sides (the peer gets [EventUnpaired]).
// [Node.Events] reports pairings, failed attempts and session changes.
//
// # Errors
//
// Errors wrap sentinels for errors.Is: [ErrWrongSecret], [ErrExpired],
// [ErrCanceled], [ErrTooManyAttempts], [ErrNoSuchPairing], [ErrInvalidCode]
// for pairing;
// [ErrUnknownPeer], [ErrPeerNotFound], [ErrSessionClosed],
// [ErrSessionFailed] for sessions; [ErrClosed] once the node is closed.
//
// # Surviving a restart
//
// With [WithSessionPersistence], [Node.Close] saves every live session in the
// data directory instead of closing it, and [New] restores them. The peer
// only sees a dropped connection and waits for the resume, so nothing sent
// is lost if the node is back within the peer's resume timeout
// ([WithResumeTimeout]): a restored session comes from [Node.Accept] with
// [Session.Restored] true, its open channels come back from
// [Session.AcceptChannel] (also the ones this side opened), data received but
// not yet read is still there, and messages not yet acknowledged are
// delivered exactly once. Only a graceful Close saves sessions; after a crash
// the peer's session fails when its resume timeout passes.
//
// # Key storage
//
// The data directory holds identity.key (the Ed25519 seed, mode 0600,
// optionally sealed with a passphrase, [WithPassphrase]) and peers.json (the
// trust store, with each peer's pairing secret, mode 0600). With session
// persistence, state/ holds the saved sessions (mode 0600; message data but
// no keys: every resume runs a new handshake) until the next start. Nothing
// secret is written anywhere else or logged.
//
// # Compatibility
//
// PeerIDs, PINs, SPAKE2, SAS codes and rendezvous ids follow the cairn
// conventions, so they mean the same in every cairn implementation. The wire
// protocol is specified in docs/PROTOCOL.md.
package cairn
