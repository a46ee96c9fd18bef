package echox_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/contrib/instrumentation/github.com/labstack/echo/otelecho"
	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/otelkit/otelkit/echox"
	"github.com/otelkit/otelkit/errorsx"
	"github.com/otelkit/otelkit/httpx"
	"github.com/otelkit/otelkit/mask"
)

// errs is the table of errors every test serves, on echo and on plain
// httpx for the reference bodies.
type errs struct {
	reg                           *errorsx.Registry
	limited, invalid, name, store *errorsx.Def
	cases                         map[string]error
}

func newErrs() *errs {
	reg := errorsx.NewRegistry()
	e := &errs{
		reg:     reg,
		limited: reg.Define(http.StatusTooManyRequests, "auth.rate-limited", "Too many attempts"),
		invalid: reg.Define(http.StatusUnprocessableEntity, "users.invalid", "The user is invalid"),
		name:    reg.Define(http.StatusUnprocessableEntity, "users.name-required", "A name is required"),
		store:   reg.Define(http.StatusServiceUnavailable, "storage.unavailable", "Storage unavailable"),
	}
	e.cases = map[string]error{
		"info":         e.limited.With("retry_after", 30).With("password", "hunter2"),
		"secret-cause": e.store.Wrap(errors.New("dial postgres://app:hunter2@db:5432/shop: refused")),
		"joined":       e.invalid.Join(e.name.With("field", "name"), errors.New("unregistered hunter2 detail")),
		"unregistered": errors.New("boom with hunter2"),
		"by-id":        httpx.ErrorByID("auth.rate-limited"),
		"echo-400":     echo.NewHTTPError(http.StatusBadRequest, "bad input hunter2"),
		"echo-500":     echo.NewHTTPError(http.StatusInternalServerError, "db down hunter2"),
	}
	return e
}

type want struct {
	status int
	id     string
	failed bool // 5xx: span status Error, error.type
}

var wants = map[string]want{
	"info":         {429, "auth.rate-limited", false},
	"secret-cause": {503, "storage.unavailable", true},
	"joined":       {422, "users.invalid", false},
	"unregistered": {500, "internal", true},
	"by-id":        {429, "auth.rate-limited", false},
	"panic":        {500, "internal", true},
	"echo-400":     {400, "http.400", false},
	"echo-500":     {500, "internal", true},
}

type tel struct {
	spans  *tracetest.SpanRecorder
	tp     *sdktrace.TracerProvider
	reader *sdkmetric.ManualReader
	mp     *sdkmetric.MeterProvider
}

func newTel(t *testing.T) *tel {
	tl := &tel{spans: tracetest.NewSpanRecorder(), reader: sdkmetric.NewManualReader()}
	tl.tp = sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(tl.spans))
	tl.mp = sdkmetric.NewMeterProvider(sdkmetric.WithReader(tl.reader))
	t.Cleanup(func() {
		_ = tl.tp.Shutdown(context.Background())
		_ = tl.mp.Shutdown(context.Background())
	})
	return tl
}

func (tl *tel) lastSpan(t *testing.T) sdktrace.ReadOnlySpan {
	t.Helper()
	spans := tl.spans.Ended()
	require.NotEmpty(t, spans)
	return spans[len(spans)-1]
}

func (tl *tel) durationPoints(t *testing.T) []metricdata.HistogramDataPoint[float64] {
	t.Helper()
	var rm metricdata.ResourceMetrics
	require.NoError(t, tl.reader.Collect(context.Background(), &rm))
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			if m.Name == "http.server.request.duration" {
				return m.Data.(metricdata.Histogram[float64]).DataPoints
			}
		}
	}
	return nil
}

func attrs(kvs []attribute.KeyValue) map[string]string {
	m := map[string]string{}
	for _, kv := range kvs {
		m[string(kv.Key)] = kv.Value.String()
	}
	return m
}

// routes serves the table on e.
func routes(e *echo.Echo, es *errs) {
	e.GET("/case/:name", func(c echo.Context) error {
		name := c.Param("name")
		if name == "panic" {
			panic("kaboom hunter2")
		}
		if err, ok := es.cases[name]; ok {
			return err
		}
		return c.String(http.StatusOK, "ok")
	})
	e.GET("/written", func(c echo.Context) error {
		_ = c.JSON(http.StatusConflict, map[string]bool{"mine": true})
		return es.limited
	})
}

// echoServer serves the table on echo under otelecho, on 127.0.0.1. A
// middleware before echox's refuses /guarded: its error reaches
// echox.ErrorHandler.
func echoServer(t *testing.T, es *errs, tl *tel) string {
	e := echo.New()
	e.HideBanner = true
	e.Use(otelecho.Middleware("api", otelecho.WithTracerProvider(tl.tp)))
	e.Use(func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			if c.Request().URL.Path == "/guarded" {
				return es.limited
			}
			return next(c)
		}
	})
	e.Use(echox.Middleware(httpx.WithRegistry(es.reg)))
	e.HTTPErrorHandler = echox.ErrorHandler(httpx.WithRegistry(es.reg))
	routes(e, es)
	srv := httptest.NewServer(e)
	t.Cleanup(srv.Close)
	return srv.URL
}

