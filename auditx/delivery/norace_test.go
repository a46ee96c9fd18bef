//go:build !race

package delivery

// raceEnabled reports whether the race detector is on.
const raceEnabled = false
