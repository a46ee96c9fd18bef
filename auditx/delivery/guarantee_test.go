package delivery

import (
	"context"
	"os"
	"path/filepath"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Every record given up is reported through the error handler: a burst of
// drops far above the rate limit, then quiet, is fully reported by the
// writer's timer before Shutdown; Shutdown reports the records it leaves in
// memory; OnEmit after Shutdown counts and reports its drop. At each step the
// Count of the DroppedErrors received adds up to otelkit.audit.dropped.
func TestDropsAllReported(t *testing.T) {
	t.Parallel()
	rcv := newDownReceiver(t)
	mr := newMetricsReader()
	sink := &errSink{}
	// No spool and a tiny memory: nearly every record is dropped, in
	// hundreds of reports within the rate limiter's interval.
	p, err := NewProcessor(newExporter(t, rcv.addr), WithMemoryLimit(10), WithBatchSize(10), WithEmitTimeout(0),
		WithRetryBackoff(10*time.Millisecond, 50*time.Millisecond),
		WithMeterProvider(mr.mp), WithErrorHandler(sink.handle))
	require.NoError(t, err)
	l, lp := auditLogger(p)
	const n = 20_000
	for _, id := range ids("b", n) {
		emitAudit(l, id)
	}
	burst := sink.count()

	// Quiet: the held-back reports arrive without any further activity.
	var counted, reported int64
	ok := waitFor(5*time.Second, func() bool {
		counted, reported = mr.sum(t, "otelkit.audit.dropped", ""), sink.droppedReported()
		return counted > 0 && reported == counted
	})
	assert.True(t, ok, "reported %d of %d dropped records after the burst", reported, counted)
	assert.Greater(t, counted, int64(n-100), "the burst dropped nearly everything")
	t.Logf("burst: %d records dropped, %d handler calls during the burst, %d in all", counted, burst, sink.count())

	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	err = lp.Shutdown(ctx)
	var ue *UndeliveredError
	require.ErrorAs(t, err, &ue)
	assert.Equal(t, 10, ue.Lost(), "the memory's records are lost (no spool)")
	assert.EqualValues(t, ue.Lost(), mr.sum(t, "otelkit.audit.dropped", ReasonShutdown))
	assert.Equal(t, mr.sum(t, "otelkit.audit.dropped", ""), sink.droppedReported(), "after Shutdown")

	// After Shutdown: counted as emitted and dropped, and reported at once.
	for range 3 {
		require.NoError(t, p.OnEmit(context.Background(), testRecord()))
	}
	assert.EqualValues(t, ue.Lost()+3, mr.sum(t, "otelkit.audit.dropped", ReasonShutdown))
	assert.Equal(t, mr.sum(t, "otelkit.audit.dropped", ""), sink.droppedReported(), "OnEmit after Shutdown")
	assert.EqualValues(t, n+3, mr.sum(t, "otelkit.audit.emitted", ""))
	assert.Equal(t, mr.sum(t, "otelkit.audit.emitted", ""), mr.sum(t, "otelkit.audit.dropped", ""),
		"nothing delivered: every emitted record is a counted drop")
}

// A spool whose fsync never returns does not hold Shutdown past its
// context: Shutdown says the spool is stuck and counts the records being
// written as not spooled. When the disk answers, the records reach the spool
// and the next Processor delivers them.
func TestShutdownHungFsync(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	rcv := newDownReceiver(t)
	release := make(chan struct{})
	var hung atomic.Int32
	hook := optionFunc(func(c *config) {
		c.syncFile = func(f *os.File) error {
			hung.Add(1)
			<-release
			return f.Sync()
		}
	})
	p, err := NewProcessor(newExporter(t, rcv.addr), WithSpoolDir(dir), WithErrorHandler(func(error) {}), hook)
	require.NoError(t, err)
	want := ids("h", 10)
	l, _ := auditLogger(p)
	for _, id := range want {
		emitAudit(l, id)
	}
	require.True(t, waitFor(5*time.Second, func() bool { return hung.Load() > 0 }), "the writer reached fsync")

	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- p.Shutdown(ctx) }()
	select {
	case err = <-done:
	case <-time.After(10 * time.Second):
		close(release)
		t.Fatal("Shutdown blocked past its context by a hung fsync")
	}
	require.ErrorIs(t, err, ErrSpoolStuck)
	var ue *UndeliveredError
	require.ErrorAs(t, err, &ue)
	assert.Equal(t, 10, ue.Undelivered)
	assert.Zero(t, ue.Spooled)
	t.Logf("hung fsync: %v", err)

	close(release)
	select {
	case <-p.writerDone:
	case <-time.After(10 * time.Second):
		t.Fatal("the writer did not finish after the disk answered")
	}
	assert.Len(t, spooledIDs(t, dir), 10, "the write completed once the disk answered")

	rcv.start()
	p2, err := NewProcessor(newExporter(t, rcv.addr), WithSpoolDir(dir))
	require.NoError(t, err, "the stuck Processor released the spool's lock")
	ctx2, cancel2 := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel2()
	require.NoError(t, p2.Shutdown(ctx2))
	assert.Equal(t, counts{emitted: 10, delivered: 10}, rcv.counts(want))
}

