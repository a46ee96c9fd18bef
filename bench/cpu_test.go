package bench_test

import (
	"syscall"
	"testing"
)

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
func run(b *testing.B, f func()) {
	b.ReportAllocs()
	start := cpuNow()
	for b.Loop() {
		f()
	}
	if b.N > 0 {
		b.ReportMetric(float64(cpuNow()-start)/float64(b.N), "cpu-ns/op")
	}
}
