package bench_test

import (
	"syscall"
	"testing"
	"time"
)

// warmUp is how long run calls f before it measures: a benchmark's first
// requests in a process land on a heap still growing to its working size
// (fresh pages: page faults, kernel time in cpu-ns; GC cycles at the
// minimum heap goal), and without it the first implementation of a
// comparison paid for that. Measured: BenchmarkSuccess alone in a fresh
// process, otelhttp's first run read ~8% more cpu-ns than its second run in
// the same process (median of 10 rounds) while otelkit's (run later) read
// the same, so otelkit/otelhttp read ~0.97x alone and ~1.08x in the suite;
// the suite's first benchmark, BenchmarkAuditEmit's hand-written emit, paid
// it the same way. BENCHMARKS.md, "Warm-up".
const warmUp = 25 * time.Millisecond

// cpuNow returns the CPU time (user + system) the process has used, in
// nanoseconds.
func cpuNow() int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return ru.Utime.Nano() + ru.Stime.Nano()
}

// run calls f once per iteration with allocations reported, and reports
// cpu-ns/op beside ns/op: the process's CPU time per iteration (including
// its GC work), which time spent waiting for a core does not inflate. The
// machine these benchmarks run on is shared and often has more runnable
// threads than cores; cpu-ns/op is the figure the targets use.
//
// Nothing is measured before f has run for warmUp.
func run(b *testing.B, f func()) {
	b.ReportAllocs()
	for end := time.Now().Add(warmUp); time.Now().Before(end); {
		for range 16 {
			f()
		}
	}
	start := cpuNow()
	for b.Loop() {
		f()
	}
	if b.N > 0 {
		b.ReportMetric(float64(cpuNow()-start)/float64(b.N), "cpu-ns/op")
	}
}
