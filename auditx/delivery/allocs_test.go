package delivery

import (
	"context"
	"testing"
	"time"

	sdklog "go.opentelemetry.io/otel/sdk/log"
)

// TestEmitPathAllocs guards the allocations OnEmit makes for a spooled
// record besides the SDK's copy: none to encode its frame (protowire into
// a pooled buffer), chained or not, and none to take a chained record
// (and the checkpoints it brings) into the intake: the chain is computed
// by the spool writer (TestLinkAllocs). The emitting steps are run as
// accept runs them, without the writer goroutine, whose allocations
// testing.AllocsPerRun would count at random. End to end,
// BenchmarkEventEmitChain reports Event.Emit at 2 allocations unchained
// and 3 chained (the other: the SDK's AddAttributes in the writer; the
// hashes' strings take one allocation per batch).
func TestEmitPathAllocs(t *testing.T) {
	if raceEnabled || testing.Short() {
		t.Skip("allocation counts are measured without -race and -short")
	}
	p, err := NewProcessor(discardExporter{}, WithSpoolDir(t.TempDir()), WithChain(WithSigner(testSigner(t)), WithCheckpointEvery(3)), WithEmitTimeout(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = p.Shutdown(context.Background()) }()
	rec := testRecord().Clone()
	encode := testing.AllocsPerRun(500, func() {
		box := getFrame()
		fr := encodeFrameTo(box, &rec, nil)
		if fr == nil {
			t.Fatal("not encodable")
		}
		putFrame(box, fr)
	})
	// Taken in and given back at once: the writer never sees them.
	take := testing.AllocsPerRun(500, func() {
		p.mu.Lock()
		p.ch.takeLocked(entry{})
		clear(p.intake)
		p.intake = p.intake[:0]
		p.mu.Unlock()
	})
	t.Logf("encode %v, take (chained) %v allocs/op", encode, take)
	if encode != 0 || take != 0 {
		t.Errorf("allocations: encode %v (want 0), take %v (want 0)", encode, take)
	}
}

// TestLinkAllocs guards what the spool writer allocates to chain a batch
// of spooled records: one string for all the hashes' hex (each record's
// hash is a part of it) and, per record, the SDK's AddAttributes of the
// four chain attributes (the record's attribute storage grows); putting
// them into the frame allocates nothing (buffers swapped with the pool's).
func TestLinkAllocs(t *testing.T) {
	if raceEnabled || testing.Short() {
		t.Skip("allocation counts are measured without -race and -short")
	}
	// No record is emitted: the test goroutine is the only one linking.
	p, err := NewProcessor(discardExporter{}, WithChain(WithCheckpointEvery(0), WithCheckpointInterval(0)))
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = p.Shutdown(context.Background()) }()
	const runs, n = 100, 16
	base := testRecord().Clone()
	batch := make([]entry, n)
	recs := make([]entryRecs, 0, (runs+1)*n)
	for range cap(recs) {
		recs = append(recs, entryRecs{base.Clone(), getFrame()})
	}
	k := 0
	link := testing.AllocsPerRun(runs, func() {
		for i := range batch {
			r := &recs[k]
			k++
			fr := encodeFrameTo(r.box, &r.rec, nil)
			batch[i] = entry{kind: chainedRecord, rec: r.rec, frame: fr, box: r.box}
		}
		p.ch.link(batch)
		for i := range batch {
			putFrame(batch[i].box, batch[i].frame)
			batch[i] = entry{}
		}
	})
	t.Logf("link of %d records: %v allocs", n, link)
	if link != n+1 {
		t.Errorf("allocations: link of %d records %v, want %d", n, link, n+1)
	}
}

type entryRecs struct {
	rec sdklog.Record
	box *[]byte
}
