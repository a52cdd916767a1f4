package relay

import (
	"net/url"
	"strings"
)

// ValidSlot reports whether s is a valid slot name: 1 to [MaxSlotLen] bytes of
// ASCII letters, digits, '_', '-' and '.', other than "." and ".." (which a
// URL path cannot carry as a name).
func ValidSlot(s string) bool {
	if len(s) == 0 || len(s) > MaxSlotLen || s == "." || s == ".." {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !slotByte(s[i]) {
			return false
		}
	}
	return true
}

func slotByte(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
		c == '_' || c == '-' || c == '.'
}

func checkSlot(s string) error {
	switch {
	case len(s) == 0:
		return &RequestError{Reason: "empty slot name"}
	case len(s) > MaxSlotLen:
		return &RequestError{Reason: "slot name too long"}
	case s == "." || s == "..":
		return &RequestError{Reason: "slot name is a path element"}
	case !ValidSlot(s):
		return &RequestError{Reason: "slot name has a character outside [A-Za-z0-9_.-]"}
	}
	return nil
}

// slotRequest is a parsed GET /v1/slot/{slot}?mode=... request.
type slotRequest struct {
	Slot string
	Mode string
}

// parseSlotRequest parses the escaped path and raw query of a slot request.
// Errors are *RequestError. The query must hold exactly one "mode" parameter
// (host or join); other parameters are ignored so later versions can add some.
func parseSlotRequest(escapedPath, rawQuery string) (slotRequest, error) {
	rest, ok := strings.CutPrefix(escapedPath, SlotPath)
	if !ok {
		return slotRequest{}, &RequestError{Reason: "path is not " + SlotPath + "{slot}"}
	}
	// Slot characters never need escaping; an escaped byte is rejected after
	// unescaping anyway, so this only yields clearer errors.
	slot, err := url.PathUnescape(rest)
	if err != nil {
		return slotRequest{}, &RequestError{Reason: "slot is not a valid path segment"}
	}
	if err := checkSlot(slot); err != nil {
		return slotRequest{}, err
	}
	q, err := url.ParseQuery(rawQuery)
	if err != nil {
		return slotRequest{}, &RequestError{Reason: "malformed query"}
	}
	modes := q["mode"]
	if len(modes) != 1 {
		return slotRequest{}, &RequestError{Reason: "want exactly one mode parameter"}
	}
	switch modes[0] {
	case ModeHost, ModeJoin:
	default:
		return slotRequest{}, &RequestError{Reason: "mode must be host or join"}
	}
	return slotRequest{Slot: slot, Mode: modes[0]}, nil
}

// slotURL builds the request URL for slot and mode under the relay base URL
// (http, https, ws or wss; a path prefix is kept).
func slotURL(relayURL, slot, mode string) (string, error) {
	if err := checkSlot(slot); err != nil {
		return "", err
	}
	if mode != ModeHost && mode != ModeJoin {
		return "", &RequestError{Reason: "mode must be host or join"}
	}
	u, err := url.Parse(relayURL)
	if err != nil {
		return "", &RequestError{Reason: "relay URL does not parse"}
	}
	switch u.Scheme {
	case "http", "https", "ws", "wss":
	default:
		return "", &RequestError{Reason: "relay URL scheme must be http, https, ws or wss"}
	}
	if u.Host == "" {
		return "", &RequestError{Reason: "relay URL has no host"}
	}
	u.Path = strings.TrimSuffix(u.Path, "/") + SlotPath + slot
	u.RawPath = ""
	q := u.Query() // keep the operator's parameters (a token, say)
	q.Set("mode", mode)
	u.RawQuery = q.Encode()
	u.Fragment = ""
	return u.String(), nil
}
