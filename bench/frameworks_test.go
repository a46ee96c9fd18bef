package bench_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/otelkit/otelkit/bench"
)

// serveFramework runs one request per iteration through h (see serve).
func serveFramework(b *testing.B, h http.Handler, method, path string, wantStatus int) {
	req := httptest.NewRequest(method, path, nil)
	rec := bench.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Status != wantStatus {
		b.Fatalf("%s %s: status %d, want %d", method, path, rec.Status, wantStatus)
	}
	run(b, func() {
		rec.Reset()
		h.ServeHTTP(rec, req)
	})
}

// withoutTraceID drops the trace id (each request has its own) and the
// final newline some encoders add.
func withoutTraceID(body string) string {
	body = strings.TrimSpace(body)
	if i := strings.Index(body, `,"trace_id":"`); i >= 0 {
		return body[:i] + "}"
	}
	return body
}

var frameworkCases = []struct {
	status       int
	method, path string
}{
	{http.StatusTooManyRequests, http.MethodPost, bench.Path4xx},
	{http.StatusServiceUnavailable, http.MethodGet, bench.Path5xx},
}

// BenchmarkGinError is BenchmarkError on gin under otelgin: ginx
// (c.Error, rendered and recorded through httpx) against gin's own c.JSON
// with the hand-written recording (span, otelgin's metric, exception
// record).
func BenchmarkGinError(b *testing.B) {
	benchFramework(b, bench.NewGinService)
}

// BenchmarkEchoError is BenchmarkError on echo under otelecho: echox (a
// returned error, rendered and recorded through httpx) against echo's own
// c.JSON with the hand-written recording.
func BenchmarkEchoError(b *testing.B) {
	benchFramework(b, bench.NewEchoService)
}

func benchFramework(b *testing.B, service func(string, *bench.Telemetry) http.Handler) {
	for _, c := range frameworkCases {
		for _, impl := range []string{bench.ImplHandwritten, bench.ImplOtelkit} {
			b.Run("status="+itoa(c.status)+"/impl="+impl, func(b *testing.B) {
				tel := bench.NewTelemetry()
				b.Cleanup(func() { tel.Shutdown(context.Background()) })
				serveFramework(b, service(impl, tel), c.method, c.path, c.status)
			})
		}
	}
}

// TestFrameworkBodies: both implementations answer the same status and
// body shape, so that the benchmarks compare equal work.
func TestFrameworkBodies(t *testing.T) {
	for name, service := range map[string]func(string, *bench.Telemetry) http.Handler{"gin": bench.NewGinService, "echo": bench.NewEchoService} {
		for _, c := range frameworkCases {
			t.Run(name+"/"+itoa(c.status), func(t *testing.T) {
				var bodies []string
				for _, impl := range []string{bench.ImplHandwritten, bench.ImplOtelkit} {
					tel := bench.NewTelemetry()
					defer tel.Shutdown(context.Background())
					rec := httptest.NewRecorder()
					service(impl, tel).ServeHTTP(rec, httptest.NewRequest(c.method, c.path, nil))
					if rec.Code != c.status || rec.Header().Get("Content-Type") != "application/problem+json" {
						t.Fatalf("%s: %d %q", impl, rec.Code, rec.Header().Get("Content-Type"))
					}
					bodies = append(bodies, withoutTraceID(rec.Body.String()))
				}
				if bodies[0] != bodies[1] {
					t.Errorf("bodies differ:\nhand-written: %s\notelkit:      %s", bodies[0], bodies[1])
				}
			})
		}
	}
}
