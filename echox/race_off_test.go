//go:build !race

package echox_test

const raceEnabled = false