// httpxServer serves the same table with httpx on a ServeMux, the
// reference for bodies.
func httpxServer(t *testing.T, es *errs) string {
	mux := http.NewServeMux()
	mux.Handle("GET /case/{name}", httpx.HandlerFunc(func(w http.ResponseWriter, r *http.Request) error {
		name := r.PathValue("name")
		if name == "panic" {
			panic("kaboom hunter2")
		}
		return es.cases[name]
	}))
	tp := sdktrace.NewTracerProvider()
	t.Cleanup(func() { _ = tp.Shutdown(context.Background()) })
	srv := httptest.NewServer(otelhttp.NewHandler(httpx.Handler(mux, httpx.WithRegistry(es.reg)), "ref",
		otelhttp.WithTracerProvider(tp)))
	t.Cleanup(srv.Close)
	return srv.URL
}

type response struct {
	status int
	header http.Header
	body   string
}

func get(t *testing.T, method, url string) response {
	t.Helper()
	req, err := http.NewRequest(method, url, nil)
	require.NoError(t, err)
	res, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	require.NoError(t, err)
	return response{res.StatusCode, res.Header, string(b)}
}

// traceless replaces the body's trace id, the one thing that differs
// between two servers' answers to the same error.
func traceless(body string) string {
	i := strings.Index(body, `"trace_id":"`)
	if i < 0 {
		return body
	}
	j := strings.IndexByte(body[i+len(`"trace_id":"`):], '"')
	return body[:i] + `"trace_id":"T"` + body[i+len(`"trace_id":"`)+j+1:]
}

func events(s sdktrace.ReadOnlySpan, name string) []sdktrace.Event {
	var out []sdktrace.Event
	for _, e := range s.Events() {
		if e.Name == name || strings.HasSuffix(e.Name, "."+name) {
			out = append(out, e)
		}
	}
	return out
}

// checkSpan applies the span status rule: 4xx Unset with otelkit.error.id,
// 5xx Error with error.type and an exception event; no secret anywhere.
func checkSpan(t *testing.T, span sdktrace.ReadOnlySpan, w want) {
	t.Helper()
	a := attrs(span.Attributes())
	for k, v := range a {
		assert.NotContains(t, v, "hunter2", k)
	}
	assert.NotContains(t, span.Status().Description, "hunter2")
	if w.failed {
		assert.Equal(t, codes.Error, span.Status().Code)
		assert.Equal(t, w.id, a["error.type"])
		assert.NotEmpty(t, events(span, "exception"), "5xx: an exception record")
	} else {
		assert.Equal(t, codes.Unset, span.Status().Code, "4xx: no server failure")
		assert.NotContains(t, a, "error.type")
		assert.Equal(t, w.id, a["otelkit.error.id"])
		assert.Empty(t, events(span, "exception"))
	}
}

func TestErrors(t *testing.T) {
	es := newErrs()
	tl := newTel(t)
	base, ref := echoServer(t, es, tl), httpxServer(t, es)
	for name, w := range wants {
		t.Run(name, func(t *testing.T) {
			tl.spans.Reset()
			got := get(t, "GET", base+"/case/"+name)
			assert.Equal(t, w.status, got.status)
			assert.Equal(t, "application/problem+json", got.header.Get("Content-Type"))
			assert.NotContains(t, got.body, "hunter2")
			assert.NotContains(t, got.body, "postgres")
			assert.Contains(t, got.body, `"id":"`+w.id+`"`)
			if !strings.HasPrefix(name, "echo-") {
				exp := get(t, "GET", ref+"/case/"+name)
				assert.Equal(t, exp.status, got.status)
				assert.Equal(t, traceless(exp.body), traceless(got.body), "the body httpx renders for the same error")
			}
			span := tl.lastSpan(t)
			a := attrs(span.Attributes())
			assert.Equal(t, "/case/:name", a["http.route"])
			assert.Equal(t, "GET /case/:name", span.Name())
			assert.Contains(t, got.body, span.SpanContext().TraceID().String())
			assert.NotContains(t, a, "echo.error", "the error never reaches otelecho")
			checkSpan(t, span, w)
		})
	}
	t.Run("info masked", func(t *testing.T) {
		got := get(t, "GET", base+"/case/info")
		assert.Contains(t, got.body, `"password":"`+mask.Mask+`"`)
		assert.Contains(t, got.body, `"retry_after":30`)
	})
	t.Run("joined", func(t *testing.T) {
		assert.Contains(t, get(t, "GET", base+"/case/joined").body, "users.name-required")
	})
	t.Run("success untouched", func(t *testing.T) {
		got := get(t, "GET", base+"/case/fine")
		assert.Equal(t, 200, got.status)
		assert.Equal(t, "ok", got.body)
	})
	t.Run("response already written", func(t *testing.T) {
		tl.spans.Reset()
		got := get(t, "GET", base+"/written")
		assert.Equal(t, 409, got.status)
		assert.Equal(t, `{"mine":true}`+"\n", got.body)
		assert.Equal(t, "auth.rate-limited", attrs(tl.lastSpan(t).Attributes())["otelkit.error.id"], "telemetry still has it")
	})
	t.Run("ErrorHandler", func(t *testing.T) {
		tl.spans.Reset()
		got := get(t, "GET", base+"/guarded")
		assert.Equal(t, 429, got.status)
		assert.Contains(t, got.body, `"id":"auth.rate-limited"`)
		assert.Equal(t, "auth.rate-limited", attrs(tl.lastSpan(t).Attributes())["otelkit.error.id"])
	})
}

