package delivery

import (
	"context"
	"runtime"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	sdklog "go.opentelemetry.io/otel/sdk/log"

	"github.com/otelkit/otelkit/auditx"
)

// BenchmarkOnEmit measures the emit path (clone, encode, enqueue) with the
// spool and the real OTLP/HTTP exporter behind it.
func BenchmarkOnEmit(b *testing.B) {
	rcv := newReceiver(b)
	p, err := NewProcessor(newExporter(b, rcv.addr), WithSpoolDir(b.TempDir()), WithEmitTimeout(time.Minute))
	if err != nil {
		b.Fatal(err)
	}
	rec := testRecord()
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		_ = p.OnEmit(ctx, rec)
	}
	b.StopTimer()
	_ = p.Shutdown(ctx)
}

// discardExporter accepts every batch and keeps nothing.
type discardExporter struct{}

func (discardExporter) Export(context.Context, []sdklog.Record) error { return nil }
func (discardExporter) Shutdown(context.Context) error                { return nil }
func (discardExporter) ForceFlush(context.Context) error              { return nil }

// BenchmarkEventEmitChain measures auditx's Event.Emit through the SDK
// into a spooling Processor, without and with the hash chain (signed
// checkpoints every 1000 records), side by side. Besides wall time it
// reports cpu-ns/op, the CPU time of the emitting thread (what the caller
// of Emit pays), which the spool writer's fsyncs and other processes on a
// shared machine do not inflate, and proc-cpu-ns/op, the CPU time of the
// whole process from the first emit until every record is delivered
// (ForceFlush): the emitting thread, the spool writer, which computes the
// chain, the deliverer and the garbage collector. minflt/op counts the
// emitting thread's minor page faults (fresh heap pages the kernel maps,
// in its cpu-ns/op):
//
//	go test -run '^$' -bench BenchmarkEventEmitChain -count 6 ./auditx/delivery/ | tee /tmp/chain.txt
//	benchstat -col /chain /tmp/chain.txt
func BenchmarkEventEmitChain(b *testing.B) {
	signer := testSigner(b)
	for _, bc := range []struct {
		name string
		opts []Option
	}{
		{"chain=off", nil},
		{"chain=on", []Option{WithChain(WithSigner(signer))}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			// A batch large enough that the spool writer (one fsync per batch)
			// never holds Emit up: the figure is the emitting side's cost.
			opts := append([]Option{WithSpoolDir(b.TempDir()), WithEmitTimeout(time.Minute), WithBatchSize(1 << 15), WithMemoryLimit(1 << 15)}, bc.opts...)
			p, err := NewProcessor(discardExporter{}, opts...)
			if err != nil {
				b.Fatal(err)
			}
			lp := sdklog.NewLoggerProvider(sdklog.WithProcessor(p))
			reg := auditx.NewRegistry(auditx.WithLoggerProvider(lp))
			ev := reg.Define("auth.login_failed", auditx.LevelWarn, "User '{user}' failed to log in from {client_ip}")
			ctx := context.Background()
			user, ip := attribute.String("user", "alice"), attribute.String("client_ip", "10.0.0.7")
			b.ReportAllocs()
			runtime.LockOSThread()
			defer runtime.UnlockOSThread()
			pstart, pok := processCPU()
			fstart, fok := threadFaults()
			start, ok := threadCPU()
			for b.Loop() {
				_ = ev.Emit(ctx, user, ip)
			}
			if end, ok2 := threadCPU(); ok && ok2 {
				b.ReportMetric(float64(end-start)/float64(b.N), "cpu-ns/op")
			}
			if end, ok2 := threadFaults(); fok && ok2 {
				b.ReportMetric(float64(end-fstart)/float64(b.N), "minflt/op")
			}
			b.StopTimer()
			if err := p.ForceFlush(ctx); err != nil {
				b.Fatal(err)
			}
			if end, ok2 := processCPU(); pok && ok2 {
				b.ReportMetric(float64(end-pstart)/float64(b.N), "proc-cpu-ns/op")
			}
			_ = lp.Shutdown(ctx)
		})
	}
}
