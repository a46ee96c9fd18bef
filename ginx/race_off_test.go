//go:build !race

package ginx_test

const raceEnabled = false