// flakyFile fails one ReadAt past the segment header with EIO.
type flakyFile struct {
	*os.File
	failed *atomic.Int32
}

func (f flakyFile) ReadAt(b []byte, off int64) (int, error) {
	if off > int64(len(segMagic)) && f.failed.CompareAndSwap(0, 1) {
		return 0, &os.PathError{Op: "read", Path: f.Name(), Err: syscall.EIO}
	}
	return f.File.ReadAt(b, off)
}

// A read error in the middle of a segment gives nothing up: the read is
// retried from the same frame and every record is delivered once.
func TestSpoolReadErrorRetried(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	want := fillSpool(t, dir, "e", 300, WithSegmentBytes(8<<10))
	var failed atomic.Int32
	hook := optionFunc(func(c *config) {
		c.openRead = func(path string) (readFile, error) {
			f, err := os.Open(path)
			if err != nil {
				return nil, err
			}
			return flakyFile{File: f, failed: &failed}, nil
		}
	})
	rcv := newReceiver(t)
	mr := newMetricsReader()
	sink := &errSink{}
	p, err := NewProcessor(newExporter(t, rcv.addr), WithSpoolDir(dir), WithBatchSize(20),
		WithRetryBackoff(10*time.Millisecond, 50*time.Millisecond),
		WithMeterProvider(mr.mp), WithErrorHandler(sink.handle), hook)
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	require.NoError(t, p.Shutdown(ctx))

	c := rcv.counts(want)
	t.Logf("spool read error once: %v", c)
	assert.EqualValues(t, 1, failed.Load(), "the read failed once")
	assert.Equal(t, counts{emitted: 300, delivered: 300}, c)
	assert.Zero(t, mr.sum(t, "otelkit.audit.dropped", ""))
	assert.True(t, sink.contains("reading spool"), "the read error is reported")
	assert.NotZero(t, sink.matching(syscall.EIO))
}

// A segment shortened behind the Processor's back (bytes it fsynced are
// gone) costs the records in the missing bytes, counted and reported as
// dropped{corrupt}; the rest is delivered.
func TestSegmentShortenedWhileRunning(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	want := fillSpool(t, dir, "k", 300, WithSegmentBytes(8<<10))
	segs := spoolFiles(t, dir, segExt)
	require.Greater(t, len(segs), 2)
	rcv := newDownReceiver(t)
	mr := newMetricsReader()
	sink := &errSink{}
	p, err := NewProcessor(newExporter(t, rcv.addr), WithSpoolDir(dir), WithBatchSize(10),
		WithRetryBackoff(10*time.Millisecond, 50*time.Millisecond),
		WithMeterProvider(mr.mp), WithErrorHandler(sink.handle))
	require.NoError(t, err)
	victim, err := os.ReadFile(segs[1])
	require.NoError(t, err)
	cut := len(victim) / 2
	var inCut int
	scan(victim, defaultMaxRecordBytes, func(off, n int, _ uint64) {
		if off+n > cut {
			inCut++
		}
	})
	require.NoError(t, os.Truncate(segs[1], int64(cut)))
	rcv.start()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	err = p.Shutdown(ctx)
	var ue *UndeliveredError
	require.ErrorAs(t, err, &ue)
	c := rcv.counts(want)
	t.Logf("segment shortened while running: %v (records in the cut bytes %d)", c, inCut)
	assert.Equal(t, inCut, c.lost)
	assert.Zero(t, c.duplicated)
	assert.Zero(t, ue.Undelivered)
	assert.Equal(t, inCut, ue.Dropped)
	assert.EqualValues(t, inCut, mr.sum(t, "otelkit.audit.dropped", ReasonCorrupt))
	assert.Equal(t, mr.sum(t, "otelkit.audit.dropped", ""), sink.droppedReported())
	assert.NotZero(t, sink.matching(ErrCorruptSpool))
}

