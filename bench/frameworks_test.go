package bench_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"
	"github.com/labstack/echo/v4"
	"go.opentelemetry.io/contrib/instrumentation/github.com/gin-gonic/gin/otelgin"
	"go.opentelemetry.io/contrib/instrumentation/github.com/labstack/echo/otelecho"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/propagation"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"

	"github.com/otelkit/otelkit/bench"
	"github.com/otelkit/otelkit/echox"
	"github.com/otelkit/otelkit/ginx"
	"github.com/otelkit/otelkit/httpx"
)

// errLoad is the 5xx's cause, as in BenchmarkError.
var errLoad = fmt.Errorf("load order: %w", errRefusedCause)

var errRefusedCause = fmt.Errorf("dial tcp 10.0.0.7:5432: connect: connection refused")

// handProblem is the hand-written body of the framework benchmarks.
func handProblem(r *http.Request, status int, id, title string, info map[string]any) *bench.HandProblem {
	p := &bench.HandProblem{Type: "urn:otelkit:error:" + id, Title: title, Status: status, ID: id,
		Instance: r.URL.Path, Info: info}
	if sc := trace.SpanContextFromContext(r.Context()); sc.IsValid() {
		p.TraceID = sc.TraceID().String()
	}
	return p
}

// handMetricKey holds the hand-written metric attribute in gin's context.
const handMetricKey = "bench.metric"

// handAttr is what a hand-written gin service gives otelgin's metric: the
// id under otelkit's key (4xx) or error.type (5xx).
func handAttr(status int, id string) []attribute.KeyValue {
	if status >= 500 {
		return []attribute.KeyValue{semconv.ErrorTypeKey.String(id)}
	}
	return []attribute.KeyValue{attribute.String("otelkit.error.id", id)}
}

// ginService serves POST /login (429) and GET /orders/:id (503) on gin
// under otelgin: impl "otelkit" with ginx and c.Error, "handwritten" with
// gin's own c.JSON and the hand-written recording.
func ginService(impl string, tel *bench.Telemetry) http.Handler {
	gin.SetMode(gin.ReleaseMode)
	logger := tel.Logger.Logger("github.com/otelkit/otelkit/otelbridge")
	r := gin.New()
	metric := func(c *gin.Context) []attribute.KeyValue {
		v, _ := c.Get(handMetricKey)
		kv, _ := v.([]attribute.KeyValue)
		return kv
	}
	if impl == bench.ImplOtelkit {
		metric = ginx.MetricAttributes
	}
	r.Use(otelgin.Middleware("bench", otelgin.WithTracerProvider(tel.Tracer), otelgin.WithMeterProvider(tel.Meter),
		otelgin.WithPropagators(propagation.TraceContext{}), otelgin.WithGinMetricAttributeFn(metric)))
	switch impl {
	case bench.ImplOtelkit:
		defs := bench.NewDefs()
		r.Use(ginx.Middleware(httpx.WithRegistry(defs.Registry), httpx.WithLoggerProvider(tel.Logger)))
		r.POST("/login", func(c *gin.Context) { _ = c.Error(defs.RateLimited.With("retry_after", 30)) })
		r.GET("/orders/:id", func(c *gin.Context) { _ = c.Error(defs.Storage.Wrap(errLoad)) })
	case bench.ImplHandwritten:
		answer := func(c *gin.Context, status int, id, title string, info map[string]any, err error, stack string) {
			bench.HandRecord(c.Request, logger, status, id, err, stack)
			c.Set(handMetricKey, handAttr(status, id))
			c.Header("Content-Type", "application/problem+json")
			c.Header("X-Content-Type-Options", "nosniff")
			c.JSON(status, handProblem(c.Request, status, id, title, info))
		}
		r.POST("/login", func(c *gin.Context) {
			answer(c, http.StatusTooManyRequests, bench.RateLimitedID, bench.RateLimitedMsg,
				map[string]any{"retry_after": 30}, errHandRateLimited, "")
		})
		r.GET("/orders/:id", func(c *gin.Context) {
			answer(c, http.StatusServiceUnavailable, bench.StorageID, bench.StorageMsg, nil, errLoad, bench.HandStack(0))
		})
	}
	return r
}

var errHandRateLimited = fmt.Errorf("%s", bench.RateLimitedMsg)

// echoService is ginService for echo under otelecho (which records no
// metrics).
func echoService(impl string, tel *bench.Telemetry) http.Handler {
	logger := tel.Logger.Logger("github.com/otelkit/otelkit/otelbridge")
	e := echo.New()
	e.Use(otelecho.Middleware("bench", otelecho.WithTracerProvider(tel.Tracer),
		otelecho.WithPropagators(propagation.TraceContext{})))
	switch impl {
	case bench.ImplOtelkit:
		defs := bench.NewDefs()
		e.Use(echox.Middleware(httpx.WithRegistry(defs.Registry), httpx.WithLoggerProvider(tel.Logger)))
		e.POST("/login", func(echo.Context) error { return defs.RateLimited.With("retry_after", 30) })
		e.GET("/orders/:id", func(echo.Context) error { return defs.Storage.Wrap(errLoad) })
	case bench.ImplHandwritten:
		answer := func(c echo.Context, status int, id, title string, info map[string]any, err error, stack string) error {
			r := c.Request()
			bench.HandRecord(r, logger, status, id, err, stack)
			h := c.Response().Header()
			h.Set("Content-Type", "application/problem+json")
			h.Set("X-Content-Type-Options", "nosniff")
			return c.JSON(status, handProblem(r, status, id, title, info))
		}
		e.POST("/login", func(c echo.Context) error {
			return answer(c, http.StatusTooManyRequests, bench.RateLimitedID, bench.RateLimitedMsg,
				map[string]any{"retry_after": 30}, errHandRateLimited, "")
		})
		e.GET("/orders/:id", func(c echo.Context) error {
			return answer(c, http.StatusServiceUnavailable, bench.StorageID, bench.StorageMsg, nil, errLoad, bench.HandStack(0))
		})
	}
	return e
}

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
	benchFramework(b, ginService)
}

// BenchmarkEchoError is BenchmarkError on echo under otelecho: echox (a
// returned error, rendered and recorded through httpx) against echo's own
// c.JSON with the hand-written recording.
func BenchmarkEchoError(b *testing.B) {
	benchFramework(b, echoService)
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
	for name, service := range map[string]func(string, *bench.Telemetry) http.Handler{"gin": ginService, "echo": echoService} {
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
