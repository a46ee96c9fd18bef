package delivery

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"sync"
	"time"
	"unicode/utf8"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/log"
	sdklog "go.opentelemetry.io/otel/sdk/log"
	"go.opentelemetry.io/otel/sdk/resource"
	"go.opentelemetry.io/otel/trace"
	cpb "go.opentelemetry.io/proto/otlp/common/v1"
	lpb "go.opentelemetry.io/proto/otlp/logs/v1"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
)

// A spooled record's payload is its sequence number (8 bytes, little endian)
// followed by an OTLP ResourceLogs message holding exactly one ScopeLogs with
// exactly one LogRecord: the same protobuf an OTLP exporter sends.

const seqBytes = 8

// encodeFrame returns a spool frame for r: frameHdr bytes to be filled by the
// writer, 8 bytes for the sequence number (setFrameSeq), then the protobuf,
// with the chain attributes of pos when it is set (nil or an empty hash:
// none). It returns nil if r cannot be encoded (a string that is not valid
// UTF-8, which proto3 forbids).
func encodeFrame(r *sdklog.Record, pos *chainPos) []byte {
	return encodeFrameTo(nil, r, pos)
}

// encodeFrameTo is encodeFrame into the buffer *box (from getFrame; nil:
// a new one).
func encodeFrameTo(box *[]byte, r *sdklog.Record, pos *chainPos) []byte {
	var extra []attribute.KeyValue
	var kvs [chainAttrs]attribute.KeyValue
	if pos != nil && pos.hash != "" {
		extra = pos.attrs(&kvs)
	}
	var buf []byte
	if box != nil {
		buf = (*box)[:frameHdr+seqBytes]
	} else {
		buf = make([]byte, frameHdr+seqBytes, 1024)
	}
	out, ok := appendRecord(buf, r, extra)
	if !ok {
		return nil
	}
	return out
}

// Frame buffers are reused: OnEmit takes one from the pool with getFrame,
// the spool writer gives it back with putFrame once it copied the frame.
// The pool holds boxes (*[]byte) that travel with the entry, so neither
// side allocates.
var framePool = sync.Pool{New: func() any { b := make([]byte, 0, 1024); return &b }}

// maxPooledFrame is the largest frame buffer kept for reuse.
const maxPooledFrame = 16 << 10

func getFrame() *[]byte { return framePool.Get().(*[]byte) }

// putFrame gives back box, whose buffer now is frame (grown, or nil when
// encoding failed); nothing may refer to frame afterwards.
func putFrame(box *[]byte, frame []byte) {
	if box == nil {
		return
	}
	if frame != nil {
		if cap(frame) > maxPooledFrame {
			return
		}
		*box = frame[:0]
	}
	framePool.Put(box)
}

func setFrameSeq(frame []byte, seq uint64) {
	binary.LittleEndian.PutUint64(frame[frameHdr:], seq)
}

// spliceAttrs appends to dst the spool frame fr with attrs appended to its
// log record's attributes: the bytes appendRecord writes for the record
// with attrs as extra, when the record has none of attrs' keys. The
// strings of attrs are not checked for UTF-8 (the chain attributes are
// ASCII). It reports false, and dst unchanged, when fr is not a frame
// appendRecord wrote. *kvBuf is scratch space.
func spliceAttrs(dst, fr []byte, attrs []attribute.KeyValue, kvBuf *[]byte) ([]byte, bool) {
	const base = frameHdr + seqBytes
	if len(fr) < base {
		return dst, false
	}
	// ResourceLogs: its scope_logs; in it, the log record; in that, where
	// the fields after the attributes begin.
	sl, ok := findField(fr, base, len(fr), fResourceLogsScopeLogs)
	if !ok {
		return dst, false
	}
	lr, ok := findField(fr, sl.body, sl.end, fScopeLogsLogRecords)
	if !ok {
		return dst, false
	}
	ins := lr.end
	for off := lr.body; off < lr.end; {
		num, typ, n := protowire.ConsumeTag(fr[off:lr.end])
		if n < 0 {
			return dst, false
		}
		if num > fLogAttributes {
			ins = off
			break
		}
		m := protowire.ConsumeFieldValue(num, typ, fr[off+n:lr.end])
		if m < 0 {
			return dst, false
		}
		off += n + m
	}
	e := encoder{b: (*kvBuf)[:0], ok: true, trust: true}
	for _, kv := range attrs {
		e.keyValue(fLogAttributes, kv)
	}
	*kvBuf = e.b
	add := len(e.b)
	lrLen := lr.end - lr.body + add
	slLen := sl.end - sl.body - (lr.body - lr.lenAt) + protowire.SizeVarint(uint64(lrLen)) + add
	dst = append(dst, fr[:sl.lenAt]...)
	dst = protowire.AppendVarint(dst, uint64(slLen))
	dst = append(dst, fr[sl.body:lr.lenAt]...)
	dst = protowire.AppendVarint(dst, uint64(lrLen))
	dst = append(dst, fr[lr.body:ins]...)
	dst = append(dst, e.b...)
	dst = append(dst, fr[ins:]...)
	return dst, true
}

