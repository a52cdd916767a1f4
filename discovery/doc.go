// Package discovery finds cairn peers on the local network with multicast
// DNS service discovery (mDNS/DNS-SD, RFC 6762 and RFC 6763).
//
// A node that can be reached advertises a service with [Advertise]; a node
// looking for it calls [Browse] with the service type and picks the entry
// whose TXT record matches:
//
//   - [PairServiceType] ("_cairn-pair._tcp"): an initiator waiting to be
//     paired; TXT "s" is the public pairing slot (at most the first 3 PIN
//     symbols, or a hex slot id).
//   - [PeerServiceType] ("_cairn._tcp"): a node reachable by its paired
//     peers; TXT "r" holds prefixes of current rendezvous ids. Several
//     prefixes go in one value, comma-separated: a DNS-SD key counts only
//     once.
//
// Instance names come from [NewInstanceName] and the SRV record points to a
// random host name, so an advert names neither the device nor its PeerID.
// Nothing secret belongs in a TXT record: everyone on the LAN sees it.
//
// # Interfaces
//
// mDNS is sent only on the interfaces in [Options].Interfaces, or, if that
// is empty, on [DefaultInterfaces]: those up and multicast-capable, loopback
// excluded. Known limitation of the underlying library
// (github.com/libp2p/zeroconf/v2): its responder answers a query on the
// interface the query arrived on, and Linux delivers multicast from every
// interface where any socket of the host joined the mDNS group; so on a host
// that also runs another mDNS stack, answers may leave on interfaces outside
// the list. Queries and announcements respect the list.
//
// # Lifetime and caching
//
// An [Advertisement] answers until its context ends or Close is called, then
// multicasts a goodbye (TTL 0). Each Browse call queries afresh and keeps no
// cache across calls, so a closed advertisement is not found by a later
// Browse; an entry already reported is not withdrawn from a running one.
//
// # Limits
//
// TXT strings are at most [MaxTXTStringLen] bytes and a record at most
// [MaxTXTSize]; invalid input is rejected with a [*TXTError] before anything
// is sent. Received records are decoded defensively ([ParseTXT]); one Browse
// reports at most 256 instances and 16 addresses each, and runs at most
// [MaxBrowseDuration].
//
// # Testing
//
// The tests multicast only inside network namespaces they create (package
// internal/netnstest) and skip when not run as root.
package discovery
