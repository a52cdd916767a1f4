package discovery

import (
	"maps"
	"slices"
	"strconv"
	"strings"
)

// EncodeTXT turns key/value pairs into the strings of a DNS-SD TXT record,
// "key=value" each, sorted by key. It checks RFC 6763 section 6: keys are
// non-empty printable US-ASCII without '=' and unique ignoring case, each
// string is at most MaxTXTStringLen bytes and the record at most MaxTXTSize
// bytes. Values may hold any bytes. An empty map gives the one empty string
// that stands for an empty record. Errors are *TXTError.
func EncodeTXT(text map[string]string) ([]string, error) {
	keys := slices.Sorted(maps.Keys(text))
	if len(keys) == 0 {
		return []string{""}, nil
	}
	if len(keys) > MaxTXTStrings {
		return nil, &TXTError{Index: -1, Reason: "too many keys (max " + strconv.Itoa(MaxTXTStrings) + ")"}
	}
	out := make([]string, 0, len(keys))
	seen := make(map[string]bool, len(keys))
	size := 0
	for i, k := range keys {
		if reason := checkKey(k); reason != "" {
			return nil, &TXTError{Index: i, Key: printableKey(k), Reason: reason}
		}
		folded := strings.ToLower(k)
		if seen[folded] {
			return nil, &TXTError{Index: i, Key: k, Reason: "duplicate key (keys ignore case)"}
		}
		seen[folded] = true
		s := k + "=" + text[k]
		if len(s) > MaxTXTStringLen {
			return nil, &TXTError{Index: i, Key: k, Reason: "key=value longer than " + strconv.Itoa(MaxTXTStringLen) + " bytes"}
		}
		size += 1 + len(s)
		out = append(out, s)
	}
	if size > MaxTXTSize {
		return nil, &TXTError{Index: -1, Reason: "record larger than " + strconv.Itoa(MaxTXTSize) + " bytes"}
	}
	return out, nil
}

// ParseTXT decodes the strings of a received TXT record (raw bytes, as on
// the wire) into a map, following RFC 6763 section 6: empty strings and
// strings with an empty key ("=x") are ignored, a key without '=' maps to
// "", only the first occurrence of a key counts, and keys are returned in
// lower case. A record with more than MaxTXTStrings strings, a string longer
// than MaxTXTStringLen bytes or a key that is not printable US-ASCII is
// rejected with a *TXTError. It never panics.
func ParseTXT(strs []string) (map[string]string, error) {
	if len(strs) > MaxTXTStrings {
		return nil, &TXTError{Index: -1, Reason: "too many strings (max " + strconv.Itoa(MaxTXTStrings) + ")"}
	}
	out := make(map[string]string, len(strs))
	for i, s := range strs {
		if len(s) > MaxTXTStringLen {
			return nil, &TXTError{Index: i, Reason: "string longer than " + strconv.Itoa(MaxTXTStringLen) + " bytes"}
		}
		k, v, _ := strings.Cut(s, "=")
		if k == "" {
			continue // empty string, or no key: ignored (RFC 6763 6.4)
		}
		if reason := checkKey(k); reason != "" {
			return nil, &TXTError{Index: i, Key: printableKey(k), Reason: reason}
		}
		k = strings.ToLower(k)
		if _, dup := out[k]; dup {
			continue // only the first occurrence counts (RFC 6763 6.4)
		}
		out[k] = v
	}
	return out, nil
}

// checkKey returns why k is not a valid TXT key, or "".
func checkKey(k string) string {
	if k == "" {
		return "empty key"
	}
	for i := 0; i < len(k); i++ {
		switch c := k[i]; {
		case c == '=':
			return "key contains '='"
		case c < 0x20 || c > 0x7e:
			return "key is not printable US-ASCII"
		}
	}
	return ""
}

// printableKey returns k if it may appear in an error message.
func printableKey(k string) string {
	if checkKey(k) != "" || len(k) > MaxTXTStringLen {
		return ""
	}
	return k
}

// escapeTXT writes raw TXT bytes in the presentation format that
// github.com/miekg/dns expects in dns.TXT.Txt when packing (and produces
// when unpacking): '"' and '\' escaped with '\', other bytes outside
// printable ASCII as \DDD.
func escapeTXT(raw string) string {
	var b strings.Builder
	b.Grow(len(raw))
	for i := 0; i < len(raw); i++ {
		switch c := raw[i]; {
		case c == '"' || c == '\\':
			b.WriteByte('\\')
			b.WriteByte(c)
		case c < 0x20 || c > 0x7e:
			b.WriteByte('\\')
			b.WriteByte('0' + c/100)
			b.WriteByte('0' + c/10%10)
			b.WriteByte('0' + c%10)
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// unescapeTXT reverses escapeTXT. A trailing '\', a \DDD above 255 or a
// result longer than MaxTXTStringLen is an error (reason string).
func unescapeTXT(s string) (string, string) {
	if !strings.Contains(s, `\`) {
		if len(s) > MaxTXTStringLen {
			return "", "string longer than " + strconv.Itoa(MaxTXTStringLen) + " bytes"
		}
		return s, ""
	}
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		if len(b) > MaxTXTStringLen {
			return "", "string longer than " + strconv.Itoa(MaxTXTStringLen) + " bytes"
		}
		c := s[i]
		if c != '\\' {
			b = append(b, c)
			continue
		}
		i++
		switch {
		case i == len(s):
			return "", "escape at end of string"
		case isDigit(s[i]):
			if i+2 >= len(s) || !isDigit(s[i+1]) || !isDigit(s[i+2]) {
				return "", "malformed \\DDD escape"
			}
			n := int(s[i]-'0')*100 + int(s[i+1]-'0')*10 + int(s[i+2]-'0')
			if n > 255 {
				return "", "\\DDD escape above 255"
			}
			b = append(b, byte(n))
			i += 2
		default:
			b = append(b, s[i])
		}
	}
	if len(b) > MaxTXTStringLen {
		return "", "string longer than " + strconv.Itoa(MaxTXTStringLen) + " bytes"
	}
	return string(b), ""
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// encodeTXTRecord validates text and returns it escaped for the mDNS
// library.
func encodeTXTRecord(text map[string]string) ([]string, error) {
	raw, err := EncodeTXT(text)
	if err != nil {
		return nil, err
	}
	for i, s := range raw {
		raw[i] = escapeTXT(s)
	}
	return raw, nil
}

// decodeTXTRecord decodes TXT strings as the mDNS library hands them over
// (escaped) into a map. Errors are *TXTError.
func decodeTXTRecord(escaped []string) (map[string]string, error) {
	if len(escaped) > MaxTXTStrings {
		return nil, &TXTError{Index: -1, Reason: "too many strings (max " + strconv.Itoa(MaxTXTStrings) + ")"}
	}
	raw := make([]string, len(escaped))
	for i, s := range escaped {
		r, reason := unescapeTXT(s)
		if reason != "" {
			return nil, &TXTError{Index: i, Reason: reason}
		}
		raw[i] = r
	}
	return ParseTXT(raw)
}