// field is where a length-delimited field's length and body are in a buffer.
type field struct{ lenAt, body, end int }

// findField finds the first length-delimited field num among the fields in
// b[from:to].
func findField(b []byte, from, to int, num protowire.Number) (field, bool) {
	for off := from; off < to; {
		n, typ, k := protowire.ConsumeTag(b[off:to])
		if k < 0 {
			return field{}, false
		}
		if n == num && typ == protowire.BytesType {
			l, m := protowire.ConsumeVarint(b[off+k : to])
			if m < 0 || uint64(to-(off+k+m)) < l {
				return field{}, false
			}
			body := off + k + m
			return field{lenAt: off + k, body: body, end: body + int(l)}, true
		}
		m := protowire.ConsumeFieldValue(n, typ, b[off+k:to])
		if m < 0 {
			return field{}, false
		}
		off += k + m
	}
	return field{}, false
}

// Field numbers of the OTLP messages a frame holds
// (opentelemetry/proto/logs/v1/logs.proto, common/v1/common.proto,
// resource/v1/resource.proto).
const (
	fResourceLogsResource  protowire.Number = 1
	fResourceLogsScopeLogs protowire.Number = 2
	fResourceLogsSchemaURL protowire.Number = 3

	fResourceAttributes protowire.Number = 1

	fScopeLogsScope      protowire.Number = 1
	fScopeLogsLogRecords protowire.Number = 2
	fScopeLogsSchemaURL  protowire.Number = 3

	fScopeName       protowire.Number = 1
	fScopeVersion    protowire.Number = 2
	fScopeAttributes protowire.Number = 3

	fLogTime         protowire.Number = 1
	fLogSeverity     protowire.Number = 2
	fLogSeverityText protowire.Number = 3
	fLogBody         protowire.Number = 5
	fLogAttributes   protowire.Number = 6
	fLogDropped      protowire.Number = 7
	fLogFlags        protowire.Number = 8
	fLogTraceID      protowire.Number = 9
	fLogSpanID       protowire.Number = 10
	fLogObserved     protowire.Number = 11
	fLogEventName    protowire.Number = 12

	fKeyValueKey   protowire.Number = 1
	fKeyValueValue protowire.Number = 2

	fAnyString protowire.Number = 1
	fAnyBool   protowire.Number = 2
	fAnyInt    protowire.Number = 3
	fAnyDouble protowire.Number = 4
	fAnyArray  protowire.Number = 5
	fAnyKvlist protowire.Number = 6
	fAnyBytes  protowire.Number = 7

	fListValues protowire.Number = 1 // ArrayValue.values, KeyValueList.values
)

