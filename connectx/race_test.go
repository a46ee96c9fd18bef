//go:build race

package connectx_test

// raceEnabled: the race detector adds allocations, so budgets do not apply.
const raceEnabled = true
