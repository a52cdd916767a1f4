package spake2

import (
	"crypto/rand"
	"crypto/sha256"
	"fmt"
	"io"
	"sync"

	"filippo.io/edwards25519"
)

// Role is a side of the asymmetric exchange.
type Role int

const (
	// RoleA is the initiator (python-spake2's SPAKE2_A).
	RoleA Role = iota + 1
	// RoleB is the responder (python-spake2's SPAKE2_B).
	RoleB
)

func (r Role) String() string {
	switch r {
	case RoleA:
		return "A"
	case RoleB:
		return "B"
	}
	return fmt.Sprintf("Role(%d)", int(r))
}

// sideByte is the first byte of each role's message.
func (r Role) sideByte() byte {
	if r == RoleA {
		return 'A' // 0x41
	}
	return 'B' // 0x42
}

const (
	// IdentityA and IdentityB are cairn's fixed SPAKE2 identities.
	IdentityA = "cairn-initiator"
	IdentityB = "cairn-responder"

	// MessageSize is the size of each side's message: a side byte and a
	// compressed Edwards point.
	MessageSize = 1 + pointSize
	// KeySize is the size of the key Finish returns.
	KeySize = sha256.Size

	pointSize = 32
)

// defaultParams decodes the group constants once; the result is immutable.
var defaultParams = sync.OnceValues(newParams)

// State is one side of one exchange. It is single use and not safe for
// concurrent use.
type State struct {
	p        *params
	role     Role
	idA, idB []byte
	pwHash   [sha256.Size]byte // SHA-256(password), for the transcript
	pw       *edwards25519.Scalar
	xy       *edwards25519.Scalar
	msg      [MessageSize]byte
	finished bool
}

// New starts an exchange for role with password, drawing the ephemeral
// scalar from rand (nil means crypto/rand). The identities are cairn's
// [IdentityA] and [IdentityB].
func New(role Role, password []byte, rand io.Reader) (*State, error) {
	return newWithIDs(role, password, []byte(IdentityA), []byte(IdentityB), rand)
}

// newWithIDs is New with explicit identities, for the reference vectors.
func newWithIDs(role Role, password, idA, idB []byte, random io.Reader) (*State, error) {
	if role != RoleA && role != RoleB {
		return nil, fmt.Errorf("spake2: invalid role %d", int(role))
	}
	if random == nil {
		random = rand.Reader
	}
	p, err := defaultParams()
	if err != nil {
		return nil, err
	}
	pw, err := passwordScalar(password)
	if err != nil {
		return nil, err
	}
	var seed [uniformSize]byte
	if _, err := io.ReadFull(random, seed[:]); err != nil {
		return nil, fmt.Errorf("spake2: failed to read randomness: %w", err)
	}
	xy, err := uniformScalar(seed[:])
	clear(seed[:])
	if err != nil {
		return nil, err
	}

	blind := p.m
	if role == RoleB {
		blind = p.n
	}
	pt := new(edwards25519.Point).ScalarBaseMult(xy)
	pt.Add(pt, new(edwards25519.Point).ScalarMult(pw, blind))

	s := &State{
		p:      p,
		role:   role,
		idA:    append([]byte(nil), idA...),
		idB:    append([]byte(nil), idB...),
		pwHash: sha256.Sum256(password),
		pw:     pw,
		xy:     xy,
	}
	s.msg[0] = role.sideByte()
	copy(s.msg[1:], pt.Bytes())
	return s, nil
}

// Role returns the state's role.
func (s *State) Role() Role { return s.role }

// Message returns this side's message, [MessageSize] bytes: 0x41 || X for
// A, 0x42 || Y for B. It may be called any number of times.
func (s *State) Message() []byte { return append([]byte(nil), s.msg[:]...) }

// Finish processes the peer's message and returns the shared key. It may be
// called once; the state's secrets are erased afterwards, whether or not the
// message was valid. A rejected message yields a [*MessageError] wrapping
// one of ErrWrongLength, ErrWrongSide, ErrInvalidPoint, ErrSmallOrder or
// ErrReflected.
func (s *State) Finish(peerMsg []byte) ([]byte, error) {
	if s.finished {
		return nil, ErrFinished
	}
	s.finished = true
	defer s.erase()

	if len(peerMsg) != MessageSize {
		return nil, messageError(ErrWrongLength, fmt.Sprintf("got %d bytes, want %d", len(peerMsg), MessageSize))
	}
	peerRole := RoleB
	if s.role == RoleB {
		peerRole = RoleA
	}
	if peerMsg[0] != peerRole.sideByte() {
		return nil, messageError(ErrWrongSide, fmt.Sprintf("got side byte 0x%02x, want 0x%02x", peerMsg[0], peerRole.sideByte()))
	}
	peerPoint := peerMsg[1:]
	pt, err := s.p.decodePeerPoint(peerPoint)
	if err != nil {
		return nil, err
	}
	if [pointSize]byte(peerPoint) == [pointSize]byte(s.msg[1:]) {
		return nil, messageError(ErrReflected, "")
	}

	unblind := s.p.n
	if s.role == RoleB {
		unblind = s.p.m
	}
	k := new(edwards25519.Point).ScalarMult(s.pw, unblind)
	k.Subtract(pt, k)
	k.ScalarMult(s.xy, k)

	x, y := s.msg[1:], peerPoint
	if s.role == RoleB {
		x, y = y, x
	}
	idA, idB := sha256.Sum256(s.idA), sha256.Sum256(s.idB)
	h := sha256.New()
	h.Write(s.pwHash[:])
	h.Write(idA[:])
	h.Write(idB[:])
	h.Write(x)
	h.Write(y)
	h.Write(k.Bytes())
	return h.Sum(nil), nil
}

// erase zeroes the secret scalars and the password hash.
func (s *State) erase() {
	s.pw.Set(s.p.zero)
	s.xy.Set(s.p.zero)
	clear(s.pwHash[:])
}
