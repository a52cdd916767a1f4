// Package transfer sends files and folders over one cairn channel, with
// resume of interrupted files and a SHA-256 check at the end.
//
// # Protocol
//
// The sender opens a channel named [ChannelName] and both sides exchange
// messages (Channel.Send/Receive); the first byte of each says what it is:
//
//	S→R 'H' header  {"name":"dir/a.txt","size":123,"mode":420}  (or "dir":true; size -1: unknown)
//	R→S 'A' answer  {"offset":K,"prefix":"<sha256 of the first K bytes>"} or {"error":"..."}
//	S→R 'S' start   {"offset":K'}  K' is K if the sender's first K bytes hash to prefix, else 0
//	S→R 'D' data    raw bytes, at most ChunkSize each
//	S→R 'E' end     {"sha256":"...","size":N} or {"error":"..."} when the sender gave up
//	R→S 'R' result  {"sha256":"..."} or {"error":"..."}
//	S→R 'F' finish  no more files;  R→S 'F' acknowledges it
//
// A directory is one header with "dir":true and one answer. The receiver
// writes a file to NAME.cairn-part and renames it into place only once the
// hash matches, so nothing partial ever has the final name; an interrupted
// part stays behind and the next transfer of the same name resumes from it.
package transfer

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"
)

const (
	// ChannelName names the session channel that carries a transfer.
	ChannelName = "cairn/files/v1"
	// ChunkSize is the most file data one 'D' message carries.
	ChunkSize = 256 << 10
	// PartSuffix marks a file still being received.
	PartSuffix = ".cairn-part"
	// MaxNameLen bounds a relative path, in bytes.
	MaxNameLen = 4096
	// maxComponentLen bounds one path component, in bytes.
	maxComponentLen = 255
	// maxControlMessage bounds a JSON control message.
	maxControlMessage = 8 << 10
)

// Message types.
const (
	msgHeader = 'H'
	msgAnswer = 'A'
	msgStart  = 'S'
	msgData   = 'D'
	msgEnd    = 'E'
	msgResult = 'R'
	msgFinish = 'F'
)

var (
	// ErrBadName: a file name that is not a safe relative path.
	ErrBadName = errors.New("unsafe file name")
	// ErrExists: the file exists and overwriting was not allowed.
	ErrExists = errors.New("file exists (use --force to overwrite)")
	// ErrHashMismatch: the received data does not hash to what the sender sent.
	ErrHashMismatch = errors.New("SHA-256 mismatch")
	// ErrProtocol: the peer broke the transfer protocol.
	ErrProtocol = errors.New("transfer protocol error")
	// ErrRefused: the receiver refused a file; Result.Err says why.
	ErrRefused = errors.New("refused by the receiver")
	// ErrBusy: another transfer into the same folder is receiving that file.
	ErrBusy = errors.New("another transfer is receiving this file")
)

// Claims keeps concurrent receives into one folder from writing the same
// file: each holds the file's name while it receives it. Otherwise two of
// them would share one .cairn-part, and the second could keep writing into
// the file after the first checked its hash and put it in place. The zero
// value is ready to use; share one among the Receive calls of a process.
type Claims struct {
	mu   sync.Mutex
	held map[string]bool
}

// claim takes name and reports whether it was free.
func (c *Claims) claim(name string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.held[name] {
		return false
	}
	if c.held == nil {
		c.held = make(map[string]bool)
	}
	c.held[name] = true
	return true
}

func (c *Claims) release(name string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.held, name)
}

type header struct {
	Name string      `json:"name"`
	Size int64       `json:"size"`
	Mode fs.FileMode `json:"mode,omitempty"`
	Dir  bool        `json:"dir,omitempty"`
}

type answer struct {
	Offset int64  `json:"offset,omitempty"`
	Prefix string `json:"prefix,omitempty"`
	Error  string `json:"error,omitempty"`
}

type start struct {
	Offset int64 `json:"offset"`
}

type end struct {
	SHA256 string `json:"sha256,omitempty"`
	Size   int64  `json:"size"`
	Error  string `json:"error,omitempty"`
}

