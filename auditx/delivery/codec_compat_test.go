package delivery

import (
	"bytes"
	"context"
	"encoding/binary"
	"flag"
	"math"
	"os"
	"path/filepath"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/log"
	sdklog "go.opentelemetry.io/otel/sdk/log"
	"go.opentelemetry.io/otel/sdk/resource"
	"go.opentelemetry.io/otel/trace"
	"google.golang.org/protobuf/proto"

	"github.com/otelkit/otelkit/auditx/chain"
)

var updateFrames = flag.Bool("update-frames", false, "rewrite testdata/frames-v1.bin with the current encoder")

// framesFile holds the payloads (sequence number + protobuf) of
// codecCases, as the spool frames of otelkit before the protowire encoder
// (proto.Marshal of toProto's message) wrote them: uvarint length, then
// the payload, per case.
var framesFile = filepath.Join("testdata", "frames-v1.bin")

type codecCase struct {
	name  string
	ctx   context.Context
	res   *resource.Resource
	build func(*log.Record)
}

// codecCases are deterministic records covering every value type, the
// chain attributes, empty and odd fields.
func codecCases() []codecCase {
	tid := trace.TraceID{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16}
	sid := trace.SpanID{1, 2, 3, 4, 5, 6, 7, 8}
	ts := time.Date(2026, 11, 21, 5, 0, 0, 123456789, time.UTC)
	sampled := trace.ContextWithSpanContext(context.Background(), trace.NewSpanContext(trace.SpanContextConfig{
		TraceID: tid, SpanID: sid, TraceFlags: trace.FlagsSampled,
	}))
	res := resource.NewWithAttributes("https://opentelemetry.io/schemas/1.26.0", attribute.String("service.name", "svc"), attribute.Int("pid", 7))
	stamp := func(r *log.Record) {
		r.SetTimestamp(ts)
		r.SetObservedTimestamp(ts.Add(time.Millisecond))
	}
	long := string(bytes.Repeat([]byte("ü"), 200)) // lengths past one varint byte
	return []codecCase{
		{"audit", sampled, res, func(r *log.Record) {
			stamp(r)
			r.SetEventName("user.login")
			r.SetSeverity(log.SeverityWarn)
			r.SetSeverityText("WARN")
			r.SetBody(attribute.StringValue("user alice logged in"))
			r.AddAttributes(
				attribute.String("otelkit.audit.record_id", "id-1"),
				attribute.StringSlice("otelkit.audit.missing", []string{"a", "b"}),
				attribute.Bool("otelkit.audit.unregistered", true),
				attribute.Int64("n", -42),
				attribute.Float64("f", 1.5),
				attribute.Int64Slice("ns", []int64{1, 2}),
				attribute.Float64Slice("fs", []float64{0.5}),
				attribute.BoolSlice("bs", []bool{true, false}),
			)
		}},
		{"chained", context.Background(), res, func(r *log.Record) {
			stamp(r)
			r.SetEventName("auth.login_failed")
			r.SetSeverity(log.SeverityWarn)
			r.SetSeverityText("WARN")
			r.SetBody(attribute.StringValue("User 'alice' failed to log in from 10.0.0.7"))
			r.AddAttributes(
				attribute.String("otelkit.audit.record_id", "0193a0b1-7c2e-7d4f-9a8b-0c1d2e3f4a5b"),
				attribute.String("otelkit.audit.template", "User '{user}' failed to log in from {client_ip}"),
				attribute.String("user", "alice"),
				attribute.String("client_ip", "10.0.0.7"),
				attribute.String("otelkit.audit.stream_id", "0123456789abcdef0123456789abcdef"),
				attribute.Int64("otelkit.audit.seq", 1234567),
				attribute.String("otelkit.audit.prev_hash", "a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f90"),
				attribute.String("otelkit.audit.hash", "ffeeddccbbaa99887766554433221100ffeeddccbbaa99887766554433221100"),
			)
		}},
		{"structured body", context.Background(), res, func(r *log.Record) {
			stamp(r)
			r.SetBody(attribute.MapValue(
				attribute.String("k", "v"),
				attribute.Slice("l", attribute.IntValue(1), attribute.StringValue("x"), attribute.Value{}),
				attribute.KeyValue{Key: "e", Value: attribute.Value{}},
				attribute.Map("m"),
				attribute.Slice("s"),
			))
			r.AddAttributes(
				attribute.KeyValue{Key: "bytes", Value: attribute.ByteSliceValue([]byte{0, 1, 2})},
				attribute.KeyValue{Key: "nobytes", Value: attribute.ByteSliceValue(nil)},
				attribute.String("", "empty key"),
				attribute.String("empty", ""),
				attribute.Bool("false", false),
				attribute.Int64("zero", 0),
				attribute.Float64("negzero", math.Copysign(0, -1)),
				attribute.Float64("nan", math.NaN()),
				attribute.Int64("min", math.MinInt64),
				attribute.String("long", long),
			)
		}},
		{"odd severity", sampled, resource.Empty(), func(r *log.Record) {
			stamp(r)
			r.SetSeverity(log.Severity(-3))
			r.SetSeverityText(long)
			r.SetEventName(long)
			r.SetBody(attribute.Int64Value(7))
		}},
		{"empty", context.Background(), resource.Empty(), func(r *log.Record) {
			r.SetObservedTimestamp(time.Unix(0, 1))
		}},
	}
}

