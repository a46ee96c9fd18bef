package auditx

import (
	"strconv"
	"unicode"
	"unicode/utf8"

	"go.opentelemetry.io/otel/attribute"
)

const hexDigits = "0123456789abcdef"

// appendValue appends the text of v to dst as it appears in a rendered
// body: numbers and booleans in Go syntax, strings escaped by
// [appendEscaped], other kinds as their OpenTelemetry string form, escaped.
func appendValue(dst []byte, v attribute.Value) []byte {
	switch v.Type() {
	case attribute.STRING:
		return appendEscaped(dst, v.AsString())
	case attribute.INT64:
		return strconv.AppendInt(dst, v.AsInt64(), 10)
	case attribute.BOOL:
		return strconv.AppendBool(dst, v.AsBool())
	case attribute.FLOAT64:
		return strconv.AppendFloat(dst, v.AsFloat64(), 'g', -1, 64)
	case attribute.EMPTY:
		return dst
	default:
		return appendEscaped(dst, v.String())
	}
}

// appendEscaped appends s to dst so that the result is one line of text
// that reads as s: printable text, quotes and braces are copied as they are;
// a backslash becomes \\; \n, \r and \t become those two-character escapes;
// other control characters, bytes that are not UTF-8, and the Unicode line
// separators and bidirectional controls become \xNN or \uNNNN.
func appendEscaped(dst []byte, s string) []byte {
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if plainText[c] {
			i++
			continue
		}
		if c >= utf8.RuneSelf {
			r, size := utf8.DecodeRuneInString(s[i:])
			if r == utf8.RuneError && size == 1 {
				dst = append(dst, s[start:i]...)
				dst = append(dst, '\\', 'x', hexDigits[c>>4], hexDigits[c&0xf])
				i++
				start = i
				continue
			}
			if !escapeRune(r) {
				i += size
				continue
			}
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u',
				hexDigits[r>>12&0xf], hexDigits[r>>8&0xf], hexDigits[r>>4&0xf], hexDigits[r&0xf])
			i += size
			start = i
			continue
		}
		dst = append(dst, s[start:i]...)
		switch c {
		case '\\':
			dst = append(dst, '\\', '\\')
		case '\n':
			dst = append(dst, '\\', 'n')
		case '\r':
			dst = append(dst, '\\', 'r')
		case '\t':
			dst = append(dst, '\\', 't')
		default:
			dst = append(dst, '\\', 'x', hexDigits[c>>4], hexDigits[c&0xf])
		}
		i++
		start = i
	}
	return append(dst, s[start:]...)
}

// plainText[c] reports whether appendEscaped copies the byte c as it is:
// printable ASCII but the backslash.
var plainText = func() (t [256]bool) {
	for c := 0x20; c < 0x7f; c++ {
		t[c] = c != '\\'
	}
	return t
}()

// escapeRune reports whether a non-ASCII rune is escaped in bodies: C1
// controls, NEL, the line and paragraph separators, the byte order mark and
// every character of Unicode's Bidi_Control class (ALM U+061C, LRM, RLM,
// the embeddings, overrides and isolates), which can make text read in a
// different order than it is stored.
func escapeRune(r rune) bool {
	switch {
	case r >= 0x80 && r <= 0x9f: // C1 controls, including NEL (U+0085)
		return true
	case r == 0x2028 || r == 0x2029: // LS, PS
		return true
	case r == 0xfeff: // BOM / zero-width no-break space
		return true
	}
	return unicode.Is(unicode.Bidi_Control, r)
}
