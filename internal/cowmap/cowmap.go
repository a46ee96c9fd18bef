// Package cowmap provides Map, a map for the caches otelkit reads on every
// request and writes a few times in a process's life (an attribute per
// route, what a renderer keeps per error definition): readers load the
// current map without a lock, a writer copies it under a mutex and
// publishes the copy. A read is an atomic load and a plain map lookup (for
// a pointer or string key, the runtime's fast variant: a small map is
// scanned without hashing a pointer), where a sync.Map hashes an interface.
package cowmap

import (
	"maps"
	"sync"
	"sync/atomic"
)

// Map is a copy-on-write map from K to V. Its zero value is empty and
// ready to use; it must not be copied after first use.
type Map[K comparable, V any] struct {
	cur atomic.Pointer[map[K]V]
	mu  sync.Mutex // serializes the writers of cur
}

// Load returns the value kept for k.
func (m *Map[K, V]) Load(k K) (v V, ok bool) {
	if p := m.cur.Load(); p != nil {
		v, ok = (*p)[k]
	}
	return v, ok
}

// LoadOrMake returns the value kept for k. The first time, it makes it
// with mk, under the writers' lock so that each key's value is made once,
// and keeps it, unless the map holds max entries already (max > 0): then
// the value mk makes is returned and not kept, every time.
//
// A hot path calls Load first, which inlines, and LoadOrMake when Load
// finds nothing: LoadOrMake is a call, and its mk a closure.
func (m *Map[K, V]) LoadOrMake(k K, max int, mk func() V) V {
	m.mu.Lock()
	defer m.mu.Unlock()
	old := m.cur.Load()
	if old != nil {
		if v, ok := (*old)[k]; ok {
			return v
		}
		if max > 0 && len(*old) >= max {
			return mk()
		}
	}
	next := make(map[K]V, 1)
	if old != nil {
		next = maps.Clone(*old)
	}
	v := mk()
	next[k] = v
	m.cur.Store(&next)
	return v
}

// Len returns the number of values kept.
func (m *Map[K, V]) Len() int {
	if p := m.cur.Load(); p != nil {
		return len(*p)
	}
	return 0
}
