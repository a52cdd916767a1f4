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
	"path"
	"path/filepath"
	"strings"
)

// ReceiveOptions configures [Receive].
type ReceiveOptions struct {
	// Dir is the folder files are written into; it is created if missing.
	// Nothing is ever written outside it.
	Dir string
	// Force allows replacing existing files.
	Force bool
	// Progress observes the transfer; nil shows nothing.
	Progress Progress
	// OnResult, if set, is called as each file or folder completes.
	OnResult func(Result)
	// Claims, shared by concurrent Receive calls into the same Dir, keeps
	// them from receiving the same file at once (ErrBusy). Nil: a private
	// one, enough when one Receive runs at a time.
	Claims *Claims
}

// Receive receives files over ch into opts.Dir until the sender finishes.
// A file that fails is reported in its Result (and its .cairn-part kept for
// resume when the data was sound); an error is returned when the channel or
// the protocol fails, along with the results so far.
func Receive(ctx context.Context, ch Channel, opts ReceiveOptions) ([]Result, error) {
	if opts.Progress == nil {
		opts.Progress = nopProgress{}
	}
	if err := os.MkdirAll(opts.Dir, 0o755); err != nil {
		return nil, fmt.Errorf("cannot create %s: %w", opts.Dir, unwrapPath(err))
	}
	root, err := os.OpenRoot(opts.Dir)
	if err != nil {
		return nil, fmt.Errorf("cannot open %s: %w", opts.Dir, unwrapPath(err))
	}
	defer root.Close()
	if opts.Claims == nil {
		opts.Claims = new(Claims)
	}
	r := &receiver{ch: ch, root: root, opts: opts}
	var results []Result
	for {
		msg, err := ch.Receive(ctx)
		if errors.Is(err, io.EOF) {
			return results, fmt.Errorf("%w: the sender stopped before finishing", ErrProtocol)
		}
		if err != nil {
			return results, err
		}
		if len(msg) == 1 && msg[0] == msgFinish {
			if err := ch.Send(ctx, []byte{msgFinish}); err != nil {
				return results, err
			}
			return results, nil
		}
		var h header
		if err := decode(msg, msgHeader, &h); err != nil {
			return results, err
		}
		res, err := r.item(ctx, h)
		if err != nil && res.OK() {
			res.Err = sanitize(err.Error()) // the file did not arrive, whatever else happened
		}
		results = append(results, res)
		if opts.OnResult != nil {
			opts.OnResult(res)
		}
		if err != nil {
			return results, err
		}
	}
}

type receiver struct {
	ch   Channel
	root *os.Root
	opts ReceiveOptions
}

func (r *receiver) refuse(ctx context.Context, res Result, err error) (Result, error) {
	res.Err = err.Error()
	return res, r.ch.Send(ctx, encode(msgAnswer, answer{Error: res.Err}))
}

