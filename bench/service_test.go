package bench_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"

	"github.com/otelkit/otelkit/bench"
)

// TestEquivalentBodies checks that the hand-written error path answers
// what otelkit answers (same status, content type and problem fields, the
// trace id aside), so the benchmark compares equal work.
func TestEquivalentBodies(t *testing.T) {
	tel := bench.NewTelemetry()
	t.Cleanup(func() { tel.Shutdown(context.Background()) })
	body := func(impl, method, path string) (int, string, map[string]any) {
		h, err := bench.NewService(impl, tel)
		require.NoError(t, err)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(method, path, nil))
		var m map[string]any
		require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &m), rec.Body.String())
		assert.Len(t, m["trace_id"], 32)
		delete(m, "trace_id")
		return rec.Code, rec.Header().Get("Content-Type"), m
	}
	for _, c := range []struct {
		name, method, path string
		status             int
	}{
		{"429", http.MethodPost, bench.Path4xx, http.StatusTooManyRequests},
		{"503", http.MethodGet, bench.Path5xx, http.StatusServiceUnavailable},
		{"panic", http.MethodGet, bench.PathPanic, http.StatusInternalServerError},
	} {
		t.Run(c.name, func(t *testing.T) {
			ks, kct, kit := body(bench.ImplOtelkit, c.method, c.path)
			hs, hct, hand := body(bench.ImplHandwritten, c.method, c.path)
			assert.Equal(t, c.status, ks)
			assert.Equal(t, ks, hs)
			assert.Equal(t, kct, hct)
			assert.Equal(t, kit, hand)
		})
	}
}

// TestRouteOnSpan: the server span carries http.route where the benchmark
// says it does (otelkit, and the peers with RouteOnSpan) and not where it
// says it does not (otelhttp and humarec alone), so the info lines that
// compare otelkit with the RouteOnSpan peers compare the same span.
func TestRouteOnSpan(t *testing.T) {
	for _, c := range []struct {
		impl, method, path, route string
		status                    int
	}{
		{bench.ImplOtelhttp, http.MethodGet, bench.PathSuccess, "", http.StatusOK},
		{bench.ImplOtelhttpRoute, http.MethodGet, bench.PathSuccess, "/users/{id}", http.StatusOK},
		{bench.ImplOtelkit, http.MethodGet, bench.PathSuccess, "/users/{id}", http.StatusOK},
		{bench.ImplHumaRecord, http.MethodPost, bench.Path4xx, "", http.StatusTooManyRequests},
		{bench.ImplHumaRecordRoute, http.MethodPost, bench.Path4xx, "/login", http.StatusTooManyRequests},
		{bench.ImplOtelkit, http.MethodPost, bench.Path4xx, "/login", http.StatusTooManyRequests},
	} {
		t.Run(c.impl+c.path, func(t *testing.T) {
			spans := tracetest.NewSpanRecorder()
			tel := bench.NewTelemetry()
			tel.Tracer = sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(spans))
			defer tel.Shutdown(context.Background())
			h, err := bench.NewService(c.impl, tel)
			require.NoError(t, err)
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest(c.method, c.path, nil))
			require.Equal(t, c.status, rec.Code)
			ended := spans.Ended()
			require.Len(t, ended, 1)
			var route string
			for _, kv := range ended[0].Attributes() {
				if kv.Key == semconv.HTTPRouteKey {
					route = kv.Value.AsString()
				}
			}
			assert.Equal(t, c.route, route, "http.route on the server span")
		})
	}
}
