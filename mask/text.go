package mask

import (
	"strings"

	"github.com/otelkit/otelkit/internal/plain"
)

// Text masks the secrets in free text such as an error message, a captured
// message or an audit value:
//
//   - the value after a sensitive key in the shapes "key=value",
//     "key: value", `"key":"value"`, `\"key\":\"value\"` (a %q-quoted
//     JSON), "key[]=value", "key%5D=value" (form-encoded), whatever blanks
//     (tabs, newlines) follow the separator; a value that opens with [ or {
//     (a JSON array or object, Go's map[k:[v]]) is masked whole; the value of
//     an Authorization or Cookie header ("Authorization: Digest …",
//     "Cookie: a=1; b=2") up to the end of its line; and a value that starts
//     with an auth scheme ("Bearer x", "Token x") with its credentials;
//   - the value patterns of the policy ([WithPatterns]), wherever they are.
//
// Text that holds nothing to mask is returned as it is, without allocating.
func (p *Policy) Text(s string) string {
	if p == nil || s == "" || plainShort(s) {
		return s
	}
	return p.text(s)
}

// plainShort reports whether s is too short and too plain to hold
// anything Text masks (see [plain.Short]: fewer than 13 bytes of
// [A-Za-z0-9._-], no "eyJ"). Names, ids and IP addresses, the common values
// of audit parameters, take this path; auditx relies on the same test to
// copy such values into bodies unscanned. FuzzPlainShort checks it against
// the full scan.
func plainShort(s string) bool { return plain.Short(s) }

// text is Text without the shortcut of plainShort.
func (p *Policy) text(s string) string {
	urls := p.patterns&URLSecrets != 0
	if urls {
		s = maskDSN(s)
	}
	var m masker
	m.s = s
	i := 0
	for i < len(s) {
		if !isKeyByte(s[i]) {
			i++
			continue
		}
		j := i
		for j < len(s) && isKeyByte(s[j]) {
			j++
		}
		if urls && strings.HasPrefix(s[j:], "://") {
			// A URL: mask the password of its userinfo, then go on with its
			// host, path and query.
			start, end := userinfo(s, j+3)
			if end > start {
				m.mask(start, end)
				i = end + 1
			} else {
				i = j + 3
			}
			continue
		}
		if start, end, ok := p.keyValue(s, i, j); ok {
			if end > start && s[start:end] != Mask {
				m.mask(start, end)
			}
			i = max(end, j)
			continue
		}
		if p.patterns != 0 {
			if start, end := p.pattern(s, i, j); end > start {
				if s[start:end] != Mask {
					m.mask(start, end)
				}
				i = max(end, j)
				continue
			}
		}
		i = j
	}
	return m.String()
}

// masker builds the masked copy of s only when something is masked.
type masker struct {
	s    string
	b    strings.Builder
	last int
	any  bool
}

func (m *masker) mask(start, end int) {
	if m.any && start <= m.last {
		// Overlapping or touching the previous mask: one mask covers both.
		m.last = max(m.last, end)
		return
	}
	if end <= start {
		return
	}
	if !m.any {
		// Room for a few masks longer than what they replace: one
		// allocation for the whole copy in the common case.
		m.b.Grow(len(m.s) + 3*len(Mask))
		m.any = true
	}
	m.b.WriteString(m.s[m.last:start])
	m.b.WriteString(Mask)
	m.last = end
}

func (m *masker) String() string {
	if !m.any {
		return m.s
	}
	m.b.WriteString(m.s[m.last:])
	return m.b.String()
}