// appendRecord appends to b the OTLP ResourceLogs message holding r alone,
// with extra added to r's attributes as Record.AddAttributes would add
// them (an extra key replaces an attribute of r with that key, in place;
// the others follow r's attributes). The strings of extra are not checked
// for UTF-8 when they follow r's attributes: the caller's (the chain
// attributes) are ASCII. It writes with protowire, without
// building the generated messages, the same bytes proto.Marshal writes
// for them (fields in number order, proto3 defaults left out, oneof
// members always written); a test holds it to proto.Marshal. It reports
// false when a string is not valid UTF-8, which proto.Marshal refuses.
func appendRecord(b []byte, r *sdklog.Record, extra []attribute.KeyValue) ([]byte, bool) {
	e := encoder{b: b, ok: true}
	if res := r.Resource(); res != nil {
		at := e.begin(fResourceLogsResource)
		for it := res.Iter(); it.Next(); {
			e.keyValue(fResourceAttributes, it.Attribute())
		}
		e.end(at)
	}
	sl := e.begin(fResourceLogsScopeLogs)
	sc := r.InstrumentationScope()
	at := e.begin(fScopeLogsScope)
	e.str(fScopeName, sc.Name)
	e.str(fScopeVersion, sc.Version)
	for it := sc.Attributes.Iter(); it.Next(); {
		e.keyValue(fScopeAttributes, it.Attribute())
	}
	e.end(at)
	lr := e.begin(fScopeLogsLogRecords)
	e.logRecord(r, extra)
	e.end(lr)
	e.str(fScopeLogsSchemaURL, sc.SchemaURL)
	e.end(sl)
	if res := r.Resource(); res != nil {
		e.str(fResourceLogsSchemaURL, res.SchemaURL())
	}
	return e.b, e.ok
}

// encoder appends protobuf fields to b; ok turns false on a string that is
// not valid UTF-8.
type encoder struct {
	b     []byte
	ok    bool
	trust bool // the strings being written are known to be valid (the chain attributes: constant keys, hex values)
}

// begin appends the tag of the message field num and a one-byte length,
// and returns where the length is, for end.
func (e *encoder) begin(num protowire.Number) int {
	e.b = protowire.AppendTag(e.b, num, protowire.BytesType)
	e.b = append(e.b, 0)
	return len(e.b) - 1
}

// end writes the length of the message begun at at; a length of 128 or
// more takes more than the byte begin reserved, and the message moves up.
func (e *encoder) end(at int) {
	n := len(e.b) - at - 1
	if n < 0x80 {
		e.b[at] = byte(n)
		return
	}
	k := protowire.SizeVarint(uint64(n))
	e.b = append(e.b, make([]byte, k-1)...)
	copy(e.b[at+k:], e.b[at+1:at+1+n])
	protowire.AppendVarint(e.b[:at], uint64(n))
}

// str appends a string field, left out when empty (proto3).
func (e *encoder) str(num protowire.Number, s string) {
	if s != "" {
		e.strAlways(num, s)
	}
}

func (e *encoder) strAlways(num protowire.Number, s string) {
	if !e.trust && !utf8.ValidString(s) {
		e.ok = false
	}
	e.b = protowire.AppendTag(e.b, num, protowire.BytesType)
	e.b = protowire.AppendString(e.b, s)
}

