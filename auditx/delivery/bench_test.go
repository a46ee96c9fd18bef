package delivery

import (
	"context"
	"testing"
	"time"
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
