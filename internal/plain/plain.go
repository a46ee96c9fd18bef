// Package plain tells, in one cheap pass, whether a short text is one that
// mask's free-text scan ([mask.Policy.Text]) leaves as it is under every
// policy and that needs no escaping in a rendered line: the common values
// of audit parameters and log fields (names, ids, IP addresses) take this
// path in mask and in auditx.
package plain

// Short reports whether s is too short and too plain to hold anything
// mask.Policy.Text masks: fewer than 13 bytes (a card number has at least
// 13 digits, a cloud key at least 15 bytes), only ASCII letters, digits,
// '.', '-' and '_' (no separator of a key and value, a URL, a DSN or a
// scheme and its credentials, and nothing a body escapes), and no "eyJ"
// (a JWT's start). mask's FuzzPlainShort checks it against the full scan.
func Short(s string) bool {
	if len(s) >= 13 {
		return false
	}
	var seen uint8
	b := s
	for len(b) >= 4 {
		seen |= class[b[0]] | class[b[1]] | class[b[2]] | class[b[3]]
		b = b[4:]
	}
	for i := 0; i < len(b); i++ {
		seen |= class[b[i]]
	}
	if seen&other != 0 {
		return false
	}
	if seen&letterJ != 0 { // rare: look for "eyJ"
		for i := 2; i < len(s); i++ {
			if s[i] == 'J' && s[i-1] == 'y' && s[i-2] == 'e' {
				return false
			}
		}
	}
	return true
}

// Bits of class: what a byte is to Short. A key byte has no bit set.
const (
	other   = 1 << iota // any byte but '_', '-', '.', an ASCII letter or digit
	letterJ             // 'J', which may end "eyJ"
)

var class = func() (t [256]uint8) {
	for c := range 256 {
		if !(c == '_' || c == '-' || c == '.' ||
			('a' <= c && c <= 'z') || ('A' <= c && c <= 'Z') || ('0' <= c && c <= '9')) {
			t[c] = other
		}
	}
	t['J'] = letterJ
	return t
}()

// KeyByte reports whether c is one of the bytes Short lets through: '_',
// '-', '.', an ASCII letter or digit.
func KeyByte(c byte) bool { return class[c]&other == 0 }
