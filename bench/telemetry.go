package bench

import (
	"context"
	"net/http"

	sdklog "go.opentelemetry.io/otel/sdk/log"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
)

// Telemetry is the SDK setup every benchmark shares: real providers whose
// processors drop what they are given.
type Telemetry struct {
	Tracer *sdktrace.TracerProvider
	Meter  *sdkmetric.MeterProvider
	Logger *sdklog.LoggerProvider
	Reader *sdkmetric.ManualReader // never collected by the benchmarks
}

// NewTelemetry returns the shared SDK setup: AlwaysSample with a span
// processor that drops, a meter provider with a manual reader, and a logger
// provider whose processor drops.
func NewTelemetry() *Telemetry {
	reader := sdkmetric.NewManualReader()
	return &Telemetry{
		Tracer: sdktrace.NewTracerProvider(
			sdktrace.WithSampler(sdktrace.AlwaysSample()),
			sdktrace.WithSpanProcessor(DropSpans{}),
		),
		Meter:  sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader)),
		Logger: sdklog.NewLoggerProvider(sdklog.WithProcessor(DropLogs{})),
		Reader: reader,
	}
}

// Shutdown shuts the providers down.
func (t *Telemetry) Shutdown(ctx context.Context) {
	_ = t.Tracer.Shutdown(ctx)
	_ = t.Meter.Shutdown(ctx)
	_ = t.Logger.Shutdown(ctx)
}

// DropSpans is a span processor that drops every span: spans are recorded
// (attributes, events, status) and ended, but never exported.
type DropSpans struct{}

var _ sdktrace.SpanProcessor = DropSpans{}

// OnStart does nothing.
func (DropSpans) OnStart(context.Context, sdktrace.ReadWriteSpan) {}

// OnEnd drops the span.
func (DropSpans) OnEnd(sdktrace.ReadOnlySpan) {}

// Shutdown does nothing.
func (DropSpans) Shutdown(context.Context) error { return nil }

// ForceFlush does nothing.
func (DropSpans) ForceFlush(context.Context) error { return nil }

// DropLogs is a log processor that drops every record after the SDK has
// built it.
type DropLogs struct{}

var _ sdklog.Processor = DropLogs{}

// OnEmit drops the record.
func (DropLogs) OnEmit(context.Context, *sdklog.Record) error { return nil }

// Enabled reports true: records are built and handed to OnEmit.
func (DropLogs) Enabled(context.Context, sdklog.EnabledParameters) bool { return true }

// Shutdown does nothing.
func (DropLogs) Shutdown(context.Context) error { return nil }

// ForceFlush does nothing.
func (DropLogs) ForceFlush(context.Context) error { return nil }

// Recorder is a cheap http.ResponseWriter for benchmarks: it keeps the
// status and the number of body bytes and reuses its header map, so that
// the writer itself costs no allocation per request (httptest.Recorder
// allocates a header map and a body buffer for every request, which would
// blur the differences measured).
type Recorder struct {
	header http.Header
	Status int
	Bytes  int
}

// NewRecorder returns an empty recorder.
func NewRecorder() *Recorder { return &Recorder{header: make(http.Header, 8)} }

// Reset makes the recorder ready for the next request, keeping the header
// map's storage.
func (r *Recorder) Reset() {
	clear(r.header)
	r.Status, r.Bytes = 0, 0
}

// Header returns the reused header map.
func (r *Recorder) Header() http.Header { return r.header }

// WriteHeader keeps the first status.
func (r *Recorder) WriteHeader(code int) {
	if r.Status == 0 {
		r.Status = code
	}
}

// Write counts the bytes.
func (r *Recorder) Write(b []byte) (int, error) {
	if r.Status == 0 {
		r.Status = http.StatusOK
	}
	r.Bytes += len(b)
	return len(b), nil
}
