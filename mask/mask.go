package mask

import (
	"strings"
	"sync/atomic"

	"go.opentelemetry.io/otel/attribute"
)

// Mask is the text written in place of a sensitive value.
const Mask = "**************"

// DefaultKeys are the words that make a key sensitive under [Default].
//
// The list covers Sentry's default scrub list: sentry-python's
// DEFAULT_DENYLIST (sentry_sdk/scrubber.py, "stolen from relay": password,
// passwd, secret, api_key, apikey, auth, credentials, mysql_pwd,
// privatekey, private_key, token, ip_address, session, csrftoken,
// sessionid, remote_addr, x_csrftoken, x_forwarded_for, set_cookie, cookie,
// authorization, x_api_key, x_real_ip, aiohttp_session, connect.sid,
// csrf_token, csrf, _csrf, _csrf_token, PHPSESSID, _session, symfony,
// user_session, _xsrf, XSRF-TOKEN). Because a key is sensitive when it
// contains a word, the shorter words below cover the longer entries
// ("session" covers sessionid and aiohttp_session, "csrf" covers csrftoken,
// "pwd" covers mysql_pwd, "auth" covers authorization).
func DefaultKeys() []string {
	return []string{
		"password", "passwd", "pwd", "secret", "token", "api_key", "apikey",
		"auth", "credential", "private_key", "privatekey", "session", "sessid",
		"cookie", "csrf", "xsrf", "connect.sid", "symfony",
		"ip_address", "remote_addr", "x_forwarded_for", "x_real_ip",
	}
}

// Policy decides which keys are sensitive and which values in free text are
// secrets. The zero value and a nil *Policy mask nothing. A Policy is
// immutable and safe for concurrent use.
type Policy struct {
	words []string  // lower-case ASCII, '-' written as '_'
	one   [4]uint64 // bit c: the one-byte word c
	// The words of two bytes or more, grouped by the hash of their first
	// two bytes (pairHash): pairWords[pairStart[h]:pairStart[h+1]] are the
	// words whose first two bytes hash to h. A key can contain a word only
	// at a position whose two bytes hash to a non-empty group, so most
	// positions are ruled out without looking at a word, and the others
	// look at their group's words only. Built by index.
	pairStart [pairBits + 1]uint32
	pairWords []string
	patterns  Pattern
}

// New returns a policy that treats a key as sensitive when it contains one of
// words, ignoring ASCII case and treating '-' and '_' alike (so "api_key"
// matches the header "X-Api-Key"). Empty words are ignored. The policy also
// looks for every value pattern ([AllPatterns]) in free text; change that
// with [Policy.With] and [WithPatterns].
func New(words ...string) *Policy {
	p := &Policy{patterns: AllPatterns}
	p.addWords(words)
	p.index()
	return p
}

// index groups the words of two bytes or more by pairHash (see
// Policy.pairStart).
func (p *Policy) index() {
	var count [pairBits]uint32
	for _, w := range p.words {
		if len(w) > 1 {
			count[pairHash(w[0], w[1])]++
		}
	}
	n := uint32(0)
	for h := range count {
		p.pairStart[h] = n
		n += count[h]
	}
	p.pairStart[pairBits] = n
	p.pairWords = make([]string, n)
	next := p.pairStart
	for _, w := range p.words {
		if len(w) > 1 {
			h := pairHash(w[0], w[1])
			p.pairWords[next[h]] = w
			next[h]++
		}
	}
}

func (p *Policy) addWords(words []string) {
	for _, w := range words {
		if w = strings.TrimSpace(w); w != "" {
			w = strings.ReplaceAll(strings.ToLower(w), "-", "_")
			p.words = append(p.words, w)
			if len(w) == 1 {
				p.one[w[0]>>6] |= 1 << (w[0] & 63)
			}
		}
	}
}

// Option changes a policy made by [Policy.With].
type Option func(*Policy)

// WithKeys adds words to the words that make a key sensitive.
func WithKeys(words ...string) Option {
	return func(p *Policy) { p.addWords(words) }
}

// WithPatterns sets the value patterns that [Policy.Text] masks wherever
// they appear in free text; [AllPatterns] by default, 0 for none.
func WithPatterns(ps Pattern) Option {
	return func(p *Policy) { p.patterns = ps & AllPatterns }
}

// With returns a copy of p changed by opts; p itself is left as it is.
//
//	p := mask.Default().With(mask.WithKeys("ssn"), mask.WithPatterns(mask.AllPatterns&^mask.CardNumbers))
func (p *Policy) With(opts ...Option) *Policy {
	q := &Policy{}
	if p != nil {
		q.words = append([]string(nil), p.words...)
		q.one = p.one
		q.patterns = p.patterns
	}
	for _, o := range opts {
		if o != nil {
			o(q)
		}
	}
	q.index()
	return q
}

var defaultPolicy atomic.Pointer[Policy]

// Default returns the process-wide policy: [DefaultKeys] and [AllPatterns]
// unless [SetDefault] replaced it.
func Default() *Policy {
	if p := defaultPolicy.Load(); p != nil {
		return p
	}
	defaultPolicy.CompareAndSwap(nil, New(DefaultKeys()...))
	return defaultPolicy.Load()
}