// keyValue reports whether s[i:j] is a sensitive key followed by a
// separator, and returns the bounds of its value.
func (p *Policy) keyValue(s string, i, j int) (start, end int, ok bool) {
	key := s[i:j]
	k := j
	// Closers between a key and its separator: quotes (escaped or not) and
	// the end of a form field name ("user[password]", "user%5Bpassword%5D").
	for k < len(s) {
		switch c := s[k]; {
		case c == '"' || c == '\'' || c == '`' || c == '\\' || c == ']':
			k++
			continue
		case c == '%' && k+2 < len(s) && s[k+1] == '5' && (s[k+2] == 'D' || s[k+2] == 'd'):
			k += 3
			continue
		}
		break
	}
	for k < len(s) && (s[k] == ' ' || s[k] == '\t') {
		k++
	}
	if k >= len(s) || (s[k] != '=' && s[k] != ':') {
		return 0, 0, false
	}
	sep := s[k]
	sensitive := p.Sensitive(key)
	if !sensitive {
		// A query parameter that holds a signature ("?sig=" of Azure SAS,
		// "&X-Amz-Signature=" of AWS presigned URLs).
		if sep != '=' || p.patterns&URLSecrets == 0 || i == 0 || (s[i-1] != '?' && s[i-1] != '&') ||
			!(strings.EqualFold(key, "sig") || hasSuffixFold(key, "signature")) {
			return 0, 0, false
		}
	}
	k++
	if k < len(s) && (s[k] == '=' || s[k] == '>') { // ":=", "=>", "=="
		k++
	}
	for k < len(s) && isBlank(s[k]) {
		k++
	}
	if k >= len(s) {
		return k, k, true
	}
	if strings.HasPrefix(s[k:], Mask) { // masked already
		return k, k + len(Mask), true
	}
	if sep == ':' && headerLike(key) && s[k] != '"' && s[k] != '\'' && s[k] != '[' && s[k] != '{' && s[k] != '\\' {
		return k, lineEnd(s, k), true
	}
	start, end = valueSpan(s, k)
	return start, end, true
}

// headerLike reports whether key names an HTTP header whose value has parts
// of its own (an auth scheme and its parameters, several cookies), so that
// its whole line is masked.
func headerLike(key string) bool {
	return hasSuffixFold(key, "authorization") || hasSuffixFold(key, "cookie") || hasSuffixFold(key, "authenticate")
}

func hasSuffixFold(s, suffix string) bool {
	return len(s) >= len(suffix) && strings.EqualFold(s[len(s)-len(suffix):], suffix)
}

func lineEnd(s string, k int) int {
	for k < len(s) && s[k] != '\n' && s[k] != '\r' {
		k++
	}
	return k
}

