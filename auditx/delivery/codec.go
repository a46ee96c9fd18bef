package delivery

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"sync"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/log"
	sdklog "go.opentelemetry.io/otel/sdk/log"
	"go.opentelemetry.io/otel/sdk/resource"
	"go.opentelemetry.io/otel/trace"
	cpb "go.opentelemetry.io/proto/otlp/common/v1"
	lpb "go.opentelemetry.io/proto/otlp/logs/v1"
	rpb "go.opentelemetry.io/proto/otlp/resource/v1"
	"google.golang.org/protobuf/proto"
)

// A spooled record's payload is its sequence number (8 bytes, little endian)
// followed by an OTLP ResourceLogs message holding exactly one ScopeLogs with
// exactly one LogRecord: the same protobuf an OTLP exporter sends.

const seqBytes = 8

// encodeFrame returns a spool frame for r: frameHdr bytes to be filled by the
// writer, 8 bytes for the sequence number (setFrameSeq), then the protobuf.
// It returns nil if r cannot be encoded.
func encodeFrame(r *sdklog.Record) []byte {
	buf := make([]byte, frameHdr+seqBytes, 512)
	out, err := proto.MarshalOptions{}.MarshalAppend(buf, toProto(r))
	if err != nil {
		return nil
	}
	return out
}

func setFrameSeq(frame []byte, seq uint64) {
	binary.LittleEndian.PutUint64(frame[frameHdr:], seq)
}

func toProto(r *sdklog.Record) *lpb.ResourceLogs {
	lr := &lpb.LogRecord{
		TimeUnixNano:         unixNano(r.Timestamp()),
		ObservedTimeUnixNano: unixNano(r.ObservedTimestamp()),
		EventName:            r.EventName(),
		SeverityNumber:       lpb.SeverityNumber(r.Severity()),
		SeverityText:         r.SeverityText(),
		Body:                 anyValue(r.Body()),
		Attributes:           make([]*cpb.KeyValue, 0, r.AttributesLen()),
		Flags:                uint32(r.TraceFlags()),
	}
	if n := r.DroppedAttributes(); n > 0 && n <= math.MaxUint32 {
		lr.DroppedAttributesCount = uint32(n)
	}
	r.WalkAttributes(func(kv attribute.KeyValue) bool {
		lr.Attributes = append(lr.Attributes, &cpb.KeyValue{Key: string(kv.Key), Value: anyValue(kv.Value)})
		return true
	})
	if id := r.TraceID(); id.IsValid() {
		lr.TraceId = id[:]
	}
	if id := r.SpanID(); id.IsValid() {
		lr.SpanId = id[:]
	}

	sc := r.InstrumentationScope()
	sl := &lpb.ScopeLogs{
		Scope: &cpb.InstrumentationScope{
			Name:       sc.Name,
			Version:    sc.Version,
			Attributes: kvs(sc.Attributes.ToSlice()),
		},
		SchemaUrl:  sc.SchemaURL,
		LogRecords: []*lpb.LogRecord{lr},
	}
	rl := &lpb.ResourceLogs{ScopeLogs: []*lpb.ScopeLogs{sl}}
	if res := r.Resource(); res != nil {
		rl.Resource = &rpb.Resource{Attributes: kvs(res.Attributes())}
		rl.SchemaUrl = res.SchemaURL()
	}
	return rl
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

func kvs(in []attribute.KeyValue) []*cpb.KeyValue {
	if len(in) == 0 {
		return nil
	}
	out := make([]*cpb.KeyValue, len(in))
	for i, kv := range in {
		out[i] = &cpb.KeyValue{Key: string(kv.Key), Value: anyValue(kv.Value)}
	}
	return out
}

// anyValue converts v the way the OTLP exporters do, so a replayed record
// reaches the collector exactly as the original would have.
func anyValue(v attribute.Value) *cpb.AnyValue {
	av := new(cpb.AnyValue)
	switch v.Type() {
	case attribute.BOOL:
		av.Value = &cpb.AnyValue_BoolValue{BoolValue: v.AsBool()}
	case attribute.INT64:
		av.Value = &cpb.AnyValue_IntValue{IntValue: v.AsInt64()}
	case attribute.FLOAT64:
		av.Value = &cpb.AnyValue_DoubleValue{DoubleValue: v.AsFloat64()}
	case attribute.STRING:
		av.Value = &cpb.AnyValue_StringValue{StringValue: v.AsString()}
	case attribute.BYTESLICE:
		av.Value = &cpb.AnyValue_BytesValue{BytesValue: v.AsByteSlice()}
	case attribute.BOOLSLICE:
		av.Value = arrayValue(v.AsBoolSlice(), func(b bool) *cpb.AnyValue { return &cpb.AnyValue{Value: &cpb.AnyValue_BoolValue{BoolValue: b}} })
	case attribute.INT64SLICE:
		av.Value = arrayValue(v.AsInt64Slice(), func(n int64) *cpb.AnyValue { return &cpb.AnyValue{Value: &cpb.AnyValue_IntValue{IntValue: n}} })
	case attribute.FLOAT64SLICE:
		av.Value = arrayValue(v.AsFloat64Slice(), func(f float64) *cpb.AnyValue { return &cpb.AnyValue{Value: &cpb.AnyValue_DoubleValue{DoubleValue: f}} })
	case attribute.STRINGSLICE:
		av.Value = arrayValue(v.AsStringSlice(), func(str string) *cpb.AnyValue {
			return &cpb.AnyValue{Value: &cpb.AnyValue_StringValue{StringValue: str}}
		})
	case attribute.SLICE:
		s := v.AsSlice()
		vals := make([]*cpb.AnyValue, len(s))
		for i, e := range s {
			vals[i] = anyValue(e)
		}
		av.Value = &cpb.AnyValue_ArrayValue{ArrayValue: &cpb.ArrayValue{Values: vals}}
	case attribute.MAP:
		av.Value = &cpb.AnyValue_KvlistValue{KvlistValue: &cpb.KeyValueList{Values: kvs(v.AsMap())}}
	case attribute.EMPTY:
		return nil
	default:
		av.Value = &cpb.AnyValue_StringValue{StringValue: "INVALID"}
	}
	return av
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

// arrayValue encodes a typed attribute slice as an OTLP array value.
func arrayValue[T any](s []T, one func(T) *cpb.AnyValue) *cpb.AnyValue_ArrayValue {
	vals := make([]*cpb.AnyValue, len(s))
	for i, e := range s {
		vals[i] = one(e)
	}
	return &cpb.AnyValue_ArrayValue{ArrayValue: &cpb.ArrayValue{Values: vals}}
}
