package store

import (
	"fmt"
	"path/filepath"
	"sync"

	"github.com/cairn-dev/cairn/identity"
)

const (
	identityFileName = "identity.key"
	peersFileName    = "peers.json"
	stateDirName     = "state"
	lockFileName     = "lock"
)

// Options configure a Store.
type Options struct {
	// Passphrase, if not empty, seals a newly created identity with
	// argon2id + XChaCha20-Poly1305, and opens a sealed one. An existing
	// plain identity is loaded as it is (see Store.Sealed).
	Passphrase []byte

	// kdf overrides the argon2id parameters of new sealed files (tests).
	kdf *kdfParams
}

// Store is a node's data directory. It is safe for concurrent use, and two
// processes may use the same directory: writers take an flock on dir/lock.
type Store struct {
	dir        string
	passphrase []byte
	kdf        kdfParams

	mu struct {
		sync.Mutex
		lock   *fileLock
		id     *identity.Identity
		sealed bool
		closed bool
	}
}

// Open opens (creating it 0700 if needed) the data directory dir. It does not
// read the identity yet: Identity does, on first use.
func Open(dir string, opts Options) (*Store, error) {
	if dir == "" {
		return nil, fmt.Errorf("store: no data directory given")
	}
	dir = filepath.Clean(dir)
	if err := ensureDir(dir); err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	lock, err := openLock(filepath.Join(dir, lockFileName))
	if err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	s := &Store{dir: dir, passphrase: append([]byte(nil), opts.Passphrase...), kdf: defaultKDF}
	if opts.kdf != nil {
		s.kdf = *opts.kdf
	}
	s.mu.lock = lock
	return s, nil
}

// Dir returns the data directory.
func (s *Store) Dir() string { return s.dir }

// Close releases the lock file and forgets the passphrase. The Identity
// returned earlier stays usable.
func (s *Store) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.mu.closed {
		return nil
	}
	s.mu.closed = true
	clear(s.passphrase)
	return s.mu.lock.close()
}

// withLock runs f holding the in-process mutex and the directory's flock.
func (s *Store) withLock(f func() error) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.mu.closed {
		return ErrClosed
	}
	if err := s.mu.lock.lock(); err != nil {
		return err
	}
	defer s.mu.lock.unlock()
	return f()
}
