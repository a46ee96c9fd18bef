package mask

import (
	"strings"
	"sync/atomic"

	"go.opentelemetry.io/otel/attribute"
)

// Mask is the text written in place of a sensitive value.
const Mask = "**************"

// DefaultKeys are the words that make a key sensitive under [Default].
func DefaultKeys() []string {
	return []string{"password", "secret", "token", "authorization", "cookie", "api_key"}
}

// Policy decides which keys are sensitive. The zero value and a nil *Policy
// mask nothing. A Policy is immutable and safe for concurrent use.
type Policy struct {
	words []string // lower-case ASCII
}

// New returns a policy that treats a key as sensitive when it contains one of
// words, ignoring ASCII case and treating '-' and '_' alike (so "api_key"
// matches the header "X-Api-Key"). Empty words are ignored.
func New(words ...string) *Policy {
	p := &Policy{}
	for _, w := range words {
		if w = strings.TrimSpace(w); w != "" {
			p.words = append(p.words, strings.ReplaceAll(strings.ToLower(w), "-", "_"))
		}
	}
	return p
}

var defaultPolicy atomic.Pointer[Policy]

// Default returns the process-wide policy: [DefaultKeys] unless [SetDefault]
// replaced it.
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

// Sensitive reports whether values under key must be masked. It does not
// allocate.
func (p *Policy) Sensitive(key string) bool {
	if p == nil {
		return false
	}
	for _, w := range p.words {
		if containsFold(key, w) {
			return true
		}
	}
	return false
}

// String returns s, or [Mask] when key is sensitive.
func (p *Policy) String(key, s string) string {
	if p.Sensitive(key) {
		return Mask
	}
	return s
}

// Attr returns kv, with its value replaced by [Mask] when its key is
// sensitive.
func (p *Policy) Attr(kv attribute.KeyValue) attribute.KeyValue {
	if p.Sensitive(string(kv.Key)) {
		return attribute.String(string(kv.Key), Mask)
	}
	return kv
}

// Attrs masks the sensitive values of kvs in place and returns kvs.
func (p *Policy) Attrs(kvs []attribute.KeyValue) []attribute.KeyValue {
	for i := range kvs {
		kvs[i] = p.Attr(kvs[i])
	}
	return kvs
}

// containsFold reports whether s contains lower (already lower-case ASCII,
// '-' written as '_'), ignoring ASCII case and '-'/'_', without allocating.
func containsFold(s, lower string) bool {
	n := len(lower)
	if n == 0 {
		return true
	}
	for i := 0; i+n <= len(s); i++ {
		j := 0
		for j < n {
			c := s[i+j]
			if 'A' <= c && c <= 'Z' {
				c += 'a' - 'A'
			} else if c == '-' {
				c = '_'
			}
			if c != lower[j] {
				break
			}
			j++
		}
		if j == n {
			return true
		}
	}
	return false
}
