package transfer

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"os"
	"path/filepath"
)

// Channel is the part of a cairn channel a transfer uses.
type Channel interface {
	Send(ctx context.Context, msg []byte) error
	Receive(ctx context.Context) ([]byte, error)
}

// Item is one file or folder to send.
type Item struct {
	// Name is the relative path the receiver stores it under ("a/b.txt").
	Name string
	// Path is the local file to read; empty when Reader is set.
	Path string
	// Reader supplies the data instead of Path (e.g. stdin); it cannot be
	// resumed.
	Reader io.Reader
	// Size is the size in bytes, or -1 if unknown.
	Size int64
	Mode fs.FileMode
	Dir  bool
}

// Collect turns command-line paths into items: a file becomes one item named
// by its base name, a folder one item for itself and one for everything in
// it, named relative to its parent. Symbolic links and special files inside
// folders are skipped and reported through skip.
func Collect(paths []string, skip func(path, why string)) ([]Item, error) {
	var items []Item
	seen := map[string]bool{}
	for _, p := range paths {
		fi, err := os.Stat(p)
		if err != nil {
			return nil, fmt.Errorf("cannot read %s: %w", p, unwrapPath(err))
		}
		base := filepath.Base(filepath.Clean(p))
		if base == "/" || base == "." || base == ".." {
			abs, err := filepath.Abs(p)
			if err != nil {
				return nil, err
			}
			base = filepath.Base(abs)
		}
		if seen[base] {
			return nil, fmt.Errorf("two arguments are both named %q", base)
		}
		seen[base] = true
		if !fi.IsDir() {
			if !fi.Mode().IsRegular() {
				return nil, fmt.Errorf("%s is not a regular file", p)
			}
			items = append(items, Item{Name: base, Path: p, Size: fi.Size(), Mode: fi.Mode().Perm()})
			continue
		}
		root := p
		err = filepath.WalkDir(root, func(fp string, d fs.DirEntry, err error) error {
			if err != nil {
				return fmt.Errorf("cannot read %s: %w", fp, unwrapPath(err))
			}
			rel, err := filepath.Rel(root, fp)
			if err != nil {
				return err
			}
			name := base
			if rel != "." {
				name = base + "/" + filepath.ToSlash(rel)
			}
			switch {
			case d.IsDir():
				items = append(items, Item{Name: name, Dir: true, Size: -1})
			case d.Type().IsRegular():
				fi, err := d.Info()
				if err != nil {
					return fmt.Errorf("cannot read %s: %w", fp, unwrapPath(err))
				}
				items = append(items, Item{Name: name, Path: fp, Size: fi.Size(), Mode: fi.Mode().Perm()})
			default:
				if skip != nil {
					skip(fp, "not a regular file")
				}
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	return items, nil
}

func unwrapPath(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// TotalSize is the sum of the known sizes of items.
func TotalSize(items []Item) int64 {
	var n int64
	for _, it := range items {
		if !it.Dir && it.Size > 0 {
			n += it.Size
		}
	}
	return n
}

// Send sends items over ch and returns one result per item. A file the
// receiver refuses or that fails is reported in its Result and the transfer
// goes on; an error is returned when the channel or protocol fails, along
// with the results so far.
func Send(ctx context.Context, ch Channel, items []Item, prog Progress) ([]Result, error) {
	if prog == nil {
		prog = nopProgress{}
	}
	var results []Result
	for _, it := range items {
		res, err := sendItem(ctx, ch, it, prog)
		results = append(results, res)
		if err != nil {
			return results, err
		}
	}
	if err := ch.Send(ctx, []byte{msgFinish}); err != nil {
		return results, fmt.Errorf("failed to finish the transfer: %w", err)
	}
	msg, err := ch.Receive(ctx)
	if err != nil {
		return results, fmt.Errorf("receiver did not confirm the end of the transfer: %w", err)
	}
	if len(msg) != 1 || msg[0] != msgFinish {
		return results, fmt.Errorf("%w: expected the final acknowledgement", ErrProtocol)
	}
	return results, nil
}

func sendItem(ctx context.Context, ch Channel, it Item, prog Progress) (Result, error) {
	res := Result{Name: it.Name, Dir: it.Dir, Size: it.Size}
	h := header{Name: it.Name, Size: it.Size, Mode: it.Mode.Perm(), Dir: it.Dir}
	if it.Dir {
		h.Size = 0
	}
	if err := ch.Send(ctx, encode(msgHeader, h)); err != nil {
		return res, err
	}
	msg, err := ch.Receive(ctx)
	if err != nil {
		return res, fmt.Errorf("receiver went away: %w", err)
	}
	var a answer
	if err := decode(msg, msgAnswer, &a); err != nil {
		return res, err
	}
	if a.Error != "" {
		res.Err = sanitize(a.Error)
		return res, nil
	}
	if it.Dir {
		return res, nil
	}

	var r io.Reader = it.Reader
	var f *os.File
	if it.Path != "" {
		f, err = os.Open(it.Path)
		if err != nil {
			return sendAbort(ctx, ch, res, fmt.Sprintf("cannot open %s: %v", it.Path, unwrapPath(err)))
		}
		defer f.Close()
		r = f
	}
	sum := sha256.New()
	offset := int64(0)
	if a.Offset > 0 && f != nil && (it.Size < 0 || a.Offset <= it.Size) {
		// Resume only if our first a.Offset bytes are what the receiver has.
		if n, err := io.CopyN(sum, f, a.Offset); err == nil && n == a.Offset && hex.EncodeToString(sum.Sum(nil)) == a.Prefix {
			offset = a.Offset
		} else {
			sum.Reset()
			if _, err := f.Seek(0, io.SeekStart); err != nil {
				return sendAbort(ctx, ch, res, fmt.Sprintf("cannot read %s: %v", it.Path, err))
			}
		}
	}
	if err := ch.Send(ctx, encode(msgStart, start{Offset: offset})); err != nil {
		return res, err
	}
	res.Resumed = offset
	pw := prog.Begin(it.Name, it.Size, offset)
	n, readErr, err := sendData(ctx, ch, r, sum, pw, it.Size, offset)
	if err != nil {
		pw.End(err)
		return res, err
	}
	if readErr != nil {
		pw.End(readErr)
		return sendAbort(ctx, ch, res, readErr.Error())
	}
	size := offset + n
	if it.Size >= 0 && size != it.Size {
		err := fmt.Errorf("%s changed size while being sent (%d bytes, expected %d)", it.Name, size, it.Size)
		pw.End(err)
		return sendAbort(ctx, ch, res, err.Error())
	}
	res.Size = size
	res.SHA256 = hex.EncodeToString(sum.Sum(nil))
	if err := ch.Send(ctx, encode(msgEnd, end{SHA256: res.SHA256, Size: size})); err != nil {
		pw.End(err)
		return res, err
	}
	msg, err = ch.Receive(ctx)
	if err != nil {
		pw.End(err)
		return res, fmt.Errorf("receiver went away: %w", err)
	}
	var rr result
	if err := decode(msg, msgResult, &rr); err != nil {
		pw.End(err)
		return res, err
	}
	if rr.Error != "" {
		res.Err = sanitize(rr.Error)
		pw.End(errors.New(res.Err))
		return res, nil
	}
	if rr.SHA256 != res.SHA256 {
		res.Err = ErrHashMismatch.Error()
	}
	pw.End(nil)
	return res, nil
}

// sendData streams r from offset; at most limit-offset bytes when limit is
// known (one more is read to notice growth). readErr is a local read
// failure, err a channel failure.
func sendData(ctx context.Context, ch Channel, r io.Reader, sum hash.Hash, pw ProgressWriter, limit, offset int64) (n int64, readErr, err error) {
	buf := make([]byte, 1+ChunkSize)
	buf[0] = msgData
	if limit >= 0 {
		r = io.LimitReader(r, limit-offset+1)
	}
	for {
		k, rerr := io.ReadFull(r, buf[1:])
		if k > 0 {
			if limit >= 0 && offset+n+int64(k) > limit {
				return n + int64(k), nil, nil // grew: reported by the caller
			}
			sum.Write(buf[1 : 1+k])
			if err := ch.Send(ctx, buf[:1+k]); err != nil {
				return n, nil, err
			}
			n += int64(k)
			pw.Add(k)
		}
		if rerr == io.EOF || rerr == io.ErrUnexpectedEOF {
			return n, nil, nil
		}
		if rerr != nil {
			return n, fmt.Errorf("read failed: %w", unwrapPath(rerr)), nil
		}
	}
}

// sendAbort tells the receiver this file will not complete. If it has not
// been started yet, a start message goes first.
func sendAbort(ctx context.Context, ch Channel, res Result, why string) (Result, error) {
	res.Err = why
	// The receiver accepts an end message with an error before or after the
	// start message, and keeps its part file.
	if err := ch.Send(ctx, encode(msgEnd, end{Error: why})); err != nil {
		return res, err
	}
	msg, err := ch.Receive(ctx)
	if err != nil {
		return res, fmt.Errorf("receiver went away: %w", err)
	}
	var rr result
	if err := decode(msg, msgResult, &rr); err != nil {
		return res, err
	}
	return res, nil
}
