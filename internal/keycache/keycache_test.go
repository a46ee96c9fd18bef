package keycache

import (
	"fmt"
	"sync"
	"testing"

	"github.com/otelkit/otelkit/mask"
)

// reset empties the cache (tests only).
func reset() {
	mu.Lock()
	defer mu.Unlock()
	for i := range slots {
		slots[i].Store(nil)
	}
}

// TestSameAnswers: the cache answers as the policy does, for every policy
// and key, cached or not, beyond the bounds too, and concurrently (-race).
func TestSameAnswers(t *testing.T) {
	reset()
	t.Cleanup(reset)
	policies := []*mask.Policy{nil, mask.Default(), mask.New("retry"), mask.New(), mask.New("ssn", "pin"), mask.New("after"), mask.New("x")}
	keys := []string{"", "retry_after", "password", "X-Api-Key", "user", "ssn_last4", "Retry-After", "pinned", "session_id"}
	for i := range 300 {
		keys = append(keys, fmt.Sprintf("key_%d", i), fmt.Sprintf("token_%d", i))
	}
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for round := range 2 {
				for _, p := range policies[g%2:] {
					for _, k := range keys {
						if got, want := Sensitive(p, k), p.Sensitive(k); got != want {
							t.Errorf("round %d: Sensitive(%v, %q) = %v, the policy says %v", round, p.Words(), k, got, want)
							return
						}
					}
				}
			}
		}()
	}
	wg.Wait()
	for i := range slots {
		if e := slots[i].Load(); e != nil && len(e.keys) > maxKeys {
			t.Errorf("slot %d holds %d keys, bound %d", i, len(e.keys), maxKeys)
		}
	}
}

// TestCachedAllocatesNothing: a cached answer costs no allocation.
func TestCachedAllocatesNothing(t *testing.T) {
	reset()
	t.Cleanup(reset)
	p := mask.Default()
	Sensitive(p, "retry_after")
	if got := testing.AllocsPerRun(100, func() { Sensitive(p, "retry_after") }); got != 0 {
		t.Errorf("%v allocations per cached Sensitive", got)
	}
}
