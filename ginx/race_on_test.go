//go:build race

package ginx_test

// raceEnabled: the race detector changes allocation counts (and sync.Pool
// drops items at random under it).
const raceEnabled = true
