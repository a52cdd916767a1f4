//go:build unix

package store

import (
	"fmt"
	"os"
	"syscall"
)

// fileLock is an flock(2) on the store's lock file, held while a process
// reads-modifies-writes store files. flock locks belong to the open file
// description, so goroutines of one process must also hold Store.mu.
type fileLock struct{ f *os.File }

func openLock(path string) (*fileLock, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, fileMode)
	if err != nil {
		return nil, fmt.Errorf("failed to open the lock file: %w", err)
	}
	return &fileLock{f: f}, nil
}

func (l *fileLock) lock() error {
	for {
		err := syscall.Flock(int(l.f.Fd()), syscall.LOCK_EX)
		if err != syscall.EINTR {
			if err != nil {
				return fmt.Errorf("failed to lock the store: %w", err)
			}
			return nil
		}
	}
}

func (l *fileLock) unlock() { _ = syscall.Flock(int(l.f.Fd()), syscall.LOCK_UN) }

func (l *fileLock) close() error { return l.f.Close() }