type result struct {
	SHA256 string `json:"sha256,omitempty"`
	Error  string `json:"error,omitempty"`
}

// Result reports one file or folder of a transfer.
type Result struct {
	Name    string `json:"name"`
	Dir     bool   `json:"dir,omitempty"`
	Size    int64  `json:"size"`
	SHA256  string `json:"sha256,omitempty"`
	Resumed int64  `json:"resumed_from,omitempty"` // bytes reused from an earlier, interrupted transfer
	Err     string `json:"error,omitempty"`
}

// OK reports whether the file arrived intact.
func (r Result) OK() bool { return r.Err == "" }

// Progress observes a transfer for display. Begin is called once per file
// with its size (-1 if unknown) and the offset it resumes from; every byte
// sent or received after that is written to the returned writer; End
// follows.
type Progress interface {
	Begin(name string, size, offset int64) ProgressWriter
}

// ProgressWriter counts the bytes of one file.
type ProgressWriter interface {
	Add(n int)
	End(err error)
}

type nopProgress struct{}

func (nopProgress) Begin(string, int64, int64) ProgressWriter { return nopProgress{} }
func (nopProgress) Add(int)                                   {}
func (nopProgress) End(error)                                 {}

// ValidName checks that name is a safe relative path: "/"-separated, no
// empty, "." or ".." components, no backslashes, no control or other
// invisible format characters, valid UTF-8 and not too long.
func ValidName(name string) error {
	bad := func(why string) error { return fmt.Errorf("%w %q: %s", ErrBadName, sanitize(name), why) }
	switch {
	case name == "":
		return bad("empty")
	case len(name) > MaxNameLen:
		return bad("too long")
	case !utf8.ValidString(name):
		return bad("not UTF-8")
	case strings.HasPrefix(name, "/"):
		return bad("absolute path")
	case strings.ContainsRune(name, '\\'):
		return bad("contains a backslash")
	case strings.HasSuffix(name, PartSuffix):
		return bad("reserved suffix " + PartSuffix)
	}
	for _, r := range name {
		if unicode.IsControl(r) || unicode.Is(unicode.Cf, r) || r == unicode.ReplacementChar {
			return bad("contains a control character")
		}
	}
	for c := range strings.SplitSeq(name, "/") {
		switch {
		case c == "":
			return bad("empty path component")
		case c == "." || c == "..":
			return bad("path escapes the target folder")
		case len(c) > maxComponentLen:
			return bad("path component too long")
		}
	}
	// The file is received as NAME.cairn-part, which must fit too.
	if last := name[strings.LastIndexByte(name, '/')+1:]; len(last)+len(PartSuffix) > maxComponentLen {
		return bad(fmt.Sprintf("file name longer than %d bytes", maxComponentLen-len(PartSuffix)))
	}
	if path.Clean(name) != name {
		return bad("not a clean path")
	}
	return nil
}

// sanitize makes s safe to print on a terminal.
func sanitize(s string) string {
	if len(s) > 200 {
		s = s[:200] + "..."
	}
	return strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || unicode.Is(unicode.Cf, r) {
			return '?'
		}
		return r
	}, strings.ToValidUTF8(s, "?"))
}

// Sanitize makes text from a peer safe to print on a terminal: control and
// invisible format characters become '?'.
func Sanitize(s string) string { return sanitize(s) }

func encode(typ byte, v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err) // our own plain structs always marshal
	}
	return append([]byte{typ}, b...)
}

func decode(msg []byte, typ byte, v any) error {
	if len(msg) == 0 || msg[0] != typ {
		got := "nothing"
		if len(msg) > 0 {
			got = fmt.Sprintf("%q", msg[0])
		}
		return fmt.Errorf("%w: expected message %q, got %s", ErrProtocol, typ, got)
	}
	if len(msg) > maxControlMessage {
		return fmt.Errorf("%w: control message too large", ErrProtocol)
	}
	dec := json.NewDecoder(bytes.NewReader(msg[1:]))
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("%w: bad %q message: %v", ErrProtocol, typ, err)
	}
	return nil
}