func (e *encoder) logRecord(r *sdklog.Record, extra []attribute.KeyValue) {
	if t := unixNano(r.Timestamp()); t != 0 {
		e.b = protowire.AppendTag(e.b, fLogTime, protowire.Fixed64Type)
		e.b = protowire.AppendFixed64(e.b, t)
	}
	if sev := lpb.SeverityNumber(r.Severity()); sev != 0 {
		e.b = protowire.AppendTag(e.b, fLogSeverity, protowire.VarintType)
		e.b = protowire.AppendVarint(e.b, uint64(int64(sev)))
	}
	e.str(fLogSeverityText, r.SeverityText())
	if body := r.Body(); body.Type() != attribute.EMPTY {
		at := e.begin(fLogBody)
		e.anyValue(body)
		e.end(at)
	}
	if len(extra) == 0 {
		r.WalkAttributes(func(kv attribute.KeyValue) bool {
			e.keyValue(fLogAttributes, kv)
			return true
		})
	} else {
		var used uint64 // bit i: extra[i] replaced an attribute of r
		r.WalkAttributes(func(kv attribute.KeyValue) bool {
			for i := range extra {
				if extra[i].Key == kv.Key && i < 64 {
					kv = extra[i]
					used |= 1 << i
					break
				}
			}
			e.keyValue(fLogAttributes, kv)
			return true
		})
		e.trust = true
		for i, kv := range extra {
			if i >= 64 || used&(1<<i) == 0 {
				e.keyValue(fLogAttributes, kv)
			}
		}
		e.trust = false
	}
	if n := r.DroppedAttributes(); n > 0 && n <= math.MaxUint32 {
		e.b = protowire.AppendTag(e.b, fLogDropped, protowire.VarintType)
		e.b = protowire.AppendVarint(e.b, uint64(n))
	}
	if f := r.TraceFlags(); f != 0 {
		e.b = protowire.AppendTag(e.b, fLogFlags, protowire.Fixed32Type)
		e.b = protowire.AppendFixed32(e.b, uint32(f))
	}
	if id := r.TraceID(); id.IsValid() {
		e.b = protowire.AppendTag(e.b, fLogTraceID, protowire.BytesType)
		e.b = protowire.AppendBytes(e.b, id[:])
	}
	if id := r.SpanID(); id.IsValid() {
		e.b = protowire.AppendTag(e.b, fLogSpanID, protowire.BytesType)
		e.b = protowire.AppendBytes(e.b, id[:])
	}
	if t := unixNano(r.ObservedTimestamp()); t != 0 {
		e.b = protowire.AppendTag(e.b, fLogObserved, protowire.Fixed64Type)
		e.b = protowire.AppendFixed64(e.b, t)
	}
	e.str(fLogEventName, r.EventName())
}

// keyValue appends a KeyValue message as field num; an empty value has no
// value field, as the OTLP exporters send it.
func (e *encoder) keyValue(num protowire.Number, kv attribute.KeyValue) {
	at := e.begin(num)
	e.str(fKeyValueKey, string(kv.Key))
	if kv.Value.Type() != attribute.EMPTY {
		v := e.begin(fKeyValueValue)
		e.anyValue(kv.Value)
		e.end(v)
	}
	e.end(at)
}

// anyValue appends the fields of the AnyValue v is exported as (the way
// the OTLP exporters convert it, so a replayed record reaches the
// collector exactly as the original would have). A oneof member is
// written even when it holds its type's zero value.
func (e *encoder) anyValue(v attribute.Value) {
	switch v.Type() {
	case attribute.BOOL:
		e.boolValue(v.AsBool())
	case attribute.INT64:
		e.intValue(v.AsInt64())
	case attribute.FLOAT64:
		e.doubleValue(v.AsFloat64())
	case attribute.STRING:
		e.strAlways(fAnyString, v.AsString())
	case attribute.BYTESLICE:
		e.b = protowire.AppendTag(e.b, fAnyBytes, protowire.BytesType)
		e.b = protowire.AppendBytes(e.b, v.AsByteSlice())
	case attribute.BOOLSLICE:
		at := e.begin(fAnyArray)
		for _, x := range v.AsBoolSlice() {
			el := e.begin(fListValues)
			e.boolValue(x)
			e.end(el)
		}
		e.end(at)
	case attribute.INT64SLICE:
		at := e.begin(fAnyArray)
		for _, x := range v.AsInt64Slice() {
			el := e.begin(fListValues)
			e.intValue(x)
			e.end(el)
		}
		e.end(at)
	case attribute.FLOAT64SLICE:
		at := e.begin(fAnyArray)
		for _, x := range v.AsFloat64Slice() {
			el := e.begin(fListValues)
			e.doubleValue(x)
			e.end(el)
		}
		e.end(at)
	case attribute.STRINGSLICE:
		at := e.begin(fAnyArray)
		for _, x := range v.AsStringSlice() {
			el := e.begin(fListValues)
			e.strAlways(fAnyString, x)
			e.end(el)
		}
		e.end(at)
	case attribute.SLICE:
		at := e.begin(fAnyArray)
		for _, x := range v.AsSlice() {
			el := e.begin(fListValues) // an empty element is an empty AnyValue
			e.anyValue(x)
			e.end(el)
		}
		e.end(at)
	case attribute.MAP:
		at := e.begin(fAnyKvlist)
		for _, kv := range v.AsMap() {
			e.keyValue(fListValues, kv)
		}
		e.end(at)
	case attribute.EMPTY:
	default:
		e.strAlways(fAnyString, "INVALID")
	}
}

