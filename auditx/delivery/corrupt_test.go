package delivery

import (
	"context"
	"encoding/binary"
	"hash/crc32"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	sdklog "go.opentelemetry.io/otel/sdk/log"
)

// fillSpool leaves n undelivered audits in dir's spool (receiver down,
// Shutdown deadline) and returns their ids.
func fillSpool(t *testing.T, dir, prefix string, n int, opts ...Option) []string {
	t.Helper()
	rcv := newDownReceiver(t)
	p, err := NewProcessor(newExporter(t, rcv.addr), append([]Option{WithSpoolDir(dir), WithBatchSize(50),
		WithEmitTimeout(time.Minute), WithErrorHandler(func(error) {})}, opts...)...)
	require.NoError(t, err)
	l, _ := auditLogger(p)
	want := ids(prefix, n)
	for _, id := range want {
		emitAudit(l, id)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	var ue *UndeliveredError
	err = p.Shutdown(ctx)
	require.ErrorAs(t, err, &ue)
	require.Equal(t, n, ue.Spooled, "%v", err)
	return want
}

// Fault test 5a: truncated and bit-flipped spool files. The valid records
// are delivered, the damage is quarantined to *.corrupt and reported, and
// start-up never fails.
func TestFaultCorruptSpool(t *testing.T) {
	t.Parallel()
	const n = 400
	flip := func(data []byte, at int, bit uint) { data[at] ^= 1 << bit }
	tests := []struct {
		name string
		// damage changes the segment image and returns the byte range it
		// damaged ([a, a) when it damaged no existing frame).
		damage func(data []byte, frames []region) ([]byte, region)
	}{
		{"torn tail", func(d []byte, _ []region) ([]byte, region) {
			return d[:len(d)-7], region{len(d) - 7, len(d)}
		}},
		{"partial frame appended", func(d []byte, _ []region) ([]byte, region) {
			tail := binary.LittleEndian.AppendUint32(nil, 300)
			tail = append(tail, make([]byte, 50)...)
			return append(d, tail...), region{len(d), len(d)}
		}},
		{"bit flip in payload", func(d []byte, f []region) ([]byte, region) {
			at := f[200].start + frameHdr + 20
			flip(d, at, 3)
			return d, region{at, at + 1}
		}},
		{"bit flip in length", func(d []byte, f []region) ([]byte, region) {
			at := f[200].start + 2
			flip(d, at, 4)
			return d, region{at, at + 1}
		}},
		{"bit flip in checksum", func(d []byte, f []region) ([]byte, region) {
			at := f[123].start + 5
			flip(d, at, 0)
			return d, region{at, at + 1}
		}},
		{"damaged header", func(d []byte, _ []region) ([]byte, region) {
			flip(d, 2, 1)
			return d, region{2, 2}
		}},
		{"zeroed 4 KiB block", func(d []byte, f []region) ([]byte, region) {
			at := f[100].start + 10
			clear(d[at : at+4096])
			return d, region{at, at + 4096}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			want := fillSpool(t, dir, "c", n)
			segs := spoolFiles(t, dir, segExt)
			require.Len(t, segs, 1)
			data, err := os.ReadFile(segs[0])
			require.NoError(t, err)
			var frames []region
			scan(data, defaultMaxRecordBytes, func(off, size int, _ uint64) {
				frames = append(frames, region{off, off + size})
			})
			require.Len(t, frames, n)

			damaged, hit := tt.damage(data, frames)
			require.NoError(t, os.WriteFile(segs[0], damaged, 0o600))
			lostIDs := map[string]bool{}
			for i, f := range frames {
				if f.start < hit.end && hit.start < f.end {
					lostIDs[want[i]] = true
				}
			}

			rcv := newReceiver(t)
			sink := &errSink{}
			mr := newMetricsReader()
			p, err := NewProcessor(newExporter(t, rcv.addr), WithSpoolDir(dir),
				WithErrorHandler(sink.handle), WithMeterProvider(mr.mp))
			require.NoError(t, err, "a corrupt spool never fails start-up")
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			require.NoError(t, p.Shutdown(ctx))

			c := rcv.counts(want)
			t.Logf("fault 5 (%s): %v (records in damaged bytes: %d)", tt.name, c, len(lostIDs))
			assert.Equal(t, len(lostIDs), c.lost)
			assert.Zero(t, c.duplicated)
			for _, id := range want {
				assert.Equal(t, !lostIDs[id], rcv.has(id), id)
			}
			assert.NotZero(t, sink.matching(ErrCorruptSpool), "corruption reported")
			assert.Len(t, spoolFiles(t, dir, corruptExt), 1, "damaged segment quarantined")
			assert.Empty(t, spoolFiles(t, dir, segExt))
		})
	}
}

// A crash between writing a repaired segment and moving it into place is
// completed or redone on the next start.
func TestInterruptedRepair(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	want := fillSpool(t, dir, "r", 100)
	seg := spoolFiles(t, dir, segExt)[0]
	data, err := os.ReadFile(seg)
	require.NoError(t, err)
	// Repair written, original not yet moved aside: the repair is redone.
	require.NoError(t, os.WriteFile(seg+repairExt, data[:len(data)/2], 0o600))

	rcv := newReceiver(t)
	p, err := NewProcessor(newExporter(t, rcv.addr), WithSpoolDir(dir), WithErrorHandler(func(error) {}))
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	require.NoError(t, p.Shutdown(ctx))
	c := rcv.counts(want)
	assert.Equal(t, counts{emitted: 100, delivered: 100}, c)
	assert.Empty(t, spoolFiles(t, dir, repairExt))
}

func TestEmptySegmentIsRemoved(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(dir+"/00000000000000000007.wal", []byte(segMagic), 0o600))
	sink := &errSink{}
	p, err := NewProcessor(newExporter(t, "127.0.0.1:1"), WithSpoolDir(dir), WithErrorHandler(sink.handle))
	require.NoError(t, err)
	require.NoError(t, p.Shutdown(context.Background()))
	assert.Empty(t, sink.errs)
	assert.Empty(t, spoolFiles(t, dir, segExt))
}

