package delivery

import (
	"context"
	"errors"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The fault tests run the real LoggerProvider -> Processor -> otlploghttp
// exporter -> OTLP/HTTP receiver on loopback and print what arrived.

// Fault test 1: 10,000 audits then Shutdown.
func TestFaultShutdownDeliversAll(t *testing.T) {
	t.Parallel()
	rcv := newReceiver(t)
	mr := newMetricsReader()
	p, err := NewProcessor(newExporter(t, rcv.addr),
		WithSpoolDir(t.TempDir()), WithMeterProvider(mr.mp),
		// The race detector and parallel tests slow the spool writer down;
		// this test measures delivery, not emit latency.
		WithEmitTimeout(time.Minute))
	require.NoError(t, err)
	l, lp := auditLogger(p)

	want := ids("s", 10_000)
	for _, id := range want {
		emitAudit(l, id)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	require.NoError(t, lp.Shutdown(ctx))

	c := rcv.counts(want)
	t.Logf("fault 1 (10k then shutdown): %v", c)
	assert.Equal(t, counts{emitted: 10_000, delivered: 10_000}, c)
	assert.EqualValues(t, 10_000, mr.sum(t, "otelkit.audit.emitted", ""))
	assert.EqualValues(t, 10_000, mr.sum(t, "otelkit.audit.delivered", ""))
	assert.EqualValues(t, 10_000, mr.sum(t, "otelkit.audit.spooled", ""))
	assert.EqualValues(t, 0, mr.sum(t, "otelkit.audit.dropped", ""))
}

// Fault test 2: receiver down while 5,000 audits are emitted, then up.
// No wall-clock pacing: the outage lasts until every audit is accepted, the
// emit timeout is long enough that a slow spool writer (race detector,
// parallel tests) cannot turn into drops, and the checks below only depend
// on the order of events, not on timing.
func TestFaultReceiverDown(t *testing.T) {
	t.Parallel()
	rcv := newDownReceiver(t)
	mr := newMetricsReader()
	sink := &errSink{}
	dir := t.TempDir()
	p, err := NewProcessor(newExporter(t, rcv.addr),
		WithSpoolDir(dir), WithMemoryLimit(1000), WithBatchSize(200),
		WithRetryBackoff(50*time.Millisecond, time.Second), WithEmitTimeout(time.Minute),
		WithMeterProvider(mr.mp), WithErrorHandler(sink.handle))
	require.NoError(t, err)
	l, lp := auditLogger(p)

	want := ids("d", 5000)
	for _, id := range want {
		emitAudit(l, id)
	}

	p.mu.Lock()
	inMem, ranges := len(p.mem), len(p.ranges)
	p.mu.Unlock()
	assert.LessOrEqual(t, inMem, 1000, "memory bounded by the limit")
	assert.NotZero(t, ranges, "records beyond the memory limit are only in the spool")
	assert.Zero(t, rcv.counts(want).delivered)

	rcv.start()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	require.NoError(t, lp.Shutdown(ctx))

	c := rcv.counts(want)
	t.Logf("fault 2 (receiver down while emitting): %v (export failures reported: %d, counted drops %d)",
		c, sink.count(), mr.sum(t, "otelkit.audit.dropped", ""))
	assert.EqualValues(t, 0, mr.sum(t, "otelkit.audit.dropped", ""))
	assert.Equal(t, 5000, c.delivered)
	assert.Zero(t, c.lost)
	// While down the receiver resets connections before reading a request,
	// so nothing reached it and the at-least-once rule allows no duplicate.
	assert.Zero(t, c.duplicated)
	assert.Empty(t, spoolFiles(t, dir, segExt), "delivered segments are removed")
	assert.EqualValues(t, 5000, mr.sum(t, "otelkit.audit.spooled", ""))
}

// Fault test 3a: receiver answering 503, then 200.
func TestFault503Then200(t *testing.T) {
	t.Parallel()
	rcv := newReceiver(t)
	rcv.status.Store(http.StatusServiceUnavailable)
	mr := newMetricsReader()
	p, err := NewProcessor(newExporter(t, rcv.addr),
		WithSpoolDir(t.TempDir()), WithMemoryLimit(500), WithBatchSize(100), WithEmitTimeout(time.Minute),
		WithRetryBackoff(20*time.Millisecond, 200*time.Millisecond),
		WithMeterProvider(mr.mp), WithErrorHandler(func(error) {}))
	require.NoError(t, err)
	l, lp := auditLogger(p)

	want := ids("u", 3000)
	for i, id := range want {
		emitAudit(l, id)
		if i == 2000 {
			rcv.mu.Lock()
			rejected := rcv.rejected
			rcv.mu.Unlock()
			require.NotZero(t, rejected, "the receiver said 503 at least once")
			rcv.status.Store(0)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	require.NoError(t, lp.Shutdown(ctx))

	c := rcv.counts(want)
	t.Logf("fault 3a (503 then 200): %v (503 answers: %d)", c, rcv.rejected)
	assert.Equal(t, counts{emitted: 3000, delivered: 3000}, c)
}

// Fault test 3b: a receiver that accepts slowly. Memory stays within the
// limit and the spool absorbs the backlog.
func TestFaultSlowReceiver(t *testing.T) {
	t.Parallel()
	rcv := newReceiver(t)
	rcv.delay.Store(int64(40 * time.Millisecond))
	mr := newMetricsReader()
	p, err := NewProcessor(newExporter(t, rcv.addr),
		WithSpoolDir(t.TempDir()), WithMemoryLimit(300), WithBatchSize(100),
		WithMeterProvider(mr.mp), WithEmitTimeout(time.Minute))
	require.NoError(t, err)
	l, lp := auditLogger(p)

	var maxMem, sawRange atomic.Int64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		for {
			p.mu.Lock()
			n, r := len(p.mem), len(p.ranges)
			p.mu.Unlock()
			if int64(n) > maxMem.Load() {
				maxMem.Store(int64(n))
			}
			if r > 0 {
				sawRange.Store(1)
			}
			select {
			case <-stop:
				return
			case <-time.After(time.Millisecond):
			}
		}
	})
	want := ids("w", 4000)
	for _, id := range want {
		emitAudit(l, id)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	require.NoError(t, lp.Shutdown(ctx))
	close(stop)
	wg.Wait()

	c := rcv.counts(want)
	t.Logf("fault 3b (slow receiver, 40ms/request): %v (max records in memory %d, limit 300; requests %d)", c, maxMem.Load(), rcv.requests)
	assert.Equal(t, counts{emitted: 4000, delivered: 4000}, c)
	assert.LessOrEqual(t, maxMem.Load(), int64(300))
	assert.EqualValues(t, 1, sawRange.Load(), "backlog went to the spool")
}

// Shutdown with the receiver down honours its deadline and says how many
// records are safe in the spool; the next Processor delivers them.
func TestShutdownDeadlineReportsSpooled(t *testing.T) {
	t.Parallel()
	rcv := newDownReceiver(t)
	dir := t.TempDir()
	p, err := NewProcessor(newExporter(t, rcv.addr), WithSpoolDir(dir),
		WithMemoryLimit(100), WithBatchSize(50), WithEmitTimeout(time.Minute), WithErrorHandler(func(error) {}))
	require.NoError(t, err)
	l, lp := auditLogger(p)
	want := ids("x", 700)
	for _, id := range want {
		emitAudit(l, id)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	err = lp.Shutdown(ctx)
	var ue *UndeliveredError
	require.ErrorAs(t, err, &ue)
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	assert.Equal(t, 700, ue.Undelivered)
	assert.Equal(t, 700, ue.Spooled)
	assert.Zero(t, ue.Lost())
	t.Logf("shutdown with receiver down: %v", err)

	rcv.start()
	p2, err := NewProcessor(newExporter(t, rcv.addr), WithSpoolDir(dir))
	require.NoError(t, err)
	ctx2, cancel2 := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel2()
	require.NoError(t, p2.Shutdown(ctx2))
	c := rcv.counts(want)
	t.Logf("after restart: %v", c)
	assert.Equal(t, counts{emitted: 700, delivered: 700}, c)
	assert.Empty(t, spoolFiles(t, dir, segExt))
}

func TestForceFlush(t *testing.T) {
	t.Parallel()
	rcv := newReceiver(t)
	p, err := NewProcessor(newExporter(t, rcv.addr), WithSpoolDir(t.TempDir()))
	require.NoError(t, err)
	l, lp := auditLogger(p)
	want := ids("f", 100)
	for _, id := range want {
		emitAudit(l, id)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	require.NoError(t, lp.ForceFlush(ctx))
	assert.Equal(t, 100, rcv.counts(want).delivered)

	rcv.stop()
	emitAudit(l, "f-late")
	short, cancel2 := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel2()
	err = p.ForceFlush(short)
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	rcv.start()
	require.NoError(t, lp.Shutdown(ctx))
	assert.True(t, rcv.has("f-late"))
	// After Shutdown everything is a no-op; Enabled stays true so that a
	// late emit reaches OnEmit and is counted (reason "shutdown").
	assert.NoError(t, p.Shutdown(ctx))
	assert.NoError(t, p.ForceFlush(ctx))
	assert.True(t, p.Enabled(ctx, sdklogEnabledParams()))
}

func TestInvalidOptions(t *testing.T) {
	for _, tt := range []struct {
		name string
		opt  Option
	}{
		{"memory", WithMemoryLimit(0)},
		{"batch", WithBatchSize(-1)},
		{"backoff", WithRetryBackoff(time.Second, time.Millisecond)},
		{"export timeout", WithExportTimeout(0)},
		{"emit timeout", WithEmitTimeout(-time.Second)},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := NewProcessor(newExporter(t, "127.0.0.1:1"), tt.opt)
			assert.Error(t, err)
		})
	}
	_, err := NewProcessor(nil)
	assert.Error(t, err)
	assert.False(t, errors.Is(err, context.Canceled))
}