func (c codecCase) record(t testing.TB) sdklog.Record {
	t.Helper()
	cp := &captured{}
	lp := sdklog.NewLoggerProvider(sdklog.WithProcessor(cp), sdklog.WithResource(c.res))
	l := lp.Logger(auditScope, log.WithInstrumentationVersion("v1"), log.WithSchemaURL("https://example.com/s"),
		log.WithInstrumentationAttributes(attribute.String("scope.k", "v")))
	var r log.Record
	c.build(&r)
	l.Emit(c.ctx, r)
	if len(cp.recs) != 1 {
		t.Fatalf("%s: %d records", c.name, len(cp.recs))
	}
	return cp.recs[0]
}

func readFrames(t *testing.T) [][]byte {
	t.Helper()
	data, err := os.ReadFile(framesFile)
	if err != nil {
		t.Fatal(err)
	}
	var out [][]byte
	for len(data) > 0 {
		n, k := binary.Uvarint(data)
		if k <= 0 || uint64(len(data)-k) < n {
			t.Fatalf("%s: truncated", framesFile)
		}
		out = append(out, data[k:k+int(n)])
		data = data[k+int(n):]
	}
	return out
}

// Spool files written before the protowire encoder still decode to the
// same records, and the encoder writes the same bytes for them.
func TestOldFramesDecode(t *testing.T) {
	cases := codecCases()
	if *updateFrames {
		var out []byte
		for i, c := range cases {
			rec := c.record(t)
			fr := encodeFrame(&rec, nil)
			if fr == nil {
				t.Fatalf("%s: not encodable", c.name)
			}
			setFrameSeq(fr, uint64(i+1))
			out = binary.AppendUvarint(out, uint64(len(fr)-frameHdr))
			out = append(out, fr[frameHdr:]...)
		}
		if err := os.WriteFile(framesFile, out, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	frames := readFrames(t)
	if len(frames) != len(cases) {
		t.Fatalf("%s holds %d frames, want %d", framesFile, len(frames), len(cases))
	}
	dec := newDecoder()
	defer dec.shutdown(context.Background())
	for i, c := range cases {
		want := c.record(t)
		seq, got, err := dec.decode(frames[i])
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if seq != uint64(i+1) {
			t.Errorf("%s: seq %d, want %d", c.name, seq, i+1)
		}
		if !proto.Equal(toProto(&want), toProto(&got)) {
			t.Errorf("%s: decoded\n%v\nwant\n%v", c.name, toProto(&got), toProto(&want))
		}
		fr := encodeFrame(&want, nil)
		setFrameSeq(fr, uint64(i+1))
		if !bytes.Equal(fr[frameHdr:], frames[i]) {
			t.Errorf("%s: the encoder writes\n%x\nthe old frame is\n%x", c.name, fr[frameHdr:], frames[i])
		}
	}
}

// refPayload is the payload the proto.Marshal codec wrote for r.
func refPayload(t testing.TB, r *sdklog.Record) ([]byte, error) {
	t.Helper()
	return proto.MarshalOptions{}.Marshal(toProto(r))
}

// The protowire encoder writes exactly what proto.Marshal wrote, and
// refuses what it refused.
func TestEncoderMatchesProtoMarshal(t *testing.T) {
	for _, c := range codecCases() {
		rec := c.record(t)
		want, err := refPayload(t, &rec)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		got, ok := appendRecord(nil, &rec, nil)
		if !ok || !bytes.Equal(got, want) {
			t.Errorf("%s: ok=%v\n got %x\nwant %x", c.name, ok, got, want)
		}
	}
	// Invalid UTF-8 anywhere a string goes: refused by both.
	bad := string([]byte{0xff, 'x'})
	for name, build := range map[string]func(*log.Record){
		"event":    func(r *log.Record) { r.SetEventName(bad) },
		"severity": func(r *log.Record) { r.SetSeverityText(bad) },
		"body":     func(r *log.Record) { r.SetBody(attribute.StringValue(bad)) },
		"key":      func(r *log.Record) { r.AddAttributes(attribute.String(bad, "v")) },
		"value":    func(r *log.Record) { r.AddAttributes(attribute.String("k", bad)) },
		"slice":    func(r *log.Record) { r.AddAttributes(attribute.StringSlice("k", []string{"a", bad})) },
		"map":      func(r *log.Record) { r.SetBody(attribute.MapValue(attribute.String("k", bad))) },
	} {
		rec := codecCase{name, context.Background(), resource.Empty(), build}.record(t)
		if _, err := refPayload(t, &rec); err == nil {
			t.Fatalf("%s: proto.Marshal accepted invalid UTF-8", name)
		}
		if _, ok := appendRecord(nil, &rec, nil); ok {
			t.Errorf("%s: the encoder accepted invalid UTF-8", name)
		}
	}
}

// Extra attributes are encoded as Record.AddAttributes would add them.
func TestEncoderExtraAttributes(t *testing.T) {
	base := codecCases()[0]
	extra := []attribute.KeyValue{
		attribute.String("otelkit.audit.stream_id", "s"),
		attribute.Int64("n", 7), // replaces the record's "n" in place
		attribute.String("otelkit.audit.hash", "h"),
	}
	rec := base.record(t)
	got, ok := appendRecord(nil, &rec, extra)
	added := rec.Clone()
	added.AddAttributes(extra...)
	want, err := refPayload(t, &added)
	if err != nil || !ok || !bytes.Equal(got, want) {
		t.Errorf("ok=%v err=%v\n got %x\nwant %x", ok, err, got, want)
	}
}

// FuzzEncoder holds the encoder to proto.Marshal (same bytes, same
// refusals) and to the decoder (the record comes back) on records built
// from fuzzed strings, numbers and nesting.
func FuzzEncoder(f *testing.F) {
	f.Add("user.login", "WARN", "body", "k", "v", int64(-1), 1.5, []byte{0, 1}, uint8(3), int64(9))
	f.Add("", "", "", "", "", int64(0), 0.0, []byte(nil), uint8(0), int64(0))
	f.Add(string(bytes.Repeat([]byte("x"), 300)), "\xff", "ü", "kk", "\x00", int64(math.MinInt64), math.Inf(-1), bytes.Repeat([]byte{7}, 200), uint8(255), int64(-5))
	f.Fuzz(func(t *testing.T, event, sevText, body, key, val string, n int64, d float64, raw []byte, shape uint8, sev int64) {
		build := func(r *log.Record) {
			r.SetEventName(event)
			r.SetSeverityText(sevText)
			r.SetSeverity(log.Severity(sev))
			r.SetTimestamp(time.Unix(0, n))
			r.SetObservedTimestamp(time.Unix(0, n^0x5a5a))
			elems := []attribute.Value{attribute.StringValue(val), attribute.Int64Value(n), attribute.Float64Value(d), attribute.BoolValue(shape&1 == 1), {}, attribute.ByteSliceValue(raw)}
			switch shape % 4 {
			case 0:
				r.SetBody(attribute.StringValue(body))
			case 1:
				r.SetBody(attribute.SliceValue(elems[:int(shape)%len(elems)+1]...))
			case 2:
				r.SetBody(attribute.MapValue(attribute.String(key, val), attribute.Slice(body, elems...), attribute.Map(val, attribute.Int64(key, n))))
			}
			kvs := []attribute.KeyValue{
				attribute.String(key, val),
				attribute.Int64(key+"n", n),
				attribute.Float64(key+"d", d),
				attribute.StringSlice(key+"ss", []string{val, body, ""}),
				attribute.Int64Slice(key+"is", []int64{n, -n}),
				attribute.Float64Slice(key+"fs", []float64{d}),
				attribute.BoolSlice(key+"bs", []bool{shape&2 == 2}),
				{Key: attribute.Key(key + "y"), Value: attribute.ByteSliceValue(raw)},
				{Key: attribute.Key(key + "e"), Value: attribute.Value{}},
			}
			r.AddAttributes(kvs[:int(shape)%len(kvs)+1]...)
		}
		res := resource.NewWithAttributes(val, attribute.String(key, body))
		rec := codecCase{"fuzz", context.Background(), res, build}.record(t)
		want, err := refPayload(t, &rec)
		got, ok := appendRecord(nil, &rec, nil)
		if (err == nil) != ok {
			t.Fatalf("proto.Marshal error %v, encoder ok %v", err, ok)
		}
		if !ok {
			return
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("\n got %x\nwant %x", got, want)
		}
		own := false // a chain key among the record's: link encodes again
		rec.WalkAttributes(func(kv attribute.KeyValue) bool { own = own || chain.IsChainKey(string(kv.Key)); return true })
		if !own {
			var kvs [chainAttrs]attribute.KeyValue
			var kvBuf []byte
			fr := append(make([]byte, frameHdr+seqBytes), got...)
			spliced, ok := spliceAttrs(nil, fr, testPos.attrs(&kvs), &kvBuf)
			withChain := encodeFrame(&rec, &testPos)
			if !ok || !bytes.Equal(spliced, withChain) {
				t.Fatalf("chain attributes put in: ok=%v\n got %x\nwant %x", ok, spliced, withChain)
			}
		}
		dec := newDecoder()
		defer dec.shutdown(context.Background())
		_, back, err := dec.decode(append(make([]byte, seqBytes), got...))
		if err != nil {
			t.Fatal(err)
		}
		if !proto.Equal(toProto(&rec), toProto(&back)) {
			t.Fatalf("decoded\n%v\nwant\n%v", toProto(&back), toProto(&rec))
		}
	})
}
