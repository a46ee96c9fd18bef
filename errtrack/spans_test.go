package errtrack_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/log"
	sdklog "go.opentelemetry.io/otel/sdk/log"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"

	"github.com/otelkit/otelkit/errtrack"
)

// TestSpanEvents: the Tracker as a span processor reads exception events
// (any *.exception name) with the span's route, method and status, ignores
// other events, and counts a span event once when the same exception also
// came as a log record ("logs/dup").
func TestSpanEvents(t *testing.T) {
	tr := errtrack.New()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(tr))
	lp := sdklog.NewLoggerProvider(sdklog.WithProcessor(tr))
	t.Cleanup(func() {
		_ = tp.Shutdown(context.Background())
		_ = lp.Shutdown(context.Background())
	})
	at := time.Date(2026, 11, 29, 1, 0, 0, 0, time.UTC)
	exc := func(id, msg string) []attribute.KeyValue {
		return []attribute.KeyValue{
			attribute.String("exception.type", "*errors.errorString"),
			attribute.String("exception.message", msg),
			attribute.String("otelkit.error.id", id),
			attribute.String("otelkit.error.fingerprint", id),
			attribute.String("tenant", "acme"),
		}
	}

	// A server span with an exception event and an unrelated event.
	_, span := tp.Tracer("t").Start(context.Background(), "GET /orders/{id}", trace.WithSpanKind(trace.SpanKindServer))
	span.SetAttributes(attribute.String("http.route", "/orders/{id}"), attribute.String("http.request.method", "GET"),
		attribute.Int("http.response.status_code", 503))
	span.AddEvent("http.server.request.exception", trace.WithTimestamp(at), trace.WithAttributes(exc("store.down", "db down")...))
	span.AddEvent("cache.miss")
	// The same exception of another span also as a log record, with the
	// event's timestamp: counted once.
	ctx2, span2 := tp.Tracer("t").Start(context.Background(), "job")
	span2.AddEvent("exception", trace.WithTimestamp(at), trace.WithAttributes(exc("job.failed", "boom")...))
	var r log.Record
	r.SetEventName("exception")
	r.SetTimestamp(at)
	r.SetBody(attribute.StringValue("boom"))
	r.AddAttributes(exc("job.failed", "boom")...)
	lp.Logger("t").Emit(ctx2, r)
	span2.End()
	span.End()

	require.Len(t, tr.Groups(), 2)
	g, ok := tr.Group("store.down")
	require.True(t, ok)
	assert.Equal(t, int64(1), g.Count)
	assert.Equal(t, 503, g.Status)
	assert.Equal(t, "/orders/{id}", g.Route)
	assert.Equal(t, "GET", g.Method)
	assert.Equal(t, "db down", g.Message)
	assert.Equal(t, span.SpanContext().TraceID().String(), g.TraceID)
	assert.Contains(t, g.Extras, attribute.String("tenant", "acme"))
	assert.Equal(t, at, g.LastSeen.UTC())

	j, ok := tr.Group("job.failed")
	require.True(t, ok)
	assert.Equal(t, int64(1), j.Count, "a logs/dup pair is one occurrence")
	assert.Equal(t, int64(2), tr.Stats().Records)
}