func (e *encoder) boolValue(x bool) {
	e.b = protowire.AppendTag(e.b, fAnyBool, protowire.VarintType)
	e.b = protowire.AppendVarint(e.b, protowire.EncodeBool(x))
}

func (e *encoder) intValue(x int64) {
	e.b = protowire.AppendTag(e.b, fAnyInt, protowire.VarintType)
	e.b = protowire.AppendVarint(e.b, uint64(x))
}

func (e *encoder) doubleValue(x float64) {
	e.b = protowire.AppendTag(e.b, fAnyDouble, protowire.Fixed64Type)
	e.b = protowire.AppendFixed64(e.b, math.Float64bits(x))
}

func unixNano(t time.Time) uint64 {
	if t.IsZero() {
		return 0
	}
	n := t.UnixNano()
	if n < 0 {
		return 0
	}
	return uint64(n)
}

func fromUnixNano(n uint64) time.Time {
	if n == 0 || n > math.MaxInt64 {
		return time.Time{}
	}
	return time.Unix(0, int64(n))
}

func attrValue(av *cpb.AnyValue) attribute.Value {
	if av == nil {
		return attribute.Value{}
	}
	switch x := av.Value.(type) {
	case *cpb.AnyValue_BoolValue:
		return attribute.BoolValue(x.BoolValue)
	case *cpb.AnyValue_IntValue:
		return attribute.Int64Value(x.IntValue)
	case *cpb.AnyValue_DoubleValue:
		return attribute.Float64Value(x.DoubleValue)
	case *cpb.AnyValue_StringValue:
		return attribute.StringValue(x.StringValue)
	case *cpb.AnyValue_BytesValue:
		return attribute.ByteSliceValue(x.BytesValue)
	case *cpb.AnyValue_ArrayValue:
		vals := make([]attribute.Value, len(x.ArrayValue.GetValues()))
		for i, e := range x.ArrayValue.GetValues() {
			vals[i] = attrValue(e)
		}
		return attribute.SliceValue(vals...)
	case *cpb.AnyValue_KvlistValue:
		return attribute.MapValue(keyValues(x.KvlistValue.GetValues())...)
	default:
		return attribute.Value{}
	}
}

func keyValues(in []*cpb.KeyValue) []attribute.KeyValue {
	if len(in) == 0 {
		return nil
	}
	out := make([]attribute.KeyValue, len(in))
	for i, kv := range in {
		out[i] = attribute.KeyValue{Key: attribute.Key(kv.GetKey()), Value: attrValue(kv.GetValue())}
	}
	return out
}

var errBadPayload = errors.New("malformed spool payload")

// decoder turns spooled payloads back into SDK records. An sdklog.Record's
// resource and scope can only be set by a LoggerProvider, so the decoder keeps
// one private LoggerProvider per distinct resource, whose only processor
// captures the record a Logger emits; every other field is then set from the
// payload. The private providers have no attribute limits, so nothing is
// truncated twice.
type decoder struct {
	mu        sync.Mutex
	providers map[string]*captureProvider
}

type captureProvider struct {
	lp      *sdklog.LoggerProvider
	cap     *captureProcessor
	loggers map[string]log.Logger
}

type captureProcessor struct{ rec sdklog.Record }

func (c *captureProcessor) OnEmit(_ context.Context, r *sdklog.Record) error {
	c.rec = r.Clone()
	return nil
}
func (*captureProcessor) Enabled(context.Context, sdklog.EnabledParameters) bool { return true }
func (*captureProcessor) Shutdown(context.Context) error                         { return nil }
func (*captureProcessor) ForceFlush(context.Context) error                       { return nil }

func newDecoder() *decoder {
	return &decoder{providers: make(map[string]*captureProvider)}
}

