//go:build race

package record_test

// raceEnabled: the race detector changes allocation counts.
const raceEnabled = true
