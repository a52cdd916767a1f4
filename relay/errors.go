package relay

import (
	"errors"
	"fmt"
	"net/http"
)

var (
	// ErrSlotTaken: another host already waits on the slot (HTTP 409).
	ErrSlotTaken = errors.New("relay: slot already has a host")
	// ErrNoSuchSlot: no host waits on the slot (HTTP 404).
	ErrNoSuchSlot = errors.New("relay: no host waiting on slot")
	// ErrRateLimited: the source IP made too many slot requests or holds too
	// many connections (HTTP 429).
	ErrRateLimited = errors.New("relay: rate limited")
	// ErrRelayUnavailable: the relay could not be reached or is overloaded
	// (connection refused, DNS, TLS, HTTP 5xx). The cause is wrapped too.
	ErrRelayUnavailable = errors.New("relay: unavailable")
	// ErrBadRequest: the relay rejected the request as malformed (HTTP 400),
	// or a request failed local validation before it was sent.
	ErrBadRequest = errors.New("relay: bad request")
	// ErrServerClosed is returned by Serve on a closed or already serving Server.
	ErrServerClosed = errors.New("relay: server closed")
)

// StatusError is returned when the relay answers a slot request with an HTTP
// status other than 101. It unwraps to the matching sentinel (409
// [ErrSlotTaken], 404 [ErrNoSuchSlot], 429 [ErrRateLimited], 400
// [ErrBadRequest], 5xx [ErrRelayUnavailable]) so callers can use errors.Is.
type StatusError struct {
	StatusCode int
}

func (e *StatusError) Error() string {
	return fmt.Sprintf("relay: server answered %d %s", e.StatusCode, http.StatusText(e.StatusCode))
}

// Unwrap returns the sentinel for the status code, or nil.
func (e *StatusError) Unwrap() error {
	switch {
	case e.StatusCode == http.StatusConflict:
		return ErrSlotTaken
	case e.StatusCode == http.StatusNotFound:
		return ErrNoSuchSlot
	case e.StatusCode == http.StatusTooManyRequests:
		return ErrRateLimited
	case e.StatusCode == http.StatusBadRequest:
		return ErrBadRequest
	case e.StatusCode >= 500 && e.StatusCode <= 599:
		return ErrRelayUnavailable
	}
	return nil
}

// RequestError describes why a slot request or slot name is invalid. It
// unwraps to [ErrBadRequest].
type RequestError struct {
	Reason string
}

func (e *RequestError) Error() string { return "relay: bad request: " + e.Reason }

// Unwrap returns [ErrBadRequest].
func (e *RequestError) Unwrap() error { return ErrBadRequest }