func TestRouteErrors(t *testing.T) {
	es := newErrs()
	tl := newTel(t)
	base, ref := echoServer(t, es, tl), httpxServer(t, es)
	for _, tt := range []struct {
		method, path string
		status       int
		id           string
	}{
		{"GET", "/nope", 404, "not-found"},
		{"POST", "/case/x", 405, "method-not-allowed"},
	} {
		t.Run(tt.id, func(t *testing.T) {
			tl.spans.Reset()
			got := get(t, tt.method, base+tt.path)
			assert.Equal(t, tt.status, got.status)
			assert.Equal(t, "application/problem+json", got.header.Get("Content-Type"))
			assert.Contains(t, got.body, `"id":"`+tt.id+`"`)
			exp := get(t, tt.method, ref+tt.path)
			assert.Equal(t, tt.status, exp.status)
			assert.Equal(t, traceless(exp.body), traceless(got.body))
			if tt.status == 405 {
				assert.Equal(t, "OPTIONS, GET", got.header.Get("Allow"), "echo's Allow kept")
			}
			checkSpan(t, tl.lastSpan(t), want{tt.status, tt.id, false})
		})
	}
}

// TestUnderOtelhttp: with otelhttp around the echo server instead of
// otelecho, the span and the duration metric get echo's route and
// otelkit's ids, as for net/http.
func TestUnderOtelhttp(t *testing.T) {
	es := newErrs()
	tl := newTel(t)
	e := echo.New()
	e.Use(echox.Middleware(httpx.WithRegistry(es.reg)))
	routes(e, es)
	srv := httptest.NewServer(otelhttp.NewHandler(e, "api", otelhttp.WithTracerProvider(tl.tp), otelhttp.WithMeterProvider(tl.mp)))
	t.Cleanup(srv.Close)
	for _, name := range []string{"fine", "info", "secret-cause", "panic"} {
		tl.spans.Reset()
		got := get(t, "GET", srv.URL+"/case/"+name)
		span := tl.lastSpan(t)
		assert.Equal(t, "GET /case/:name", span.Name())
		if w, ok := wants[name]; ok {
			assert.Equal(t, w.status, got.status)
			checkSpan(t, span, w)
		}
	}
	got := map[string]bool{}
	for _, p := range tl.durationPoints(t) {
		a := attrs(p.Attributes.ToSlice())
		got[fmt.Sprintf("%s %s id=%s type=%s", a["http.response.status_code"], a["http.route"], a["otelkit.error.id"], a["error.type"])] = true
	}
	assert.Equal(t, map[string]bool{
		"200 /case/:name id= type=":                    true,
		"429 /case/:name id=auth.rate-limited type=":   true,
		"503 /case/:name id= type=storage.unavailable": true,
		"500 /case/:name id= type=internal":            true,
	}, got)
}

// TestGroupRegistry: a route group with its own echox.Middleware and
// child registry renders its errors there, once; handlers see their
// request info (audits, captures) with echo's route.
func TestGroupRegistry(t *testing.T) {
	es := newErrs()
	admin := errorsx.NewRegistry(errorsx.WithParent(es.reg))
	gone := admin.Define(http.StatusGone, "admin.gone", "Gone (admin)")
	errSentinel := errors.New("sentinel")
	admin.Map(errSentinel, gone)
	tl := newTel(t)
	e := echo.New()
	e.Use(otelecho.Middleware("api", otelecho.WithTracerProvider(tl.tp)))
	e.Use(echox.Middleware(httpx.WithRegistry(es.reg)))
	var info httpx.RequestInfo
	g := e.Group("/admin", echox.Middleware(httpx.WithRegistry(admin)))
	g.GET("/users/:id", func(c echo.Context) error {
		info, _ = httpx.RequestInfoFromContext(c.Request().Context())
		return errSentinel
	})
	e.GET("/users/:id", func(echo.Context) error { return errSentinel })
	srv := httptest.NewServer(e)
	t.Cleanup(srv.Close)

	got := get(t, "GET", srv.URL+"/admin/users/7")
	assert.Equal(t, 410, got.status)
	assert.Contains(t, got.body, `"id":"admin.gone"`)
	assert.Equal(t, "/admin/users/:id", info.Route)
	assert.Equal(t, "GET", info.Method)
	assert.Equal(t, "admin.gone", attrs(tl.lastSpan(t).Attributes())["otelkit.error.id"])

	got = get(t, "GET", srv.URL+"/users/7")
	assert.Equal(t, 500, got.status, "unmapped outside the group")
	assert.Contains(t, got.body, `"id":"internal"`)
}
