package delivery

import (
	"bytes"
	"context"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
)

// chunkBatch returns a batch of records whose frames add up to more than
// spoolChunk, one of them larger than spoolChunk on its own.
func chunkBatch(t *testing.T) []entry {
	t.Helper()
	base := testRecord().Clone()
	var batch []entry
	for i := range 2500 {
		n := 300 + i%700
		if i == 1200 {
			n = spoolChunk + spoolChunk/2
		}
		rec := base.Clone()
		rec.SetBody(attribute.StringValue(strings.Repeat("x", n)))
		fr := encodeFrame(&rec, nil)
		require.NotNil(t, fr)
		setFrameSeq(fr, uint64(i+1))
		batch = append(batch, entry{seq: uint64(i + 1), rec: rec, frame: fr})
	}
	return batch
}

func openTestSpool(t *testing.T, dir string) *spool {
	t.Helper()
	cfg, err := newConfig([]Option{WithSpoolDir(dir)})
	require.NoError(t, err)
	dec := newDecoder()
	t.Cleanup(func() { dec.shutdown(context.Background()) })
	sp, _, err := openSpool(&cfg, dec, func(error) {})
	require.NoError(t, err)
	t.Cleanup(sp.close)
	return sp
}

// A batch larger than spoolChunk goes out in several writes through the
// writer's small buffer (a frame larger than the buffer on its own): the
// segment holds exactly the batch's frames, in order, and its size is
// accounted.
func TestSpoolAppendChunked(t *testing.T) {
	dir := t.TempDir()
	sp := openTestSpool(t, dir)
	batch := chunkBatch(t)
	n, err := sp.append(batch)
	require.NoError(t, err)
	require.Equal(t, len(batch), n)
	require.LessOrEqual(t, cap(sp.buf), spoolChunk, "the writer's buffer stays small")

	files := spoolFiles(t, dir, segExt)
	require.Len(t, files, 1)
	data, err := os.ReadFile(files[0])
	require.NoError(t, err)
	var got [][]byte
	scan(data, defaultMaxRecordBytes, func(off, n int, _ uint64) { got = append(got, data[off:off+n]) })
	require.Len(t, got, len(batch))
	size := len(segMagic)
	for i := range batch {
		require.True(t, batch[i].spooled)
		require.True(t, bytes.Equal(got[i], batch[i].frame), "frame %d", i)
		size += len(batch[i].frame)
	}
	require.Len(t, data, size)
	sp.mu.Lock()
	require.EqualValues(t, size, sp.active.size)
	sp.mu.Unlock()
}