// A spool directory unusable at start is retried: once it can be used,
// records are spooled again, and records a previous process left there are
// delivered (before the ones in memory).
func TestSpoolReopened(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		// setup makes dir unusable and returns the ids already spooled in
		// it and the function that makes it usable.
		setup func(t *testing.T, dir string) (old []string, fix func())
	}{
		{"path under a regular file", func(t *testing.T, dir string) ([]string, func()) {
			file := filepath.Dir(dir)
			require.NoError(t, os.WriteFile(file, nil, 0o600))
			return nil, func() { require.NoError(t, os.Remove(file)) }
		}},
		{"locked, with records left by a previous process", func(t *testing.T, dir string) ([]string, func()) {
			old := fillSpool(t, dir, "old", 100)
			lock, err := lockDir(dir)
			require.NoError(t, err)
			return old, func() { require.NoError(t, lock.Close()) }
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dir := filepath.Join(t.TempDir(), "sub", "spool")
			if tt.name != "path under a regular file" {
				require.NoError(t, os.MkdirAll(dir, 0o700))
			}
			old, fix := tt.setup(t, dir)
			rcv := newDownReceiver(t)
			mr := newMetricsReader()
			sink := &errSink{}
			p, err := NewProcessor(newExporter(t, rcv.addr), WithSpoolDir(dir), WithMemoryLimit(100), WithBatchSize(10),
				WithEmitTimeout(time.Minute), WithMeterProvider(mr.mp), WithErrorHandler(sink.handle),
				optionFunc(func(c *config) { c.reopenAfter = 20 * time.Millisecond }))
			require.NoError(t, err)
			require.Nil(t, p.sp.Load(), "unusable at start")
			l, lp := auditLogger(p)
			early := ids("early", 5)
			for _, id := range early {
				emitAudit(l, id)
			}
			fix()
			require.True(t, waitFor(5*time.Second, func() bool { return p.sp.Load() != nil }), "spool reopened")
			late := ids("late", 50)
			for _, id := range late {
				emitAudit(l, id)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
			defer cancel()
			err = lp.Shutdown(ctx)
			var ue *UndeliveredError
			require.ErrorAs(t, err, &ue)
			assert.Equal(t, len(old)+55, ue.Undelivered, "%v", err)
			assert.Equal(t, len(old)+50, ue.Spooled, "records accepted after the reopen are spooled")
			assert.Equal(t, 5, ue.Lost(), "records accepted before stay in memory only")
			assert.EqualValues(t, 50, mr.sum(t, "otelkit.audit.spooled", ""))
			assert.EqualValues(t, 5, mr.sum(t, "otelkit.audit.dropped", ReasonShutdown))
			assert.Equal(t, mr.sum(t, "otelkit.audit.dropped", ""), sink.droppedReported())
			assert.True(t, sink.contains("usable again"))

			rcv.start()
			p2, err := NewProcessor(newExporter(t, rcv.addr), WithSpoolDir(dir))
			require.NoError(t, err)
			ctx2, cancel2 := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel2()
			require.NoError(t, p2.Shutdown(ctx2))
			spooled := append(append([]string(nil), old...), late...)
			c := rcv.counts(spooled)
			t.Logf("spool reopened (%s): %v", tt.name, c)
			assert.Equal(t, counts{emitted: len(spooled), delivered: len(spooled)}, c)
			for _, id := range early {
				assert.False(t, rcv.has(id))
			}
		})
	}
}
