package delivery

import (
	"context"
	"encoding/binary"
	"hash/crc32"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Issue 18 items 4-6: the spool changed behind the Processor's back.

// TestItem4SpoolDirDeleted: the spool directory is deleted while the
// collector is down. Shutdown must not report the records as safe in the
// spool: they are counted as lost (dropped) and reported.
func TestItem4SpoolDirDeleted(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "spool")
	rcv := newDownReceiver(t)
	mr := newMetricsReader()
	sink := &errSink{}
	p, err := NewProcessor(newExporter(t, rcv.addr), WithSpoolDir(dir), WithMeterProvider(mr.mp),
		WithEmitTimeout(time.Minute), WithErrorHandler(sink.handle))
	require.NoError(t, err)
	l, _ := auditLogger(p)
	const n = 400
	want := ids("rm", n)
	for _, id := range want {
		emitAudit(l, id)
	}
	require.True(t, waitFor(10*time.Second, func() bool { return mr.sum(t, "otelkit.audit.spooled", "") == n }))
	require.NoError(t, os.RemoveAll(dir))

	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	var ue *UndeliveredError
	require.ErrorAs(t, p.Shutdown(ctx), &ue)
	dropped := mr.sum(t, "otelkit.audit.dropped", "")
	t.Logf("spool dir deleted: emitted %d / delivered %d / safe in spool %d / lost %d / counted drops %d", n, rcv.counts(want).delivered, ue.Spooled, ue.Lost(), dropped)
	assert.Zero(t, ue.Spooled, "nothing is safe in a deleted spool")
	assert.Equal(t, n, ue.Lost())
	assert.EqualValues(t, n, dropped)
	assert.Equal(t, dropped, sink.droppedReported(), "every drop reported")
	assert.NotZero(t, sink.matching(ErrSpoolGone))
}

// TestItem5LockDeleted: a tmp cleaner removes the LOCK file; a second
// Processor on the same directory must not become a second writer.
func TestItem5LockDeleted(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	rcv := newDownReceiver(t)
	p1, err := NewProcessor(newExporter(t, rcv.addr), WithSpoolDir(dir), WithBatchSize(50),
		WithSegmentBytes(4<<10), WithEmitTimeout(time.Minute), WithErrorHandler(func(error) {}))
	require.NoError(t, err)
	l1, _ := auditLogger(p1)
	a := ids("one", 300)
	for _, id := range a[:150] {
		emitAudit(l1, id)
	}
	_ = os.Remove(filepath.Join(dir, "LOCK"))
	sink := &errSink{}
	p2, err := NewProcessor(newExporter(t, rcv.addr), WithSpoolDir(dir), WithBatchSize(50),
		WithSegmentBytes(4<<10), WithEmitTimeout(time.Minute), WithErrorHandler(sink.handle))
	require.NoError(t, err)
	assert.Nil(t, p2.sp.Load(), "the second Processor has no spool")
	assert.True(t, sink.contains("in use by another process"))
	l2, _ := auditLogger(p2)
	b := ids("two", 300)
	for i := range 150 {
		emitAudit(l1, a[150+i])
		emitAudit(l2, b[2*i])
		emitAudit(l2, b[2*i+1])
	}
	rcv.start()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	require.NoError(t, p1.Shutdown(ctx))
	require.NoError(t, p2.Shutdown(ctx))
	ca, cb := rcv.counts(a), rcv.counts(b)
	t.Logf("LOCK deleted, second processor: first %v, second %v", ca, cb)
	assert.Zero(t, ca.lost)
	assert.Zero(t, cb.lost)
}

// TestItem6ForgedAck: an ack file with a valid CRC and a mark beyond every
// record ever written must not make the spooled records vanish.
func TestItem6ForgedAck(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	want := fillSpool(t, dir, "ack", 200)
	var b [12]byte
	binary.LittleEndian.PutUint64(b[:], 1_000_000)
	binary.LittleEndian.PutUint32(b[8:], crc32.Checksum(b[:8], crcTable))
	require.NoError(t, os.WriteFile(filepath.Join(dir, ackName), b[:], 0o600))

	rcv := newReceiver(t)
	sink := &errSink{}
	p, err := NewProcessor(newExporter(t, rcv.addr), WithSpoolDir(dir), WithErrorHandler(sink.handle))
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	require.NoError(t, p.Shutdown(ctx))
	c := rcv.counts(want)
	t.Logf("forged ack: %v", c)
	assert.Equal(t, 200, c.delivered)
	assert.NotZero(t, sink.matching(ErrCorruptSpool), "the forged mark is reported")
}
