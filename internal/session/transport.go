package session

// Transport is one authenticated, encrypted connection to the peer. Records
// are delivered in order, intact or not at all; Recv returns an error once the
// connection is gone. Send may be called from one goroutine at a time; Recv
// from one goroutine at a time; Close unblocks both and is idempotent.
//
// Send does not keep record after it returns. A record is at most MaxRecord
// bytes.
type Transport interface {
	Send(record []byte) error
	Recv() ([]byte, error) // returned slice valid until the next Recv
	Close() error
}