// FuzzScan checks that the segment parser never panics and only reports
// ordered, non-overlapping frames with valid checksums.
func FuzzScan(f *testing.F) {
	frame := encodeFrame(testRecord(), nil)
	setFrameSeq(frame, 1)
	binary.LittleEndian.PutUint32(frame, uint32(len(frame)-frameHdr))
	binary.LittleEndian.PutUint32(frame[4:], crc32.Checksum(frame[frameHdr:], crcTable))
	seg := append([]byte(segMagic), frame...)
	f.Add(seg)
	f.Add(seg[:len(seg)-3])
	f.Add([]byte(segMagic))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		last := len(segMagic)
		scan(data, defaultMaxRecordBytes, func(off, n int, _ uint64) {
			if off < last || off+n > len(data) {
				t.Fatalf("frame [%d,%d) out of order or bounds", off, off+n)
			}
			last = off + n
		})
	})
}

// A segment deleted behind the Processor's back costs its records (counted
// as dropped) but never stalls delivery of the others.
func TestSegmentDeletedWhileRunning(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	want := fillSpool(t, dir, "g", 300, WithSegmentBytes(8<<10))
	segs := spoolFiles(t, dir, segExt)
	require.Greater(t, len(segs), 2)
	victim, err := os.ReadFile(segs[1])
	require.NoError(t, err)
	var inVictim int
	scan(victim, defaultMaxRecordBytes, func(int, int, uint64) { inVictim++ })
	rcv := newDownReceiver(t)
	mr := newMetricsReader()
	sink := &errSink{}
	// The segment goes while the Processor runs, at a point fixed by the
	// order of events rather than by timing: inside the first failed
	// export (the receiver is down), after the deliverer read the replayed
	// records and before it reads them again for the retry. The receiver
	// comes up at the same point, so no export of the records read before
	// the removal can succeed.
	var once sync.Once
	exp := &hookExporter{Exporter: newExporter(t, rcv.addr), failed: func() {
		once.Do(func() {
			assert.NoError(t, os.Remove(segs[1]))
			rcv.start()
		})
	}}
	p, err := NewProcessor(exp, WithSpoolDir(dir), WithMeterProvider(mr.mp),
		WithRetryBackoff(10*time.Millisecond, 50*time.Millisecond), WithErrorHandler(sink.handle))
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	err = p.Shutdown(ctx)
	var ue *UndeliveredError
	require.ErrorAs(t, err, &ue)
	c := rcv.counts(want)
	t.Logf("segment deleted while running: %v (records in deleted segment %d)", c, inVictim)
	assert.Equal(t, inVictim, c.lost)
	assert.Zero(t, ue.Undelivered)
	assert.Equal(t, inVictim, ue.Dropped)
	assert.EqualValues(t, inVictim, mr.sum(t, "otelkit.audit.dropped", ReasonCorrupt))
	assert.Equal(t, mr.sum(t, "otelkit.audit.dropped", ""), sink.droppedReported(), "every drop reported")
}

// hookExporter calls failed after each failed Export, on the deliverer's
// goroutine, before the Processor retries.
type hookExporter struct {
	sdklog.Exporter
	failed func()
}

func (h *hookExporter) Export(ctx context.Context, recs []sdklog.Record) error {
	err := h.Exporter.Export(ctx, recs)
	if err != nil {
		h.failed()
	}
	return err
}
