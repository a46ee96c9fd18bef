package bench_test

import (
	"os"
	"runtime/metrics"
	"syscall"
	"testing"
	"time"
)

// warmUp calls f until the process's heap has its working size, before
// anything is measured: until the GC has run two cycles since warmUp began
// (at least warmUpMin, at most warmUpMax; a benchmark that allocates
// nothing stops at warmUpMin). Without it, a benchmark's first requests in a
// process landed on a heap still growing (fresh pages: page faults, kernel
// time in cpu-ns) and the first implementation of a comparison paid for
// that. Measured: BenchmarkSuccess alone in a fresh process, otelhttp's
// first run read ~16% more cpu-ns than its second run in the same process
// (median of 10 rounds) while otelkit's (run later) read the same, so
// otelkit/otelhttp read ~0.97x alone and ~1.08x in the suite; the suite's
// first benchmark, BenchmarkAuditEmit's hand-written emit, paid it too. A
// fixed 25 ms was not enough under GOGC=400 (heap goal 16 MB): the audit
// line read 0.71x there. BENCHMARKS.md, Method, "Warm-up".
func warmUp(f func()) {
	samples := []metrics.Sample{{Name: "/gc/cycles/total:gc-cycles"}, {Name: "/gc/heap/allocs:bytes"}}
	metrics.Read(samples)
	cycles, bytes := samples[0].Value.Uint64(), samples[1].Value.Uint64()
	start := time.Now()
	for {
		for range 16 {
			f()
		}
		if took := time.Since(start); took < warmUpMin {
			continue
		} else if took >= warmUpMax {
			return
		}
		metrics.Read(samples)
		if samples[0].Value.Uint64()-cycles >= 2 || samples[1].Value.Uint64() == bytes {
			return
		}
	}
}

// noWarmUp skips warmUp (BENCH_WARMUP=off): for counting instructions
// under valgrind (grpc-instructions.sh), where the warm-up's length, set by
// wall time and GC cycles, would differ from run to run and its calls
// would not cancel out of the difference of two iteration counts.
var noWarmUp = os.Getenv("BENCH_WARMUP") == "off"

const (
	warmUpMin = 25 * time.Millisecond
	warmUpMax = time.Second
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
//
// Nothing is measured before warmUp.
func run(b *testing.B, f func()) {
	b.ReportAllocs()
	if !noWarmUp {
		warmUp(f)
	}
	start := cpuNow()
	for b.Loop() {
		f()
	}
	if b.N > 0 {
		b.ReportMetric(float64(cpuNow()-start)/float64(b.N), "cpu-ns/op")
	}
}
