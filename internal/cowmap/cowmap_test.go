package cowmap

import (
	"strconv"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
)

// TestLoadOrMake: a key's value is made once and kept; Load finds it.
func TestLoadOrMake(t *testing.T) {
	var m Map[string, *int]
	made := 0
	mk := func() *int { made++; v := made; return &v }
	a := m.LoadOrMake("a", 0, mk)
	assert.Same(t, a, m.LoadOrMake("a", 0, mk), "made once, kept")
	b := m.LoadOrMake("b", 0, mk)
	assert.NotSame(t, a, b)
	got, ok := m.Load("b")
	assert.True(t, ok)
	assert.Same(t, b, got)
	_, ok = m.Load("c")
	assert.False(t, ok)
	assert.Equal(t, 2, made)
	assert.Equal(t, 2, m.Len())
}

// TestMax: past max entries a value is made on every call and not kept;
// the values kept before stay.
func TestMax(t *testing.T) {
	var m Map[int, *int]
	mk := func() *int { return new(int) }
	first := m.LoadOrMake(1, 2, mk)
	m.LoadOrMake(2, 2, mk)
	x := m.LoadOrMake(3, 2, mk)
	assert.NotSame(t, x, m.LoadOrMake(3, 2, mk), "not kept past max")
	assert.Same(t, first, m.LoadOrMake(1, 2, mk))
	assert.Equal(t, 2, m.Len())
}

// TestConcurrent: many goroutines asking for the same keys get one value
// per key, made once (run with -race).
func TestConcurrent(t *testing.T) {
	var m Map[string, *int]
	var made atomic.Int32
	var wg sync.WaitGroup
	got := make([][]*int, 8)
	for g := range got {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 50 {
				got[g] = append(got[g], m.LoadOrMake(strconv.Itoa(i), 0, func() *int {
					made.Add(1)
					return new(int)
				}))
			}
		}()
	}
	wg.Wait()
	assert.EqualValues(t, 50, made.Load(), "each key's value made once")
	for g := range got {
		for i := range got[g] {
			assert.Same(t, got[0][i], got[g][i])
		}
	}
}

// TestLoadAllocs: a read allocates nothing.
func TestLoadAllocs(t *testing.T) {
	var m Map[*int, string]
	k := new(int)
	m.LoadOrMake(k, 0, func() string { return "v" })
	assert.Zero(t, testing.AllocsPerRun(100, func() { _ = m.LoadOrMake(k, 0, func() string { return "w" }) }))
}