func (r *receiver) item(ctx context.Context, h header) (Result, error) {
	res := Result{Name: sanitize(h.Name), Dir: h.Dir, Size: h.Size}
	if err := ValidName(h.Name); err != nil {
		return r.refuse(ctx, res, err)
	}
	if h.Size < -1 {
		return r.refuse(ctx, res, fmt.Errorf("%w: negative size", ErrProtocol))
	}
	name := filepath.FromSlash(h.Name)
	if h.Dir {
		if err := r.root.MkdirAll(name, 0o755); err != nil {
			return r.refuse(ctx, res, fmt.Errorf("cannot create folder %s: %w", res.Name, unwrapPath(err)))
		}
		return res, r.ch.Send(ctx, encode(msgAnswer, answer{}))
	}
	if !r.opts.Force {
		if _, err := r.root.Lstat(name); err == nil {
			return r.refuse(ctx, res, fmt.Errorf("%s: %w", res.Name, ErrExists))
		}
	}
	if dir := path.Dir(h.Name); dir != "." {
		if err := r.root.MkdirAll(filepath.FromSlash(dir), 0o755); err != nil {
			return r.refuse(ctx, res, fmt.Errorf("cannot create folder %s: %w", sanitize(dir), unwrapPath(err)))
		}
	}
	// Case-folded: on a case-insensitive file system "A" and "a" are one file.
	claim := strings.ToLower(path.Clean(h.Name))
	if !r.opts.Claims.claim(claim) {
		return r.refuse(ctx, res, fmt.Errorf("%s: %w", res.Name, ErrBusy))
	}
	defer r.opts.Claims.release(claim)
	part := name + PartSuffix
	f, err := r.root.OpenFile(part, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return r.refuse(ctx, res, fmt.Errorf("cannot create %s: %w", res.Name+PartSuffix, unwrapPath(err)))
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil || !fi.Mode().IsRegular() {
		return r.refuse(ctx, res, fmt.Errorf("%s is not a regular file", res.Name+PartSuffix))
	}
	sum := sha256.New()
	offset := fi.Size()
	if h.Size >= 0 && offset > h.Size {
		offset = 0
	}
	if offset > 0 {
		if n, err := io.CopyN(sum, f, offset); err != nil || n != offset {
			offset = 0
		}
	}
	if offset == 0 {
		sum.Reset()
	}
	if err := r.ch.Send(ctx, encode(msgAnswer, answer{Offset: offset, Prefix: hex.EncodeToString(sum.Sum(nil))})); err != nil {
		return res, err
	}

	msg, err := r.ch.Receive(ctx)
	if err != nil {
		return res, err
	}
	if len(msg) > 0 && msg[0] == msgEnd { // the sender gave up before starting
		if offset == 0 {
			// Nothing to resume: leave no empty .cairn-part behind.
			f.Close()
			_ = r.root.Remove(part)
		}
		return r.finishAborted(ctx, res, msg)
	}
	var s start
	if err := decode(msg, msgStart, &s); err != nil {
		return res, err
	}
	switch {
	case s.Offset == offset:
	case s.Offset == 0:
		offset = 0
		sum.Reset()
	default:
		return res, fmt.Errorf("%w: start offset %d, expected %d or 0", ErrProtocol, s.Offset, offset)
	}
	if err := f.Truncate(offset); err != nil {
		return r.drain(ctx, res, nil, fmt.Errorf("cannot write %s: %w", res.Name+PartSuffix, unwrapPath(err)))
	}
	if _, err := f.Seek(offset, io.SeekStart); err != nil {
		return r.drain(ctx, res, nil, err)
	}
	res.Resumed = offset
	pw := r.opts.Progress.Begin(res.Name, h.Size, offset)
	res, err = r.data(ctx, res, h, f, sum, offset, pw)
	if err != nil {
		pw.End(err)
		return res, err
	}
	if !res.OK() {
		pw.End(errors.New(res.Err))
		return res, nil
	}
	pw.End(nil)
	return res, nil
}

// data receives the 'D' messages of a file and its 'E', then checks and
// places the file.
func (r *receiver) data(ctx context.Context, res Result, h header, f *os.File, sum hash.Hash, offset int64, pw ProgressWriter) (Result, error) {
	size := offset
	var writeErr error
	for {
		msg, err := r.ch.Receive(ctx)
		if err != nil {
			return res, err
		}
		if len(msg) == 0 {
			return res, fmt.Errorf("%w: empty message", ErrProtocol)
		}
		if msg[0] == msgEnd {
			return r.end(ctx, res, h, f, sum, size, msg, writeErr)
		}
		if msg[0] != msgData {
			return res, fmt.Errorf("%w: unexpected message %q in file data", ErrProtocol, msg[0])
		}
		data := msg[1:]
		if writeErr != nil {
			continue // drain until the end message, then report
		}
		if h.Size >= 0 && size+int64(len(data)) > h.Size {
			writeErr = fmt.Errorf("%w: more data than announced", ErrProtocol)
			continue
		}
		if _, err := f.Write(data); err != nil {
			writeErr = fmt.Errorf("cannot write %s: %w", res.Name, unwrapPath(err))
			continue
		}
		sum.Write(data)
		size += int64(len(data))
		pw.Add(len(data))
	}
}

func (r *receiver) end(ctx context.Context, res Result, h header, f *os.File, sum hash.Hash, size int64, msg []byte, writeErr error) (Result, error) {
	var e end
	if err := decode(msg, msgEnd, &e); err != nil {
		return res, err
	}
	fail := func(err error) (Result, error) {
		res.Err = err.Error()
		return res, r.ch.Send(ctx, encode(msgResult, result{Error: res.Err}))
	}
	switch {
	case e.Error != "":
		return fail(fmt.Errorf("the sender gave up: %s", sanitize(e.Error)))
	case writeErr != nil:
		return fail(writeErr)
	}
	res.Size = size
	got := hex.EncodeToString(sum.Sum(nil))
	if e.Size != size || (h.Size >= 0 && size != h.Size) || got != e.SHA256 {
		f.Close()
		_ = r.root.Remove(filepath.FromSlash(h.Name) + PartSuffix)
		return fail(fmt.Errorf("%s: %w (received %d bytes)", res.Name, ErrHashMismatch, size))
	}
	res.SHA256 = got
	if err := f.Sync(); err != nil {
		return fail(fmt.Errorf("cannot write %s: %w", res.Name, unwrapPath(err)))
	}
	if err := f.Close(); err != nil {
		return fail(fmt.Errorf("cannot write %s: %w", res.Name, unwrapPath(err)))
	}
	if err := r.place(h); err != nil {
		return fail(err)
	}
	return res, r.ch.Send(ctx, encode(msgResult, result{SHA256: got}))
}

// place moves NAME.cairn-part to NAME atomically; without Force it never
// replaces an existing file.
func (r *receiver) place(h header) error {
	name := filepath.FromSlash(h.Name)
	part := name + PartSuffix
	mode := h.Mode.Perm()
	if mode == 0 {
		mode = 0o644
	}
	_ = r.root.Chmod(part, mode&0o755|0o600) // never group- or world-writable
	if r.opts.Force {
		if err := r.root.Rename(part, name); err != nil {
			return fmt.Errorf("cannot move %s into place: %w", sanitize(h.Name), unwrapPath(err))
		}
		return nil
	}
	err := r.root.Link(part, name)
	switch {
	case err == nil:
		_ = r.root.Remove(part)
		return nil
	case errors.Is(err, fs.ErrExist):
		return fmt.Errorf("%s: %w", sanitize(h.Name), ErrExists)
	}
	// No hard links on this file system: check, then rename.
	if _, err := r.root.Lstat(name); err == nil {
		return fmt.Errorf("%s: %w", sanitize(h.Name), ErrExists)
	}
	if err := r.root.Rename(part, name); err != nil {
		return fmt.Errorf("cannot move %s into place: %w", sanitize(h.Name), unwrapPath(err))
	}
	return nil
}

// drain skips a file's data after a local failure and reports it.
func (r *receiver) drain(ctx context.Context, res Result, _ ProgressWriter, why error) (Result, error) {
	for {
		msg, err := r.ch.Receive(ctx)
		if err != nil {
			return res, err
		}
		if len(msg) > 0 && msg[0] == msgEnd {
			res.Err = why.Error()
			return res, r.ch.Send(ctx, encode(msgResult, result{Error: res.Err}))
		}
		if len(msg) == 0 || msg[0] != msgData {
			return res, fmt.Errorf("%w: unexpected message in file data", ErrProtocol)
		}
	}
}

func (r *receiver) finishAborted(ctx context.Context, res Result, msg []byte) (Result, error) {
	var e end
	if err := decode(msg, msgEnd, &e); err != nil {
		return res, err
	}
	res.Err = "the sender gave up: " + sanitize(e.Error)
	return res, r.ch.Send(ctx, encode(msgResult, result{Error: res.Err}))
}

// Refuse answers every file of a transfer with reason, until the sender
// finishes.
func Refuse(ctx context.Context, ch Channel, reason string) error {
	for {
		msg, err := ch.Receive(ctx)
		if err != nil {
			return err
		}
		if len(msg) == 1 && msg[0] == msgFinish {
			return ch.Send(ctx, []byte{msgFinish})
		}
		var h header
		if err := decode(msg, msgHeader, &h); err != nil {
			return err
		}
		if err := ch.Send(ctx, encode(msgAnswer, answer{Error: reason})); err != nil {
			return err
		}
	}
}
