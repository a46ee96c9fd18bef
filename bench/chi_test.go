package bench_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"

	"github.com/otelkit/otelkit/bench"
)

// chiExtraAllocs is what otelhttp + httpx.Handler around a chi router
// allocate per successful request beyond otelhttp around the same router,
// as measured when it was written (40 and 40): the target allows one.
// httpx's exchange (with its side, which gives chi a routing context from
// chi's pool) takes the place of the context value and the request copy
// chi makes for itself when nothing outside routes the request.
const chiExtraAllocs = 0

// BenchmarkChiSuccess is BenchmarkSuccess's 200 routed by a chi router
// (GET /users/{id}) inside otelhttp: the router alone (otelhttp), inside
// httpx.Handler with an httpx.HandlerFunc route (otelkit), and with
// http.route set on the span by hand (otelhttproute, no target). Target:
// otelkit at most 1.03x otelhttp and one allocation more.
func BenchmarkChiSuccess(b *testing.B) {
	for _, impl := range []string{bench.ImplOtelhttp, bench.ImplOtelkit, bench.ImplOtelhttpRoute} {
		b.Run("impl="+impl, func(b *testing.B) {
			tel := bench.NewTelemetry()
			b.Cleanup(func() { tel.Shutdown(context.Background()) })
			h, err := bench.NewChiService(impl, tel)
			if err != nil {
				b.Fatal(err)
			}
			serveFramework(b, h, http.MethodGet, bench.PathSuccess, http.StatusOK)
		})
	}
}

func chiAllocs(t *testing.T, impl string) float64 {
	tel := bench.NewTelemetry()
	t.Cleanup(func() { tel.Shutdown(context.Background()) })
	h, err := bench.NewChiService(impl, tel)
	require.NoError(t, err)
	req := httptest.NewRequest(http.MethodGet, bench.PathSuccess, nil)
	rec := bench.NewRecorder()
	h.ServeHTTP(rec, req)
	require.Equal(t, http.StatusOK, rec.Status)
	return testing.AllocsPerRun(200, func() {
		rec.Reset()
		h.ServeHTTP(rec, req)
	})
}

// TestChiSuccessAllocBudget: httpx around a chi router allocates no more
// per successful request than chi alone inside otelhttp (the target allows
// one more).
func TestChiSuccessAllocBudget(t *testing.T) {
	base, kit := chiAllocs(t, bench.ImplOtelhttp), chiAllocs(t, bench.ImplOtelkit)
	t.Logf("chi: otelhttp %v allocs/request, otelkit %v (%+v)", base, kit, kit-base)
	assert.LessOrEqual(t, kit-base, float64(chiExtraAllocs), "httpx allocations per successful chi request over otelhttp")
}

// TestChiSameAnswer: every implementation of BenchmarkChiSuccess answers
// the same status, content type and body, and otelkit's and the
// hand-written route's spans carry http.route (otelhttp alone leaves it
// off: chi matches inside it).
func TestChiSameAnswer(t *testing.T) {
	var bodies []string
	for _, impl := range []string{bench.ImplOtelhttp, bench.ImplOtelkit, bench.ImplOtelhttpRoute} {
		spans := tracetestRecorder()
		tel := bench.NewTelemetry()
		tel.Tracer = spans.provider
		h, err := bench.NewChiService(impl, tel)
		require.NoError(t, err)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, bench.PathSuccess, nil))
		require.Equal(t, http.StatusOK, rec.Code, impl)
		require.Equal(t, "application/json", rec.Header().Get("Content-Type"), impl)
		bodies = append(bodies, rec.Body.String())
		route := hasAttr(spans.only(t).Attributes(), semconv.HTTPRoute("/users/{id}"))
		assert.Equal(t, impl != bench.ImplOtelhttp, route, "%s: http.route on the span", impl)
	}
	assert.Equal(t, bodies[0], bodies[1])
	assert.Equal(t, bodies[0], bodies[2])
}
