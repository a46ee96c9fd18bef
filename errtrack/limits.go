package errtrack

import (
	"strconv"
	"unicode/utf8"

	"go.opentelemetry.io/otel/attribute"

	"github.com/otelkit/otelkit/mask"
)

// Size caps of what one occurrence stores, so that memory is bounded by size
// as well as by the counts of [WithMaxFingerprints] and [WithMaxOccurrences].
// A longer text keeps its first bytes (cut at a UTF-8 boundary) followed by
// a marker such as "… [truncated 1234 bytes]".
const (
	MaxMessageBytes = 8 << 10  // message of an occurrence
	MaxStackBytes   = 32 << 10 // stack of an occurrence
	MaxValueBytes   = 1 << 10  // each attribute, info and extra value (as text)
	MaxKeyBytes     = 256      // each attribute, info and extra key
)

// truncatedMarker starts the text appended to a truncated value.
const truncatedMarker = "… [truncated "

// clip returns s cut to at most n bytes plus a truncation marker, or s when
// it fits.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	i := n
	for i > 0 && !utf8.RuneStart(s[i]) {
		i--
	}
	return s[:i] + truncatedMarker + strconv.Itoa(len(s)-i) + " bytes]"
}

// maskClip masks s with p and caps it at n bytes. Masking runs on a prefix of
// a few times n, so a huge text costs bounded work; what lies beyond that
// prefix is cut away anyway.
func maskClip(p *mask.Policy, s string, n int) string {
	if len(s) > 4*n {
		s = clip(s, 4*n)
	}
	return clip(p.Text(s), n)
}

// storeAttr returns kv as stored: masked with p (structured values at any
// depth, strings as free text), its key capped at [MaxKeyBytes] and its
// value at [MaxValueBytes].
func storeAttr(p *mask.Policy, kv attribute.KeyValue) attribute.KeyValue {
	if kv.Value.Type() == attribute.STRING && len(kv.Value.AsString()) > 4*MaxValueBytes {
		kv.Value = attribute.StringValue(clip(kv.Value.AsString(), 4*MaxValueBytes))
	}
	m := p.Attr(kv)
	m.Key = attribute.Key(clip(string(m.Key), MaxKeyBytes))
	m.Value = clipValue(m.Value)
	return m
}

// clipValue caps v at [MaxValueBytes]: a long string is cut, and a composite
// value (slice, map, bytes) whose text form is longer becomes that text, cut.
func clipValue(v attribute.Value) attribute.Value {
	switch v.Type() {
	case attribute.EMPTY, attribute.BOOL, attribute.INT64, attribute.FLOAT64:
		return v
	case attribute.STRING:
		if s := v.AsString(); len(s) > MaxValueBytes {
			return attribute.StringValue(clip(s, MaxValueBytes))
		}
		return v
	}
	if s := v.String(); len(s) > MaxValueBytes {
		return attribute.StringValue(clip(s, MaxValueBytes))
	}
	return v
}