// SetDefault makes p the process-wide policy. Call it at start-up, before
// any value is written; a nil p restores the built-in default.
func SetDefault(p *Policy) {
	if p == nil {
		p = New(DefaultKeys()...)
	}
	defaultPolicy.Store(p)
}

// Words returns a copy of the words that make a key sensitive.
func (p *Policy) Words() []string {
	if p == nil {
		return nil
	}
	return append([]string(nil), p.words...)
}

// Patterns returns the value patterns that [Policy.Text] masks.
func (p *Policy) Patterns() Pattern {
	if p == nil {
		return 0
	}
	return p.patterns
}

// Sensitive reports whether values under key must be masked. It does not
// allocate.
func (p *Policy) Sensitive(key string) bool {
	if p == nil || len(p.words) == 0 {
		return false
	}
	if len(key) == 0 {
		return false
	}
	c := fold(key[0])
	for i := 1; i <= len(key); i++ {
		if p.one[c>>6]&(1<<(c&63)) != 0 {
			return true
		}
		if i == len(key) {
			break
		}
		next := fold(key[i])
		h := pairHash(c, next)
		for _, w := range p.pairWords[p.pairStart[h]:p.pairStart[h+1]] {
			if w[0] == c && w[1] == next && hasPrefixFold(key[i-1:], w) {
				return true
			}
		}
		c = next
	}
	return false
}

// pairBits is the number of pairHash values.
const pairBits = 1024

// pairHash hashes two folded bytes into [0, pairBits).
func pairHash(a, b byte) uint {
	return (uint(a)*31 + uint(b)) & (pairBits - 1)
}

// fold lower-cases an ASCII letter and writes '-' as '_'.
func fold(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	if c == '-' {
		return '_'
	}
	return c
}

// hasPrefixFold reports whether s starts with lower (folded already),
// comparing s folded.
func hasPrefixFold(s, lower string) bool {
	if len(s) < len(lower) {
		return false
	}
	for j := 0; j < len(lower); j++ {
		if fold(s[j]) != lower[j] {
			return false
		}
	}
	return true
}

// String returns s, or [Mask] when key is sensitive.
func (p *Policy) String(key, s string) string {
	if p.Sensitive(key) {
		return Mask
	}
	return s
}

// Attr returns kv masked: its whole value is [Mask] when its key is
// sensitive; otherwise strings (alone or in a string slice) go through
// [Policy.Text], and maps and slices (attribute.Map, attribute.Slice) are
// masked the same way at any depth, by their inner keys. kv is returned as
// it is, without allocating, when nothing is masked.
func (p *Policy) Attr(kv attribute.KeyValue) attribute.KeyValue {
	if p == nil {
		return kv
	}
	if p.Sensitive(string(kv.Key)) {
		return attribute.String(string(kv.Key), Mask)
	}
	if v, changed := p.AttrValue(kv.Value); changed {
		kv.Value = v
	}
	return kv
}

// AttrValue returns v masked as [Policy.Attr] masks the value of a key that
// is not sensitive, and whether anything was masked.
func (p *Policy) AttrValue(v attribute.Value) (attribute.Value, bool) {
	return p.attrValue(v, 0)
}

// maxDepth bounds the recursion into nested values; deeper values are
// replaced by [Mask].
const maxDepth = 32

func (p *Policy) attrValue(v attribute.Value, depth int) (attribute.Value, bool) {
	if p == nil {
		return v, false
	}
	switch v.Type() {
	case attribute.STRING:
		s := v.AsString()
		if m := p.Text(s); m != s {
			return attribute.StringValue(m), true
		}
	case attribute.STRINGSLICE:
		ss := v.AsStringSlice()
		var out []string
		for i, s := range ss {
			if m := p.Text(s); m != s {
				if out == nil {
					out = append([]string(nil), ss...)
				}
				out[i] = m
			}
		}
		if out != nil {
			return attribute.StringSliceValue(out), true
		}
	case attribute.SLICE:
		if depth >= maxDepth {
			return attribute.StringValue(Mask), true
		}
		vs := v.AsSlice()
		var out []attribute.Value
		for i, inner := range vs {
			if m, c := p.attrValue(inner, depth+1); c {
				if out == nil {
					out = append([]attribute.Value(nil), vs...)
				}
				out[i] = m
			}
		}
		if out != nil {
			return attribute.SliceValue(out...), true
		}
	case attribute.MAP:
		if depth >= maxDepth {
			return attribute.StringValue(Mask), true
		}
		kvs := v.AsMap()
		var out []attribute.KeyValue
		for i, inner := range kvs {
			m := inner
			if p.Sensitive(string(inner.Key)) {
				m.Value = attribute.StringValue(Mask)
			} else if mv, c := p.attrValue(inner.Value, depth+1); c {
				m.Value = mv
			} else {
				continue
			}
			if out == nil {
				out = append([]attribute.KeyValue(nil), kvs...)
			}
			out[i] = m
		}
		if out != nil {
			return attribute.MapValue(out...), true
		}
	}
	return v, false
}

// Attrs masks kvs in place with [Policy.Attr] and returns kvs.
func (p *Policy) Attrs(kvs []attribute.KeyValue) []attribute.KeyValue {
	for i := range kvs {
		kvs[i] = p.Attr(kvs[i])
	}
	return kvs
}
