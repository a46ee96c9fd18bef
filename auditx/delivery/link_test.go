package delivery

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/log"
	"go.opentelemetry.io/otel/sdk/resource"
)

var testPos = chainPos{
	stream: "0123456789abcdef0123456789abcdef",
	seq:    1234567,
	prev:   strings.Repeat("a1", 32),
	hash:   strings.Repeat("f0", 32),
}

// The spool writer puts the chain attributes into a frame OnEmit encoded
// without them: the frame is then byte for byte what the encoder writes
// with them (and so what proto.Marshal writes), also where the log
// record's or the scope's length grows by a varint byte.
func TestSpliceMatchesEncoder(t *testing.T) {
	cases := codecCases()
	for _, n := range []int{0, 1, 40, 60, 100, 126, 127, 128, 16000, 16100, 16300, 16383, 16384, 20000} {
		body := strings.Repeat("x", n)
		cases = append(cases, codecCase{"body " + body[:min(n, 3)], context.Background(), resource.Empty(), func(r *log.Record) {
			r.SetBody(attribute.StringValue(body))
		}})
	}
	for _, pos := range []chainPos{testPos, {stream: testPos.stream, seq: 1, hash: testPos.hash}} {
		var kvs [chainAttrs]attribute.KeyValue
		attrs := pos.attrs(&kvs)
		for _, c := range cases {
			rec := c.record(t)
			if c.name == "chained" {
				continue // holds chain keys: link encodes it again (TestLinkOwnChainKeys)
			}
			plain := encodeFrame(&rec, nil)
			want := encodeFrame(&rec, &pos)
			var kvBuf []byte
			got, ok := spliceAttrs([]byte("junk")[:0], plain, attrs, &kvBuf)
			if !ok || !bytes.Equal(got, want) {
				t.Errorf("%s (seq %d): ok=%v\n got %x\nwant %x", c.name, pos.seq, ok, got, want)
			}
		}
	}
	var kvBuf []byte
	for _, bad := range [][]byte{nil, make([]byte, frameHdr+seqBytes), append(make([]byte, frameHdr+seqBytes), 0x12, 0x05, 1)} {
		if _, ok := spliceAttrs(nil, bad, testPos.attrs(new([chainAttrs]attribute.KeyValue)), &kvBuf); ok {
			t.Errorf("spliced %x", bad)
		}
	}
}

// A record with an attribute under a chain key of its own is hashed
// without it and exported with the chain's value in its place: the
// writer encodes its frame again.
func TestLinkOwnChainKeys(t *testing.T) {
	p, err := NewProcessor(discardExporter{}, WithChain(WithCheckpointEvery(0), WithCheckpointInterval(0)))
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = p.Shutdown(context.Background()) }()
	var c codecCase
	for _, c = range codecCases() {
		if c.name == "chained" {
			break
		}
	}
	rec := c.record(t)
	orig := rec.Clone()
	batch := []entry{{kind: chainedRecord, seq: 9, rec: rec, frame: encodeFrame(&rec, nil)}}
	p.ch.link(batch) // no record was emitted: the test goroutine is the only one linking
	e := &batch[0]
	want := encodeFrame(&orig, &e.chain)
	setFrameSeq(want, 9)
	if !bytes.Equal(e.frame, want) {
		t.Errorf("frame\n got %x\nwant %x", e.frame, want)
	}
	st, ok := chainStateOf(&e.rec)
	if !ok || st.Seq != 1 || st.StreamID != p.ch.stream || st.Hash != e.chain.hash || e.rec.AttributesLen() != orig.AttributesLen() {
		t.Errorf("record's chain state %+v (%v), %d attributes, want seq 1 of %s, hash %s, %d attributes", st, ok, e.rec.AttributesLen(), p.ch.stream, e.chain.hash, orig.AttributesLen())
	}
	cr := chainRecord(&e.rec)
	cr.StreamID, cr.Seq, cr.PrevHash = e.chain.stream, e.chain.seq, e.chain.prev
	if h := cr.Hash(); h != e.chain.hash {
		t.Errorf("hash %s, the exported record's is %s", e.chain.hash, h)
	}
}
