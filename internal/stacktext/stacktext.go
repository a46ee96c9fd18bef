// Package stacktext bounds stack traces in the text format otelkit writes
// to exception.stacktrace (that of a Go panic: per frame, a function line
// "pkg.Func()" and a location line "\tfile:line"), for every sink that
// writes or keeps one: span events and log records (internal/record) and
// the errtrack tracker.
package stacktext

import "strings"

// Limit says how many frames of a stack trace are kept: a negative Limit
// keeps all of them, 0 none, n > 0 at most n.
type Limit int

// All keeps every frame: the default of every option that takes a Limit.
const All Limit = -1

// Elided ends a stack trace whose frames were cut, as the Go runtime ends
// a traceback past its own bound.
const Elided = "...additional frames elided...\n"

// Truncate returns the first n frames of stack and [Elided] when some were
// cut; all of it when n < 0, "" when n is 0. The "goroutine N [...]:"
// header of a runtime traceback is kept and not counted.
func Truncate(stack string, n Limit) string {
	if n < 0 || stack == "" {
		return stack
	}
	if n == 0 {
		return ""
	}
	frames := Limit(0)
	for i := 0; i < len(stack); {
		end := strings.IndexByte(stack[i:], '\n')
		if end < 0 {
			return stack
		}
		// A function line starts the next frame; the header of a Go
		// traceback ("goroutine 1 [running]:") is not one.
		if stack[i] != '\t' && !strings.HasPrefix(stack[i:], "goroutine ") {
			if frames == n {
				return stack[:i] + Elided
			}
			frames++
		}
		i += end + 1
	}
	return stack
}
