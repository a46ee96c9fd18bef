// Package keycache remembers [mask.Policy.Sensitive] for the keys of public
// info. The keys come from code (d.With("retry_after", …)), are few and come
// back on every error, while the policy's scan of a key costs a few hundred
// instructions, twice per rendered error (the body and telemetry).
//
// A Policy is immutable, so an answer stays right for as long as the policy
// lives. The cache keeps the answers of up to maxPolicies policies (a
// process has one or two: mask.Default() and a WithMask option), at most
// maxKeys keys each; a key or policy beyond that is answered by the policy
// every time, as without the cache.
package keycache

import (
	"maps"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/otelkit/otelkit/mask"
)

const (
	maxPolicies = 4
	maxKeys     = 256
)

// entry is a policy's answers; keys is never changed once published.
type entry struct {
	p    *mask.Policy
	keys map[string]bool
}

var (
	mu    sync.Mutex // serializes the writers of slots
	slots [maxPolicies]atomic.Pointer[entry]
)

// Sensitive returns p.Sensitive(key).
func Sensitive(p *mask.Policy, key string) bool {
	room := false
	for i := range slots {
		e := slots[i].Load()
		if e == nil {
			room = true
			break
		}
		if e.p == p {
			if v, ok := e.keys[key]; ok {
				return v
			}
			room = len(e.keys) < maxKeys
			break
		}
	}
	v := p.Sensitive(key)
	if room {
		remember(p, key, v)
	}
	return v
}

func remember(p *mask.Policy, key string, v bool) {
	mu.Lock()
	defer mu.Unlock()
	for i := range slots {
		e := slots[i].Load()
		if e == nil {
			slots[i].Store(&entry{p: p, keys: map[string]bool{strings.Clone(key): v}})
			return
		}
		if e.p != p {
			continue
		}
		if _, ok := e.keys[key]; ok || len(e.keys) >= maxKeys {
			return
		}
		m := maps.Clone(e.keys)
		m[strings.Clone(key)] = v // not a substring keeping a large string alive
		slots[i].Store(&entry{p: p, keys: m})
		return
	}
}
