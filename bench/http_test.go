package bench_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"runtime"
	"testing"

	"github.com/otelkit/otelkit/bench"
)

// serve runs one request per iteration through the handler of impl. The
// request is made once and reused (otelhttp and httpx copy it with
// WithContext, so it is never modified); the writer is a bench.Recorder
// whose header map is cleared and reused, so neither costs an allocation
// of its own per iteration.
func serve(b *testing.B, impl, method, path string, wantStatus int) {
	tel := bench.NewTelemetry()
	b.Cleanup(func() { tel.Shutdown(context.Background()) })
	h, err := bench.NewService(impl, tel)
	if err != nil {
		b.Fatal(err)
	}
	req := httptest.NewRequest(method, path, nil)
	rec := bench.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Status != wantStatus {
		b.Fatalf("%s %s %s: status %d, want %d", impl, method, path, rec.Status, wantStatus)
	}
	run(b, func() {
		rec.Reset()
		h.ServeHTTP(rec, req)
	})
}

// BenchmarkSuccess is a 200 answered by a handler that writes a small JSON
// body: bare (no telemetry), otelhttp alone, otelhttp + httpx.Handler +
// httpx.HandlerFunc (otelkit), and httpx without otelhttp (httpx - bare is
// httpx's own cost, measured away from otelhttp's noise). The target:
// otelkit adds 0 allocations and at most 3% time over otelhttp.
func BenchmarkSuccess(b *testing.B) {
	for _, impl := range []string{bench.ImplOtelhttp, bench.ImplBare, bench.ImplOtelkit, bench.ImplHttpx, bench.ImplOtelhttpRoute} {
		b.Run("impl="+impl, func(b *testing.B) {
			serve(b, impl, http.MethodGet, bench.PathSuccess, http.StatusOK)
		})
	}
}

// BenchmarkError is the same request answered with a registered 4xx (429
// with info retry_after=30) and a 5xx (503 wrapping a cause), by the
// hand-written equivalent of otelkit, by otelkit, by sentry-go (sentryhttp
// + CaptureException, the body written like the hand-written one), by
// huma (huma.WriteErr, which records nothing) and by huma plus the
// hand-written recording (humarec). The target: otelkit at most 1.2x
// hand-written and faster than sentry and huma.
func BenchmarkError(b *testing.B) {
	for _, c := range errorCases {
		for _, impl := range []string{bench.ImplHandwritten, bench.ImplOtelkit, bench.ImplSentry, bench.ImplHuma, bench.ImplHumaRecord, bench.ImplHumaRecordRoute} {
			b.Run("status="+itoa(c.status)+"/impl="+impl, func(b *testing.B) {
				serve(b, impl, c.method, c.path, c.status)
			})
		}
	}
}

// BenchmarkPanic is a handler that panics: recovered, answered 500 and
// recorded (span status and event with the stack, exception log record) by
// the hand-written recover middleware and by httpx.Handler; sentryhttp
// recovers and captures but writes no body.
func BenchmarkPanic(b *testing.B) {
	for _, c := range []struct {
		impl   string
		status int
	}{
		{bench.ImplHandwritten, http.StatusInternalServerError},
		{bench.ImplOtelkit, http.StatusInternalServerError},
		{bench.ImplSentry, 0}, // sentryhttp writes nothing (net/http would then send 200)
	} {
		b.Run("impl="+c.impl, func(b *testing.B) {
			serve(b, c.impl, http.MethodGet, bench.PathPanic, c.status)
		})
	}
}

func itoa(n int) string {
	const digits = "0123456789"
	return string([]byte{digits[n/100], digits[n/10%10], digits[n%10]})
}

// BenchmarkRender is the error path without any telemetry (no otelhttp, so
// no span; otelkit logs into a no-op provider): httpx.Handler around a
// ServeMux against huma.WriteErr around a ServeMux, same recorder, same
// status. The target: otelkit at most 1.0x huma in time and at most one
// allocation more.
func BenchmarkRender(b *testing.B) {
	for _, c := range errorCases {
		for _, impl := range []string{bench.ImplRenderHuma, bench.ImplRenderOtelkit, bench.ImplRenderHumaCtx} {
			if impl == bench.ImplRenderHumaCtx && c.status != http.StatusTooManyRequests {
				continue
			}
			b.Run("status="+itoa(c.status)+"/impl="+impl, func(b *testing.B) {
				h, req, rec := renderSetup(b, impl, c.status, c.method, c.path)
				run(b, func() {
					rec.Reset()
					h.ServeHTTP(rec, req)
				})
			})
		}
	}
}

// errorCases are the two errors every error benchmark answers: a 429 with
// info retry_after=30 and a 503 wrapping a cause.
var errorCases = []struct {
	status       int
	method, path string
}{
	{http.StatusTooManyRequests, http.MethodPost, bench.Path4xx},
	{http.StatusServiceUnavailable, http.MethodGet, bench.Path5xx},
}

func renderSetup(b *testing.B, impl string, status int, method, path string) (http.Handler, *http.Request, *bench.Recorder) {
	h, err := bench.NewRenderService(impl)
	if err != nil {
		b.Fatal(err)
	}
	req := httptest.NewRequest(method, path, nil)
	rec := bench.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Status != status {
		b.Fatalf("%s: status %d, want %d", impl, rec.Status, status)
	}
	return h, req, rec
}

// BenchmarkRenderGC is BenchmarkRender's 429 where the GC's CPU is not
// inflated by an idle core (no target; BENCHMARKS.md, issue 16). With one
// benchmark goroutine on 2 Ps, the runtime's idle mark worker occupies the
// idle P during every GC cycle and cpu-ns/op counts it, so the ratio
// follows bytes allocated per request more than work done. mode=procs1 runs
// with GOMAXPROCS=1; mode=parallel keeps every P busy (b.RunParallel, as on a
// loaded server), so no idle worker runs.
func BenchmarkRenderGC(b *testing.B) {
	c := errorCases[0]
	impls := []string{bench.ImplRenderHuma, bench.ImplRenderOtelkit}
	for _, impl := range impls {
		b.Run("mode=procs1/impl="+impl, func(b *testing.B) {
			h, req, rec := renderSetup(b, impl, c.status, c.method, c.path)
			defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
			run(b, func() {
				rec.Reset()
				h.ServeHTTP(rec, req)
			})
		})
	}
	for _, impl := range impls {
		b.Run("mode=parallel/impl="+impl, func(b *testing.B) {
			h, _, _ := renderSetup(b, impl, c.status, c.method, c.path)
			b.ReportAllocs()
			start := cpuNow()
			b.RunParallel(func(pb *testing.PB) {
				// Each goroutine its own request: ServeMux sets the
				// pattern on the request it is given (huma's case).
				req := httptest.NewRequest(c.method, c.path, nil)
				rec := bench.NewRecorder()
				for pb.Next() {
					rec.Reset()
					h.ServeHTTP(rec, req)
				}
			})
			if b.N > 0 {
				b.ReportMetric(float64(cpuNow()-start)/float64(b.N), "cpu-ns/op")
			}
		})
	}
}
