package discovery

import "time"

// DNS-SD limits (RFC 6763 section 6).
const (
	// MaxTXTStringLen is the longest key=value string: one DNS
	// character-string.
	MaxTXTStringLen = 255
	// MaxTXTSize is the largest TXT record accepted for advertising, in
	// wire bytes (length prefixes included): RFC 6763 section 6.2 asks that
	// a record fit a typical Ethernet mDNS packet.
	MaxTXTSize = 1300
	// MaxTXTStrings bounds how many key=value strings a received record may
	// hold; more is rejected.
	MaxTXTStrings = 64
	// MaxInstanceLen is the longest instance name (one DNS label).
	MaxInstanceLen = 63
)

// Implementation limits.
const (
	// recordTTL is the TTL of the advertised records. Short, because
	// cairn adverts live minutes, and browsers that miss the goodbye forget
	// them soon.
	recordTTL = 120
	// MaxBrowseDuration caps one Browse call even if its context has no
	// deadline.
	MaxBrowseDuration = 10 * time.Minute
	// maxEntries bounds the distinct instances one Browse reports; later
	// ones are dropped (and logged), which bounds its memory against a
	// flooding LAN.
	maxEntries = 256
	// maxAddrsPerEntry bounds the addresses reported for one instance;
	// extra ones are dropped.
	maxAddrsPerEntry = 16
	// hostLabelBytes is the number of random bytes in the advertised host
	// name (the machine's own name is never used).
	hostLabelBytes = 8
	// instanceBytes is the number of random bytes in NewInstanceName.
	instanceBytes = 10
)
