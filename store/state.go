package store

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

const (
	stateMagic = "cairn-state-v1\n"
	// MaxStateSize bounds a state blob.
	MaxStateSize = 16 << 20
	// MaxStateNameLen bounds a state name.
	MaxStateNameLen = 128
)

// validStateName accepts 1..MaxStateNameLen characters of [A-Za-z0-9._-],
// not starting with '.'.
func validStateName(name string) bool {
	if len(name) == 0 || len(name) > MaxStateNameLen || name[0] == '.' {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '.' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

func (s *Store) stateDir() string { return filepath.Join(s.dir, stateDirName) }

// PutState stores data under name (1-128 characters of [A-Za-z0-9._-], not
// starting with '.'), replacing any previous blob atomically. On disk:
// stateMagic || data || SHA-256(stateMagic || data), mode 0600.
func (s *Store) PutState(name string, data []byte) error {
	if !validStateName(name) {
		return fmt.Errorf("store: %w: %q", ErrInvalidName, name)
	}
	if len(data) > MaxStateSize {
		return fmt.Errorf("store: state %s is %d bytes, max %d", name, len(data), MaxStateSize)
	}
	b := make([]byte, 0, len(stateMagic)+len(data)+sha256.Size)
	b = append(b, stateMagic...)
	b = append(b, data...)
	sum := sha256.Sum256(b)
	b = append(b, sum[:]...)
	defer clear(b)
	err := s.withLock(func() error {
		if err := ensureDir(s.stateDir()); err != nil {
			return err
		}
		return writeFileAtomic(s.stateDir(), name, b, false)
	})
	if err != nil {
		return fmt.Errorf("store: failed to store state %s: %w", name, err)
	}
	return nil
}

// State returns the blob stored under name, or ErrNoState.
func (s *Store) State(name string) ([]byte, error) {
	if !validStateName(name) {
		return nil, fmt.Errorf("store: %w: %q", ErrInvalidName, name)
	}
	path := filepath.Join(s.stateDir(), name)
	b, err := readSecretFile(path, MaxStateSize+int64(len(stateMagic)+sha256.Size))
	if isNotExist(err) {
		return nil, fmt.Errorf("store: %w: %s", ErrNoState, name)
	}
	if err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	data, err := decodeState(b)
	if err != nil {
		clear(b)
		return nil, fmt.Errorf("store: %s: %w", path, err)
	}
	return data, nil
}

// decodeState checks the magic and checksum and returns the data (aliasing
// b). Errors wrap ErrCorrupt.
func decodeState(b []byte) ([]byte, error) {
	if len(b) < len(stateMagic)+sha256.Size || string(b[:len(stateMagic)]) != stateMagic {
		return nil, fmt.Errorf("%w: not a cairn state file", ErrCorrupt)
	}
	body, sum := b[:len(b)-sha256.Size], b[len(b)-sha256.Size:]
	want := sha256.Sum256(body)
	if !bytes.Equal(sum, want[:]) {
		return nil, fmt.Errorf("%w: checksum mismatch", ErrCorrupt)
	}
	return body[len(stateMagic):], nil
}

// DeleteState removes the blob stored under name; a missing blob is not an
// error.
func (s *Store) DeleteState(name string) error {
	if !validStateName(name) {
		return fmt.Errorf("store: %w: %q", ErrInvalidName, name)
	}
	err := s.withLock(func() error {
		err := os.Remove(filepath.Join(s.stateDir(), name))
		if err == nil {
			return syncDir(s.stateDir())
		}
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		return err
	})
	if err != nil {
		return fmt.Errorf("store: failed to delete state %s: %w", name, err)
	}
	return nil
}
