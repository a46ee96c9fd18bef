package delivery

import (
	"strings"
	"unicode/utf8"

	"go.opentelemetry.io/otel/attribute"
	sdklog "go.opentelemetry.io/otel/sdk/log"
)

// OTLP strings are protobuf strings and must be valid UTF-8: the OTLP
// exporters fail a whole batch that holds one invalid string, which would
// block an at-least-once pipeline for good. sanitize replaces invalid bytes
// with U+FFFD in the event name, severity text, body and attributes (keys and
// values, nested too) and reports whether it changed anything.
func sanitize(r *sdklog.Record) bool {
	changed := false
	if s, ok := fixString(r.EventName()); ok {
		r.SetEventName(s)
		changed = true
	}
	if s, ok := fixString(r.SeverityText()); ok {
		r.SetSeverityText(s)
		changed = true
	}
	if v, ok := fixValue(r.Body()); ok {
		r.SetBody(v)
		changed = true
	}
	var attrs []attribute.KeyValue
	attrsChanged := false
	r.WalkAttributes(func(kv attribute.KeyValue) bool {
		if fixed, ok := fixKV(kv); ok {
			kv = fixed
			attrsChanged = true
		}
		attrs = append(attrs, kv)
		return true
	})
	if attrsChanged {
		r.SetAttributes(attrs...)
		changed = true
	}
	return changed
}

func fixString(s string) (string, bool) {
	if utf8.ValidString(s) {
		return s, false
	}
	return strings.ToValidUTF8(s, "\uFFFD"), true
}

func fixKV(kv attribute.KeyValue) (attribute.KeyValue, bool) {
	k, kc := fixString(string(kv.Key))
	v, vc := fixValue(kv.Value)
	return attribute.KeyValue{Key: attribute.Key(k), Value: v}, kc || vc
}

func fixValue(v attribute.Value) (attribute.Value, bool) {
	switch v.Type() {
	case attribute.STRING:
		if s, ok := fixString(v.AsString()); ok {
			return attribute.StringValue(s), true
		}
	case attribute.STRINGSLICE:
		ss := v.AsStringSlice()
		changed := false
		for i, s := range ss {
			if f, ok := fixString(s); ok {
				ss[i] = f
				changed = true
			}
		}
		if changed {
			return attribute.StringSliceValue(ss), true
		}
	case attribute.SLICE:
		vs := v.AsSlice()
		changed := false
		for i, e := range vs {
			if f, ok := fixValue(e); ok {
				vs[i] = f
				changed = true
			}
		}
		if changed {
			return attribute.SliceValue(vs...), true
		}
	case attribute.MAP:
		kvs := v.AsMap()
		changed := false
		for i, kv := range kvs {
			if f, ok := fixKV(kv); ok {
				kvs[i] = f
				changed = true
			}
		}
		if changed {
			return attribute.MapValue(kvs...), true
		}
	}
	return v, false
}
