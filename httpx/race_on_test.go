//go:build race

package httpx_test

// raceEnabled: the race detector drops sync.Pool items at random, so
// allocation counts of pooled paths vary under it.
const raceEnabled = true
