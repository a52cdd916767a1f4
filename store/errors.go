package store

import (
	"errors"
	"fmt"
	"io/fs"
)

var (
	// ErrCorrupt: a store file does not decode (damaged or truncated).
	ErrCorrupt = errors.New("store file is corrupt")
	// ErrInsecurePermissions is wrapped by *PermissionError.
	ErrInsecurePermissions = errors.New("insecure permissions")
	// ErrPassphraseRequired: the identity is sealed and no passphrase was
	// given.
	ErrPassphraseRequired = errors.New("identity is sealed: passphrase required")
	// ErrWrongPassphrase: the passphrase does not open the sealed identity.
	ErrWrongPassphrase = errors.New("wrong passphrase")
	// ErrUnknownPeer: no paired peer has that PeerID.
	ErrUnknownPeer = errors.New("unknown peer")
	// ErrInvalidPeer: a Peer given to PutPeer is inconsistent (its ID does
	// not name its key, a secret is missing, the name is too long).
	ErrInvalidPeer = errors.New("invalid peer")
	// ErrNoState: no state blob has that name.
	ErrNoState = errors.New("no such state")
	// ErrInvalidName: a state name is not of the allowed form.
	ErrInvalidName = errors.New("invalid state name")
	// ErrClosed: the store was closed.
	ErrClosed = errors.New("store closed")
)

// PermissionError reports a store file or directory that other users may
// read or write.
type PermissionError struct {
	Path string
	Mode fs.FileMode
}

func (e *PermissionError) Error() string {
	return fmt.Sprintf("insecure permissions %04o on %s (want no group/other access)", e.Mode.Perm(), e.Path)
}

// Unwrap makes errors.Is(err, ErrInsecurePermissions) true.
func (e *PermissionError) Unwrap() error { return ErrInsecurePermissions }

// corruptError wraps ErrCorrupt with the file and the reason.
func corruptError(path, reason string) error {
	return fmt.Errorf("%w: %s: %s", ErrCorrupt, path, reason)
}
