package bench_test

import (
	"reflect"
	"slices"
	"strings"
	"testing"

	"go.opentelemetry.io/otel/attribute"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
)

// spanRecorder is a tracer provider that keeps the spans it ends, for the
// tests that check two implementations record the same span.
type spanRecorder struct {
	provider *sdktrace.TracerProvider
	rec      *tracetest.SpanRecorder
}

func tracetestRecorder() *spanRecorder {
	rec := tracetest.NewSpanRecorder()
	return &spanRecorder{provider: sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec)), rec: rec}
}

// only returns the one span ended so far.
func (s *spanRecorder) only(t *testing.T) sdktrace.ReadOnlySpan {
	t.Helper()
	ended := s.rec.Ended()
	if len(ended) != 1 {
		t.Fatalf("%d spans ended, want 1", len(ended))
	}
	return ended[0]
}

// sortedAttrs returns the attributes sorted by key, then value.
func sortedAttrs(attrs []attribute.KeyValue) []attribute.KeyValue {
	s := slices.Clone(attrs)
	slices.SortFunc(s, func(a, b attribute.KeyValue) int {
		if c := strings.Compare(string(a.Key), string(b.Key)); c != 0 {
			return c
		}
		return strings.Compare(a.Value.String(), b.Value.String())
	})
	return s
}

func equalAttrs(a, b []attribute.KeyValue) bool {
	return slices.EqualFunc(a, b, func(x, y attribute.KeyValue) bool { return x.Key == y.Key && x.Value == y.Value })
}

func hasAttr(attrs []attribute.KeyValue, kv attribute.KeyValue) bool {
	return slices.ContainsFunc(attrs, func(x attribute.KeyValue) bool { return x.Key == kv.Key && x.Value == kv.Value })
}

// equalAny compares two sets of public info as a client reads them:
// same keys, values of the same types and values.
func equalAny(a, b map[string]any) bool { return reflect.DeepEqual(a, b) }
