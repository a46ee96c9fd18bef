package delivery

import (
	"context"
	"testing"
	"time"
)

// TestEmitPathAllocs guards the allocations OnEmit makes for a spooled
// record besides the SDK's copy: none to encode its frame (protowire into
// a pooled buffer), and one more when it is chained (the hash string; the
// chain attributes join the record in the spool writer). The emitting
// steps are run as accept runs them, without the writer goroutine, whose
// allocations testing.AllocsPerRun would count at random. End to end,
// BenchmarkEventEmitChain reports Event.Emit at 2 allocations unchained
// and 4 chained (the fourth: the SDK's AddAttributes in the writer).
func TestEmitPathAllocs(t *testing.T) {
	if raceEnabled || testing.Short() {
		t.Skip("allocation counts are measured without -race and -short")
	}
	p, err := NewProcessor(discardExporter{}, WithSpoolDir(t.TempDir()), WithChain(WithSigner(testSigner(t))), WithEmitTimeout(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = p.Shutdown(context.Background()) }()
	rec := testRecord().Clone()
	encode := func(pos *chainPos) {
		box := getFrame()
		fr := encodeFrameTo(box, &rec, pos)
		if fr == nil {
			t.Fatal("not encodable")
		}
		putFrame(box, fr)
	}
	unchained := testing.AllocsPerRun(500, func() { encode(nil) })
	c := p.ch
	chained := testing.AllocsPerRun(500, func() {
		c.mu.Lock()
		pos := chainPos{stream: c.stream, seq: c.seq + 1, prev: c.prev}
		c.hash(&rec, &pos)
		encode(&pos)
		c.seq, c.prev = pos.seq, pos.hash
		c.mu.Unlock()
	})
	t.Logf("unchained %v, chained %v allocs/op", unchained, chained)
	if unchained != 0 || chained != 1 {
		t.Errorf("allocations: unchained %v (want 0), chained %v (want 1)", unchained, chained)
	}
}
