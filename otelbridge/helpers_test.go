package otelbridge_test

import (
	"context"
	"sync"
	"testing"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	sdklog "go.opentelemetry.io/otel/sdk/log"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
)

// logSink is a processor that keeps clones of every record it sees.
type logSink struct {
	mu   sync.Mutex
	recs []sdklog.Record
}

func (s *logSink) OnEmit(_ context.Context, r *sdklog.Record) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.recs = append(s.recs, r.Clone())
	return nil
}
func (s *logSink) Enabled(context.Context, sdklog.EnabledParameters) bool { return true }
func (s *logSink) Shutdown(context.Context) error                         { return nil }
func (s *logSink) ForceFlush(context.Context) error                       { return nil }

func (s *logSink) records() []sdklog.Record {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]sdklog.Record(nil), s.recs...)
}

func attrs(r sdklog.Record) map[string]attribute.Value {
	m := map[string]attribute.Value{}
	r.WalkAttributes(func(kv attribute.KeyValue) bool {
		m[string(kv.Key)] = kv.Value
		return true
	})
	return m
}

func spanAttrs(kvs []attribute.KeyValue) map[string]attribute.Value {
	m := map[string]attribute.Value{}
	for _, kv := range kvs {
		m[string(kv.Key)] = kv.Value
	}
	return m
}

// installProviders sets global tracer and logger providers recording into
// memory, and restores the previous ones when the test ends.
func installProviders(t *testing.T) (*tracetest.SpanRecorder, *logSink) {
	t.Helper()
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	sink := &logSink{}
	lp := sdklog.NewLoggerProvider(sdklog.WithProcessor(sink))
	prevTP, prevLP := otel.GetTracerProvider(), otel.GetLoggerProvider()
	otel.SetTracerProvider(tp)
	otel.SetLoggerProvider(lp)
	t.Cleanup(func() {
		otel.SetTracerProvider(prevTP)
		otel.SetLoggerProvider(prevLP)
	})
	return rec, sink
}
