//go:build !race

package auditx_test

// raceEnabled reports whether the race detector is on.
const raceEnabled = false
