package delivery

import (
	"math"

	"go.opentelemetry.io/otel/attribute"
	sdklog "go.opentelemetry.io/otel/sdk/log"
	cpb "go.opentelemetry.io/proto/otlp/common/v1"
	lpb "go.opentelemetry.io/proto/otlp/logs/v1"
	rpb "go.opentelemetry.io/proto/otlp/resource/v1"
)

// The spool codec before the protowire encoder, kept as the reference the
// encoder is held to: toProto builds the generated OTLP messages for a
// record, and proto.Marshal of them is what frames held until then.

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

// arrayValue encodes a typed attribute slice as an OTLP array value.
func arrayValue[T any](s []T, one func(T) *cpb.AnyValue) *cpb.AnyValue_ArrayValue {
	vals := make([]*cpb.AnyValue, len(s))
	for i, e := range s {
		vals[i] = one(e)
	}
	return &cpb.AnyValue_ArrayValue{ArrayValue: &cpb.ArrayValue{Values: vals}}
}
