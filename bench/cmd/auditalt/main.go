// Command auditalt measures the audit emit against the hand-written emit of
// the same record (bench.HandAudit) in one process, alternating blocks of
// each: the ratio of their thread CPU time holds on a loaded machine where
// BenchmarkAuditEmit's rounds, a tenth of a second apart, move by ±10-30%.
// Each block runs -per emits of one implementation; blocks alternate
// hand, auditx, auditx, hand, ... so that neither always runs after the
// other. It reports CPU time per emit of each, the ratio of the sums and
// the median and quartiles of the per-pair ratios. GOGC applies as usual;
// with GOGC=off the heap grows without bound, so use 100 or 400.
//
//	go build -o /tmp/auditalt ./cmd/auditalt && GOGC=400 /tmp/auditalt
package main

import (
	"flag"
	"fmt"
	"runtime"
	"sort"
	"syscall"
	"time"
	"unsafe"

	"go.opentelemetry.io/otel/attribute"

	"github.com/otelkit/otelkit/auditx"
	"github.com/otelkit/otelkit/bench"
)

// threadCPU returns the CPU time of the calling thread
// (CLOCK_THREAD_CPUTIME_ID: getrusage's is too coarse for a block).
func threadCPU() time.Duration {
	var ts syscall.Timespec
	const clockThreadCPUTime = 3
	syscall.Syscall(syscall.SYS_CLOCK_GETTIME, clockThreadCPUTime, uintptr(unsafe.Pointer(&ts)), 0)
	return time.Duration(ts.Nano())
}

func main() {
	pairs := flag.Int("pairs", 400, "pairs of blocks")
	per := flag.Int("per", 1000, "emits per block")
	flag.Parse()
	runtime.LockOSThread()
	tel := bench.NewTelemetry()
	ctx := bench.AuditCtx()
	reg := auditx.NewRegistry(auditx.WithLoggerProvider(tel.Logger))
	ev := reg.Define(bench.AuditType, auditx.LevelWarn, bench.AuditTemplate)
	logger := tel.Logger.Logger(auditx.ScopeName)
	kit := func() {
		_ = ev.Emit(ctx, attribute.String("user", bench.AuditUser), attribute.String("client_ip", bench.AuditIP),
			attribute.String("password", bench.AuditPassword))
	}
	hand := func() { bench.HandAudit(ctx, logger, bench.AuditUser, bench.AuditIP, bench.AuditPassword) }
	for range 200_000 { // warm-up: the heap reaches its size, the GC cycles
		kit()
		hand()
	}
	block := func(f func()) time.Duration {
		t0 := threadCPU()
		for range *per {
			f()
		}
		return threadCPU() - t0
	}
	var ratios []float64
	var sumHand, sumKit time.Duration
	for i := range *pairs {
		var h, k time.Duration
		if i%2 == 0 {
			h = block(hand)
			k = block(kit)
		} else {
			k = block(kit)
			h = block(hand)
		}
		sumHand += h
		sumKit += k
		ratios = append(ratios, float64(k)/float64(h))
	}
	sort.Float64s(ratios)
	n := float64(*pairs * *per)
	fmt.Printf("hand %.0f ns/emit, auditx %.0f ns/emit, ratio of sums %.3f, per-pair ratio median %.3f (q1 %.3f, q3 %.3f)\n",
		float64(sumHand)/n, float64(sumKit)/n, float64(sumKit)/float64(sumHand),
		ratios[len(ratios)/2], ratios[len(ratios)/4], ratios[3*len(ratios)/4])
}
