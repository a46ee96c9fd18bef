package bench

import (
	"fmt"
	"net/http"

	"github.com/gin-gonic/gin"
	"github.com/labstack/echo/v4"
	"go.opentelemetry.io/contrib/instrumentation/github.com/gin-gonic/gin/otelgin"
	"go.opentelemetry.io/contrib/instrumentation/github.com/labstack/echo/otelecho"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/propagation"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"

	"github.com/otelkit/otelkit/echox"
	"github.com/otelkit/otelkit/ginx"
	"github.com/otelkit/otelkit/httpx"
)

// errLoad is the 5xx's cause, as in BenchmarkError.
var errLoad = fmt.Errorf("load order: %w", errRefused)

// handProblem is the hand-written body of the framework benchmarks.
func handProblem(r *http.Request, status int, id, title string, info map[string]any) *HandProblem {
	p := &HandProblem{Type: "urn:otelkit:error:" + id, Title: title, Status: status, ID: id,
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

// NewGinService serves POST /login (429) and GET /orders/:id (503) on gin
// under otelgin: impl "otelkit" with ginx and c.Error, "handwritten" with
// gin's own c.JSON and the hand-written recording.
func NewGinService(impl string, tel *Telemetry) http.Handler {
	gin.SetMode(gin.ReleaseMode)
	logger := tel.Logger.Logger("github.com/otelkit/otelkit/otelbridge")
	r := gin.New()
	metric := func(c *gin.Context) []attribute.KeyValue {
		v, _ := c.Get(handMetricKey)
		kv, _ := v.([]attribute.KeyValue)
		return kv
	}
	if impl == ImplOtelkit {
		metric = ginx.MetricAttributes
	}
	r.Use(otelgin.Middleware("bench", otelgin.WithTracerProvider(tel.Tracer), otelgin.WithMeterProvider(tel.Meter),
		otelgin.WithPropagators(propagation.TraceContext{}), otelgin.WithGinMetricAttributeFn(metric)))
	switch impl {
	case ImplOtelkit:
		defs := NewDefs()
		r.Use(ginx.Middleware(httpx.WithRegistry(defs.Registry), httpx.WithLoggerProvider(tel.Logger)))
		r.POST("/login", func(c *gin.Context) { _ = c.Error(defs.RateLimited.With("retry_after", 30)) })
		r.GET("/orders/:id", func(c *gin.Context) { _ = c.Error(defs.Storage.Wrap(errLoad)) })
	case ImplHandwritten:
		answer := func(c *gin.Context, status int, id, title string, info map[string]any, err error, stack string) {
			HandRecord(c.Request, logger, status, id, err, stack)
			c.Set(handMetricKey, handAttr(status, id))
			c.Header("Content-Type", "application/problem+json")
			c.Header("X-Content-Type-Options", "nosniff")
			c.JSON(status, handProblem(c.Request, status, id, title, info))
		}
		r.POST("/login", func(c *gin.Context) {
			answer(c, http.StatusTooManyRequests, RateLimitedID, RateLimitedMsg,
				map[string]any{"retry_after": 30}, errRateLimited, "")
		})
		r.GET("/orders/:id", func(c *gin.Context) {
			answer(c, http.StatusServiceUnavailable, StorageID, StorageMsg, nil, errLoad, HandStack(0))
		})
	}
	return r
}

// NewEchoService is NewGinService for echo under otelecho (which records no
// metrics).
func NewEchoService(impl string, tel *Telemetry) http.Handler {
	logger := tel.Logger.Logger("github.com/otelkit/otelkit/otelbridge")
	e := echo.New()
	e.Use(otelecho.Middleware("bench", otelecho.WithTracerProvider(tel.Tracer),
		otelecho.WithPropagators(propagation.TraceContext{})))
	switch impl {
	case ImplOtelkit:
		defs := NewDefs()
		e.Use(echox.Middleware(httpx.WithRegistry(defs.Registry), httpx.WithLoggerProvider(tel.Logger)))
		e.POST("/login", func(echo.Context) error { return defs.RateLimited.With("retry_after", 30) })
		e.GET("/orders/:id", func(echo.Context) error { return defs.Storage.Wrap(errLoad) })
	case ImplHandwritten:
		answer := func(c echo.Context, status int, id, title string, info map[string]any, err error, stack string) error {
			r := c.Request()
			HandRecord(r, logger, status, id, err, stack)
			h := c.Response().Header()
			h.Set("Content-Type", "application/problem+json")
			h.Set("X-Content-Type-Options", "nosniff")
			return c.JSON(status, handProblem(r, status, id, title, info))
		}
		e.POST("/login", func(c echo.Context) error {
			return answer(c, http.StatusTooManyRequests, RateLimitedID, RateLimitedMsg,
				map[string]any{"retry_after": 30}, errRateLimited, "")
		})
		e.GET("/orders/:id", func(c echo.Context) error {
			return answer(c, http.StatusServiceUnavailable, StorageID, StorageMsg, nil, errLoad, HandStack(0))
		})
	}
	return e
}
