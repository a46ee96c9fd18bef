package httpx_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"go.opentelemetry.io/otel/attribute"
	sdklog "go.opentelemetry.io/otel/sdk/log"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/otelkit/otelkit/httpx"
)

// memExporter keeps exported log records in memory. The SDK has no
// in-memory log exporter, so this is the smallest real sdklog.Exporter.
type memExporter struct {
	mu   sync.Mutex
	recs []sdklog.Record
}

func (e *memExporter) Export(_ context.Context, recs []sdklog.Record) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, r := range recs {
		e.recs = append(e.recs, r.Clone())
	}
	return nil
}

func (e *memExporter) Shutdown(context.Context) error   { return nil }
func (e *memExporter) ForceFlush(context.Context) error { return nil }

func (e *memExporter) records() []sdklog.Record {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]sdklog.Record(nil), e.recs...)
}

// telemetry is a real SDK tracer, meter and logger provider with in-memory
// readers.
type telemetry struct {
	spans  *tracetest.SpanRecorder
	tp     *sdktrace.TracerProvider
	reader *sdkmetric.ManualReader
	mp     *sdkmetric.MeterProvider
	logs   *memExporter
	lp     *sdklog.LoggerProvider
}

func newTelemetry(t *testing.T) *telemetry {
	t.Helper()
	tel := &telemetry{spans: tracetest.NewSpanRecorder(), reader: sdkmetric.NewManualReader(), logs: &memExporter{}}
	tel.tp = sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(tel.spans))
	tel.mp = sdkmetric.NewMeterProvider(sdkmetric.WithReader(tel.reader))
	tel.lp = sdklog.NewLoggerProvider(sdklog.WithProcessor(sdklog.NewSimpleProcessor(tel.logs)))
	t.Cleanup(func() {
		ctx := context.Background()
		_ = tel.tp.Shutdown(ctx)
		_ = tel.mp.Shutdown(ctx)
		_ = tel.lp.Shutdown(ctx)
	})
	return tel
}

// serve wraps mux in httpx.Handler (with the logger provider and opts) and
// otelhttp (with the tracer and meter providers), as a service would.
func (tel *telemetry) serve(mux http.Handler, opts ...httpx.Option) http.Handler {
	opts = append([]httpx.Option{httpx.WithLoggerProvider(tel.lp)}, opts...)
	return otelhttp.NewHandler(httpx.Handler(mux, opts...), "api",
		otelhttp.WithTracerProvider(tel.tp), otelhttp.WithMeterProvider(tel.mp))
}

// onlySpan returns the single ended span.
func (tel *telemetry) onlySpan(t *testing.T) sdktrace.ReadOnlySpan {
	t.Helper()
	spans := tel.spans.Ended()
	require.Len(t, spans, 1)
	return spans[0]
}

// durationPoints returns the data points of http.server.request.duration.
func (tel *telemetry) durationPoints(t *testing.T) []metricdata.HistogramDataPoint[float64] {
	t.Helper()
	var rm metricdata.ResourceMetrics
	require.NoError(t, tel.reader.Collect(context.Background(), &rm))
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			if m.Name == "http.server.request.duration" {
				h, ok := m.Data.(metricdata.Histogram[float64])
				require.True(t, ok, "%T", m.Data)
				return h.DataPoints
			}
		}
	}
	t.Fatal("no http.server.request.duration metric")
	return nil
}

// exceptionEvents returns the span's exception events (any name IsException accepts).
func exceptionEvents(s sdktrace.ReadOnlySpan) []sdktrace.Event {
	var out []sdktrace.Event
	for _, e := range s.Events() {
		if e.Name == "exception" || strings.HasSuffix(e.Name, ".exception") {
			out = append(out, e)
		}
	}
	return out
}

// attrMap turns attributes into a map keyed by name.
func attrMap(kvs []attribute.KeyValue) map[string]attribute.Value {
	m := make(map[string]attribute.Value, len(kvs))
	for _, kv := range kvs {
		m[string(kv.Key)] = kv.Value
	}
	return m
}

// logAttrs returns the attributes of a log record.
func logAttrs(r sdklog.Record) map[string]attribute.Value {
	m := map[string]attribute.Value{}
	r.WalkAttributes(func(kv attribute.KeyValue) bool {
		m[string(kv.Key)] = kv.Value
		return true
	})
	return m
}

// do sends a request to h and returns the recorded response.
func do(h http.Handler, method, target string, header ...string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, target, nil)
	req.RemoteAddr = "192.0.2.7:43210"
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

// body decodes a JSON response body.
func body(t *testing.T, rec *httptest.ResponseRecorder) map[string]any {
	t.Helper()
	var m map[string]any
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &m), rec.Body.String())
	return m
}

// hookWriter calls onWriteHeader before the response starts.
type hookWriter struct {
	http.ResponseWriter
	onWriteHeader func()
}

func (w hookWriter) WriteHeader(code int) {
	w.onWriteHeader()
	w.ResponseWriter.WriteHeader(code)
}

func (w hookWriter) Write(b []byte) (int, error) { return w.ResponseWriter.Write(b) }

// discard is a ResponseWriter that keeps nothing, for allocation counts.
type discard struct{}

var discardHeader = http.Header{}

func (discard) Header() http.Header         { return discardHeader }
func (discard) Write(b []byte) (int, error) { return len(b), nil }
func (discard) WriteHeader(int)             {}

func httptestRequest(ctx context.Context, method, target string) *http.Request {
	req := httptest.NewRequestWithContext(ctx, method, target, nil)
	req.RemoteAddr = "192.0.2.7:43210"
	return req
}

func httptestRecorder() *httptest.ResponseRecorder { return httptest.NewRecorder() }

// otelhttpWrap wraps an already built handler in otelhttp with tel's
// providers.
func otelhttpWrap(tel *telemetry, h http.Handler) http.Handler {
	return otelhttp.NewHandler(h, "api", otelhttp.WithTracerProvider(tel.tp), otelhttp.WithMeterProvider(tel.mp))
}
