package store

import (
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"

	"github.com/cairn-dev/cairn/identity"
)

// maxIdentityFile bounds what is read of identity.key.
const maxIdentityFile = 4096

// Identity returns the node's identity, creating identity.key with a fresh
// seed on first use (sealed if Options.Passphrase was set). It never replaces
// an existing file: a file that does not load gives ErrCorrupt,
// ErrInsecurePermissions, ErrPassphraseRequired or ErrWrongPassphrase.
func (s *Store) Identity() (*identity.Identity, error) {
	s.mu.Lock()
	id := s.mu.id
	s.mu.Unlock()
	if id != nil {
		return id, nil
	}
	err := s.withLock(func() error {
		if s.mu.id != nil {
			return nil
		}
		id, sealed, err := s.loadIdentity()
		if isNotExist(err) {
			if err := s.createIdentity(); err != nil && !errors.Is(err, fs.ErrExist) {
				return err
			}
			id, sealed, err = s.loadIdentity()
		}
		if err != nil {
			return err
		}
		s.mu.id, s.mu.sealed = id, sealed
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("store: identity: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.mu.id, nil
}

// Sealed reports whether the loaded identity is sealed with a passphrase.
// It is false until Identity succeeded.
func (s *Store) Sealed() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.mu.sealed
}

func (s *Store) identityPath() string { return filepath.Join(s.dir, identityFileName) }

// loadIdentity reads identity.key. Must hold s.mu and the file lock.
func (s *Store) loadIdentity() (*identity.Identity, bool, error) {
	path := s.identityPath()
	b, err := readSecretFile(path, maxIdentityFile)
	if err != nil {
		return nil, false, err
	}
	defer clear(b)
	f, err := decodeIdentityFile(b)
	if err != nil {
		return nil, false, fmt.Errorf("%s: %w", path, err)
	}
	seed, err := openIdentityFile(f, s.passphrase)
	if err != nil {
		return nil, false, fmt.Errorf("%s: %w", path, err)
	}
	defer clear(seed)
	id, err := identity.FromSeed(seed)
	if err != nil {
		return nil, false, fmt.Errorf("%s: %w: %w", path, ErrCorrupt, err)
	}
	return id, f.kind == kindSealed, nil
}

// createIdentity writes a new identity.key, failing with fs.ErrExist if one
// appeared meanwhile. Must hold s.mu and the file lock.
func (s *Store) createIdentity() error {
	id, err := identity.Generate(nil)
	if err != nil {
		return err
	}
	seed := id.UnsafeSeed()
	defer clear(seed)
	b, err := newIdentityFile(seed, s.passphrase, s.kdf)
	if err != nil {
		return fmt.Errorf("failed to seal the identity: %w", err)
	}
	defer clear(b)
	return writeFileAtomic(s.dir, identityFileName, b, true)
}
