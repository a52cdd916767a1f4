// Package relay is cairn's rendezvous and relay server, and its client.
//
// Two peers that cannot reach each other directly meet on a relay under a
// slot name: one hosts the slot, the other joins it, and the relay pipes
// bytes between them. The relay never sees a secret: the peers run SPAKE2 and
// Noise end to end over the pipe, so it learns only slot names, timing and
// ciphertext sizes. Slot names are public by design (see the cairn design
// notes on what a pairing slot may reveal).
//
// # Client
//
// [Host] reserves a slot and returns once it is reserved; [Join] pairs with
// the waiting host. Both return a [net.Conn], so upper layers treat a relayed
// connection and a direct TCP one alike:
//
//	conn, err := relay.Host(ctx, "https://relay.example.org", slot)
//	// on the other device:
//	conn, err := relay.Join(ctx, "https://relay.example.org", slot)
//
// Branch on failures with errors.Is: [ErrSlotTaken], [ErrNoSuchSlot],
// [ErrRateLimited], [ErrRelayUnavailable]. A slot holds one pair at a time;
// a host that wants another peer hosts again.
//
// # Server
//
// [NewServer] takes a [Config] whose zero value is a sensible public relay
// (limits in the Default constants). Run it with [Server.Serve] or
// [Server.ListenAndServe], or mount [Server.Handler] in your own http.Server
// and end it with [Server.Close]. It serves /healthz and Prometheus metrics at
// /metrics. Package relaytest runs one on loopback for tests and records what
// it relays.
//
// # Protocol
//
// WebSocket (binary messages) over HTTP or HTTPS: GET /v1/slot/{slot}?mode=host
// or ?mode=join. The full description, status and close codes, limits and
// timeouts are in docs/PROTOCOL.md (section 10).
package relay
