// Package pairing holds the pieces of cairn pairing that are pure functions
// of their inputs: PINs, the pairing key schedule, short authentication
// strings, rendezvous ids, and the QR and link payloads.
//
// # PIN pairing
//
// The initiator calls [GeneratePIN] and shows [PIN.String] ("A1B2-C3D4").
// The responder passes what the user typed to [ParsePIN], which normalises
// it. Both use [PIN.Password] as the SPAKE2 password; only [PIN.Slot] (the
// first three symbols, 15 bits) may ever be made public.
//
// # QR and link pairing
//
// The initiator fills a [Payload] with a fresh 128-bit secret and renders
// [Payload.QRData] or [Payload.Link]. The responder decodes it with
// [ParseQRData] or [ParseLink], which check a 32-bit tag keyed by the secret
// and the expiry before anything touches the network. In a link the secret
// travels only in the URI fragment.
//
// # Key schedule
//
// After SPAKE2, both sides derive [SessionKey], then [ConfirmKey] and the
// two [ConfirmMAC] values, checked with [VerifyConfirm]. The Noise XXpsk3
// pre-shared key is [NoisePSK]; once the Noise handshake is done,
// [PairingSecret] binds the session key to the handshake hash and is the
// long-term secret of the two peers, from which [SASNumeric], [SASEmoji] and
// [RendezvousID] are derived.
//
// The formats are specified byte-exactly in docs/PROTOCOL.md.
package pairing