func isBlank(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

// valueSpan returns the bounds of the value that starts at k: a quoted
// string (its quote possibly escaped by backslashes), a bracketed structure,
// or a run up to a separator; a run that is an HTTP auth scheme ("Bearer x")
// includes its credentials.
func valueSpan(s string, k int) (start, end int) {
	c := s[k]
	switch {
	case c == '\\':
		// An escaped quote (`\"`, `\\\"`): the value ends at the same
		// sequence.
		n := k
		for n < len(s) && s[n] == '\\' {
			n++
		}
		if n < len(s) && (s[n] == '"' || s[n] == '\'') {
			open := s[k : n+1]
			start = n + 1
			if e := strings.Index(s[start:], open); e >= 0 {
				return start, start + e
			}
			return start, len(s)
		}
		return k, scanValue(s, k)
	case c == '"' || c == '\'' || c == '`':
		start = k + 1
		end = start
		for end < len(s) && s[end] != c {
			if s[end] == '\\' && end+1 < len(s) {
				end++
			}
			end++
		}
		return start, min(end, len(s))
	case c == '[' || c == '{':
		return k, balancedEnd(s, k)
	}
	start = k
	end = scanValue(s, k)
	if isAuthScheme(s[start:end]) && end+1 < len(s) && s[end] == ' ' && !isBlank(s[end+1]) {
		end = scanValue(s, end+1)
	}
	return start, end
}

// balancedEnd returns the end of the bracketed structure that opens at k,
// skipping quoted text; an unclosed structure runs to the end of s.
func balancedEnd(s string, k int) int {
	depth := 0
	for i := k; i < len(s); i++ {
		switch s[i] {
		case '[', '{', '(':
			depth++
		case ']', '}', ')':
			depth--
			if depth == 0 {
				return i + 1
			}
		case '"':
			for i++; i < len(s) && s[i] != '"'; i++ {
				if s[i] == '\\' {
					i++
				}
			}
		}
	}
	return len(s)
}

// authSchemes are the HTTP authentication schemes of IANA's registry (and
// AWS's signature scheme) whose credentials follow after a space.
var authSchemes = [...]string{"bearer", "basic", "token", "digest", "negotiate", "ntlm",
	"hoba", "mutual", "vapid", "scram-sha-1", "scram-sha-256", "privatetoken", "dpop",
	"gnap", "apikey", "aws4-hmac-sha256", "oauth"}

func isAuthScheme(w string) bool {
	if len(w) < 4 || len(w) > 16 {
		return false
	}
	for _, a := range authSchemes {
		if len(a) == len(w) && fold(w[0]) == a[0] && strings.EqualFold(w, a) {
			return true
		}
	}
	return false
}

func scanValue(s string, k int) int {
	for k < len(s) {
		switch s[k] {
		case ' ', '\t', '\r', '\n', ',', ';', '&', '}', ')', ']', '"', '\'', '`':
			return k
		}
		k++
	}
	return k
}

func isKeyByte(c byte) bool { return keyBytes[c] }

// keyBytes[c] reports whether c may be part of a key: '_', '-', '.', an
// ASCII letter or digit.
var keyBytes = func() (t [256]bool) {
	for c := range 256 {
		t[c] = c == '_' || c == '-' || c == '.' ||
			('a' <= c && c <= 'z') || ('A' <= c && c <= 'Z') || ('0' <= c && c <= '9')
	}
	return t
}()

// userinfo returns the bounds of the password of the URL whose authority
// starts at k ("app:hunter2@db" gives those of "hunter2"), or end <= start.
// The password runs to the URL's last '@', so that it may hold '@' and '/';
// the user name holds neither ("https://example.com/a:b@c" has no
// password).
func userinfo(s string, k int) (start, end int) {
	e := k
	for e < len(s) && !isBlank(s[e]) && s[e] != '"' && s[e] != '\'' && s[e] != '<' && s[e] != '>' {
		e++
	}
	url := s[k:e]
	at := strings.LastIndexByte(url, '@')
	colon := strings.IndexByte(url, ':')
	slash := strings.IndexByte(url, '/')
	if at > 0 && colon >= 0 && colon < at && (slash < 0 || colon < slash) && url[colon+1:at] != Mask {
		return k + colon + 1, k + at
	}
	return 0, 0
}

// laterDSNAt reports whether the DSN token that goes on at k holds another
// "@proto(".
func laterDSNAt(s string, k int) bool {
	for ; k < len(s) && !isBlank(s[k]) && s[k] != '"' && s[k] != '\''; k++ {
		if s[k] != '@' {
			continue
		}
		j := k + 1
		for j < len(s) && (('a' <= s[j] && s[j] <= 'z') || ('0' <= s[j] && s[j] <= '9')) {
			j++
		}
		if j > k+1 && j < len(s) && s[j] == '(' {
			return true
		}
	}
	return false
}

// maskDSN masks the password of Go MySQL data source names
// ("app:hunter2@tcp(db:3306)/shop", "app:pw@unix(/tmp/sock)/shop").
func maskDSN(s string) string {
	if !strings.Contains(s, "@") || !strings.Contains(s, "(") {
		return s
	}
	var m masker
	m.s = s
	for i := 0; i < len(s); i++ {
		if s[i] != '@' {
			continue
		}
		// "@proto(": proto is a run of letters and digits.
		j := i + 1
		for j < len(s) && (('a' <= s[j] && s[j] <= 'z') || ('0' <= s[j] && s[j] <= '9')) {
			j++
		}
		if j == i+1 || j >= len(s) || s[j] != '(' {
			continue
		}
		// The DSN starts after the last blank or quote before '@'; the
		// password follows its first ':'. It may hold '@': the last
		// "@proto(" of the DSN ends it.
		b := i
		for b > 0 && !isBlank(s[b-1]) && s[b-1] != '"' && s[b-1] != '\'' && s[b-1] != '=' {
			b--
		}
		if laterDSNAt(s, j) {
			continue // the password holds '@': the last "@proto(" ends it
		}
		if c := strings.IndexByte(s[b:i], ':'); c >= 0 && s[b+c+1:i] != Mask {
			m.mask(b+c+1, i)
		}
	}
	return m.String()
}