// decode parses one payload into its sequence number and record.
func (d *decoder) decode(payload []byte) (uint64, sdklog.Record, error) {
	if len(payload) < seqBytes {
		return 0, sdklog.Record{}, errBadPayload
	}
	seq := binary.LittleEndian.Uint64(payload)
	var rl lpb.ResourceLogs
	if err := proto.Unmarshal(payload[seqBytes:], &rl); err != nil {
		return seq, sdklog.Record{}, fmt.Errorf("%w: record %d: %w", errBadPayload, seq, err)
	}
	if len(rl.ScopeLogs) != 1 || len(rl.ScopeLogs[0].LogRecords) != 1 {
		return seq, sdklog.Record{}, fmt.Errorf("%w: record %d: want one log record", errBadPayload, seq)
	}
	sl := rl.ScopeLogs[0]
	lr := sl.LogRecords[0]

	rec := d.blank(&rl, sl)
	rec.SetEventName(lr.GetEventName())
	rec.SetTimestamp(fromUnixNano(lr.GetTimeUnixNano()))
	rec.SetObservedTimestamp(fromUnixNano(lr.GetObservedTimeUnixNano()))
	rec.SetSeverity(log.Severity(lr.GetSeverityNumber()))
	rec.SetSeverityText(lr.GetSeverityText())
	rec.SetBody(attrValue(lr.GetBody()))
	rec.SetAttributes(keyValues(lr.GetAttributes())...)
	var tid trace.TraceID
	copy(tid[:], lr.GetTraceId())
	rec.SetTraceID(tid)
	var sid trace.SpanID
	copy(sid[:], lr.GetSpanId())
	rec.SetSpanID(sid)
	rec.SetTraceFlags(trace.TraceFlags(lr.GetFlags()))
	return seq, rec, nil
}

// blank returns a record carrying the resource and scope of rl/sl.
func (d *decoder) blank(rl *lpb.ResourceLogs, sl *lpb.ScopeLogs) sdklog.Record {
	resKey, _ := proto.MarshalOptions{Deterministic: true}.Marshal(&lpb.ResourceLogs{Resource: rl.Resource, SchemaUrl: rl.SchemaUrl})
	scope := sl.GetScope()
	scopeKey, _ := proto.MarshalOptions{Deterministic: true}.Marshal(&lpb.ScopeLogs{Scope: scope, SchemaUrl: sl.SchemaUrl})

	d.mu.Lock()
	defer d.mu.Unlock()
	cp, ok := d.providers[string(resKey)]
	if !ok {
		res := resource.NewWithAttributes(rl.GetSchemaUrl(), keyValues(rl.GetResource().GetAttributes())...)
		cp = &captureProvider{cap: &captureProcessor{}, loggers: make(map[string]log.Logger)}
		cp.lp = sdklog.NewLoggerProvider(
			sdklog.WithResource(res),
			sdklog.WithProcessor(cp.cap),
			sdklog.WithAttributeCountLimit(-1),
			sdklog.WithAttributeValueLengthLimit(-1),
			sdklog.WithAttributeValueDepthLimit(-1),
			sdklog.WithAllowKeyDuplication(),
		)
		d.providers[string(resKey)] = cp
	}
	lg, ok := cp.loggers[string(scopeKey)]
	if !ok {
		opts := []log.LoggerOption{log.WithInstrumentationVersion(scope.GetVersion()), log.WithSchemaURL(sl.GetSchemaUrl())}
		if a := keyValues(scope.GetAttributes()); len(a) > 0 {
			opts = append(opts, log.WithInstrumentationAttributes(a...))
		}
		lg = cp.lp.Logger(scope.GetName(), opts...)
		cp.loggers[string(scopeKey)] = lg
	}
	lg.Emit(context.Background(), log.Record{})
	rec := cp.cap.rec
	cp.cap.rec = sdklog.Record{}
	return rec
}

func (d *decoder) shutdown(ctx context.Context) {
	d.mu.Lock()
	defer d.mu.Unlock()
	for k, cp := range d.providers {
		_ = cp.lp.Shutdown(ctx)
		delete(d.providers, k)
	}
}
