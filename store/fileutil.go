package store

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
)

const (
	dirMode  = 0o700
	fileMode = 0o600
)

// writeFileAtomic replaces dir/name with data: a temporary file in dir
// (created 0600), fsync, rename, fsync of dir. With noClobber it links the
// temporary file instead of renaming it, so an existing file is never
// replaced (fs.ErrExist).
func writeFileAtomic(dir, name string, data []byte, noClobber bool) (err error) {
	f, err := os.CreateTemp(dir, "."+name+".tmp-*")
	if err != nil {
		return fmt.Errorf("failed to create a temporary file: %w", err)
	}
	tmp := f.Name()
	defer func() {
		if f != nil {
			f.Close()
		}
		if err != nil || noClobber {
			os.Remove(tmp)
		}
	}()
	if err := f.Chmod(fileMode); err != nil {
		return fmt.Errorf("failed to set permissions: %w", err)
	}
	if _, err := f.Write(data); err != nil {
		return fmt.Errorf("failed to write %s: %w", name, err)
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("failed to sync %s: %w", name, err)
	}
	if err := f.Close(); err != nil {
		f = nil
		return fmt.Errorf("failed to close %s: %w", name, err)
	}
	f = nil
	final := filepath.Join(dir, name)
	if noClobber {
		if err := os.Link(tmp, final); err != nil {
			return fmt.Errorf("failed to create %s: %w", name, err)
		}
	} else if err := os.Rename(tmp, final); err != nil {
		return fmt.Errorf("failed to replace %s: %w", name, err)
	}
	return syncDir(dir)
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("failed to open directory: %w", err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("failed to sync directory: %w", err)
	}
	return nil
}

// readSecretFile reads a regular file of at most limit bytes that only its
// owner may access. A missing file gives an error wrapping fs.ErrNotExist.
func readSecretFile(path string, limit int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, corruptError(path, "not a regular file")
	}
	if fi.Mode().Perm()&0o077 != 0 {
		return nil, &PermissionError{Path: path, Mode: fi.Mode()}
	}
	if fi.Size() > limit {
		return nil, corruptError(path, fmt.Sprintf("%d bytes, max %d", fi.Size(), limit))
	}
	b, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, fmt.Errorf("failed to read %s: %w", path, err)
	}
	if int64(len(b)) > limit {
		return nil, corruptError(path, "file grew while reading")
	}
	return b, nil
}

// ensureDir creates dir 0700 or checks that an existing one is not writable
// by group or other.
func ensureDir(dir string) error {
	if err := os.MkdirAll(dir, dirMode); err != nil {
		return fmt.Errorf("failed to create %s: %w", dir, err)
	}
	fi, err := os.Stat(dir)
	if err != nil {
		return err
	}
	if !fi.IsDir() {
		return fmt.Errorf("%s is not a directory: %w", dir, fs.ErrInvalid)
	}
	if fi.Mode().Perm()&0o022 != 0 {
		return &PermissionError{Path: dir, Mode: fi.Mode()}
	}
	return nil
}

func isNotExist(err error) bool { return errors.Is(err, fs.ErrNotExist) }
