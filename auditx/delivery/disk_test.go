package delivery

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// diskFault emits n audits with the receiver down and a spool in dir that
// cannot take them all, then brings the receiver up and shuts down. It
// checks that nothing blocks, that what could be neither spooled nor kept in
// memory is counted as dropped with reason, and that the rest is delivered.
func diskFault(t *testing.T, name, dir, reason string, n int, opts ...Option) {
	t.Helper()
	const memLimit, emitTimeout = 100, 200 * time.Millisecond
	rcv := newDownReceiver(t)
	mr := newMetricsReader()
	sink := &errSink{}
	opts = append([]Option{
		WithSpoolDir(dir), WithMemoryLimit(memLimit), WithBatchSize(50), WithEmitTimeout(emitTimeout),
		WithRetryBackoff(20*time.Millisecond, 200*time.Millisecond),
		WithMeterProvider(mr.mp), WithErrorHandler(sink.handle),
	}, opts...)
	p, err := NewProcessor(newExporter(t, rcv.addr), opts...)
	require.NoError(t, err, "an unusable spool never fails start-up")
	l, lp := auditLogger(p)

	want := ids("q", n)
	var slowest time.Duration
	for _, id := range want {
		start := time.Now()
		emitAudit(l, id)
		slowest = max(slowest, time.Since(start))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	rcv.start()
	err = lp.Shutdown(ctx)

	c := rcv.counts(want)
	dropped := mr.sum(t, "otelkit.audit.dropped", reason)
	spooled := mr.sum(t, "otelkit.audit.spooled", "")
	t.Logf("fault 5 (%s): %v (spooled=%d dropped{reason=%s}=%d, slowest OnEmit %v)", name, c, spooled, reason, dropped, slowest)

	// Under load (race detector, parallel tests) an OnEmit can also wait out
	// the emit timeout: that drop is counted with reason emit_timeout, so
	// the accounting is checked over all reasons.
	all := mr.sum(t, "otelkit.audit.dropped", "")
	assert.NotZero(t, dropped, "drops counted with reason %s", reason)
	assert.EqualValues(t, c.lost, all, "every loss is a counted drop")
	assert.EqualValues(t, n, int64(c.delivered)+all)
	assert.Zero(t, c.duplicated)
	assert.GreaterOrEqual(t, c.delivered, memLimit, "memory still carries records")
	assert.True(t, sink.contains(reason), "reported through the error handler")
	assert.Equal(t, mr.sum(t, "otelkit.audit.dropped", ""), sink.droppedReported(), "every drop reported")
	// Hang guard, not a latency assertion (the machine is shared and a
	// starved goroutine can stall for seconds): OnEmit waits on the disk for
	// at most the emit timeout. BenchmarkOnEmit measures the emit path.
	assert.Less(t, slowest, emitTimeout+10*time.Second)
	var ue *UndeliveredError
	require.ErrorAs(t, err, &ue)
	assert.EqualValues(t, all, ue.Dropped)
	assert.Zero(t, ue.Undelivered)
}

// Fault test 5b: a spool path that cannot be a directory. Running as root
// ignores permission bits, so the path is under a regular file (ENOTDIR);
// see disk_linux_test.go for a read-only filesystem.
func TestFaultSpoolNotADirectory(t *testing.T) {
	t.Parallel()
	file := filepath.Join(t.TempDir(), "file")
	require.NoError(t, os.WriteFile(file, nil, 0o600))
	diskFault(t, "spool path under a regular file", filepath.Join(file, "spool"), ReasonSpoolUnwritable, 300)
}

// Fault test 5c: the spool size cap is reached.
func TestFaultSpoolSizeCap(t *testing.T) {
	t.Parallel()
	diskFault(t, "spool size cap 64 KiB", t.TempDir(), ReasonSpoolFull, 2000, WithMaxSpoolBytes(64<<10))
}

// Two Processors never append to one spool: the second finds it locked,
// says so and runs from memory.
func TestSpoolLockedBySecondProcessor(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	rcv := newReceiver(t)
	p1, err := NewProcessor(newExporter(t, rcv.addr), WithSpoolDir(dir))
	require.NoError(t, err)
	sink := &errSink{}
	p2, err := NewProcessor(newExporter(t, rcv.addr), WithSpoolDir(dir), WithErrorHandler(sink.handle))
	require.NoError(t, err)
	assert.True(t, sink.contains("in use by another process"))
	l, lp := auditLogger(p2)
	emitAudit(l, "lock-0")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	require.NoError(t, lp.Shutdown(ctx))
	require.NoError(t, p1.Shutdown(ctx))
	assert.True(t, rcv.has("lock-0"))
}
