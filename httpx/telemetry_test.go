package httpx_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"

	"github.com/otelkit/otelkit/errorsx"
	"github.com/otelkit/otelkit/httpx"
	"github.com/otelkit/otelkit/mask"
)

func TestSpanAndMetricsPerError(t *testing.T) {
	te := newTestErrors()
	pathErr := &fs.PathError{Op: "open", Path: "/data", Err: syscall.EACCES}
	tests := []struct {
		name       string
		err        error
		status     int
		id         string
		excType    string
		excMessage string
		stack      bool
	}{
		{"4xx def", te.notFound, 404, "users.not-found", "*errorsx.Def", "No such user", false},
		{"4xx occurrence", te.limited.With("retry_after", 3), 429, "auth.rate-limited", "*errorsx.Error", "Too many attempts", false},
		{"4xx mapped", fmt.Errorf("load: %w", errorsx.NotFound.Wrap(pathErr)), 404, "not-found", "syscall.Errno",
			"load: The requested resource was not found: open /data: permission denied", false},
		{"5xx wrap", te.store.Wrap(fmt.Errorf("dial: %w", pathErr)), 503, "store.down", "syscall.Errno",
			"Store unavailable: dial: open /data: permission denied", true},
		{"unregistered", errors.New("boom"), 500, "internal", "*errors.errorString", "boom", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tel := newTelemetry(t)
			mux := http.NewServeMux()
			mux.Handle("GET /users/{id}", returning(tt.err))
			rec := do(tel.serve(mux, httpx.WithRegistry(te.reg)), "GET", "/users/7")
			require.Equal(t, tt.status, rec.Code)

			span := tel.onlySpan(t)
			attrs := attrMap(span.Attributes())
			assert.Equal(t, "/users/{id}", attrs["http.route"].AsString())
			assert.Equal(t, "GET /users/{id}", span.Name(), "otelhttp renames the span from the pattern httpx copies back")
			points := tel.durationPoints(t)
			require.Len(t, points, 1)
			route, _ := points[0].Attributes.Value("http.route")
			assert.Equal(t, "/users/{id}", route.AsString())
			events := exceptionEvents(span)

			if tt.status < 500 {
				// A 4xx: the server did its job. Status Unset, no
				// error.type, no exception; the id under otelkit.error.id
				// on the span and as a label of the duration metric.
				assert.Equal(t, codes.Unset, span.Status().Code)
				assert.NotContains(t, attrs, "error.type")
				assert.Equal(t, tt.id, attrs["otelkit.error.id"].AsString())
				assert.Empty(t, events)
				assert.Empty(t, tel.logs.records())
				v, ok := points[0].Attributes.Value("otelkit.error.id")
				require.True(t, ok, "otelkit.error.id on http.server.request.duration")
				assert.Equal(t, tt.id, v.AsString())
				_, ok = points[0].Attributes.Value("error.type")
				assert.False(t, ok, "no error.type on the metric of a 4xx")
				return
			}
			assert.Equal(t, codes.Error, span.Status().Code)
			assert.Equal(t, tt.id, attrs["error.type"].AsString())
			assert.NotContains(t, attrs, "otelkit.error.id")
			require.Len(t, events, 1)
			assert.Equal(t, "http.server.request.exception", events[0].Name)
			ev := attrMap(events[0].Attributes)
			assert.Equal(t, tt.excType, ev["exception.type"].AsString())
			assert.Equal(t, tt.excMessage, ev["exception.message"].AsString())
			assert.Equal(t, tt.id, ev["otelkit.error.id"].AsString())
			st, hasStack := ev["exception.stacktrace"]
			assert.Equal(t, tt.stack, hasStack)
			if tt.stack {
				assert.Contains(t, st.AsString(), "\t")
				assert.Contains(t, st.AsString(), ".go:")
			}
			v, ok := points[0].Attributes.Value("error.type")
			require.True(t, ok, "error.type on http.server.request.duration")
			assert.Equal(t, tt.id, v.AsString())
			_, ok = points[0].Attributes.Value("otelkit.error.id")
			assert.False(t, ok)
		})
	}
}

// TestSpanStatusDescription: httpx sets status Error with the id as its
// description. otelhttp (v0.72) calls span.SetStatus(codes.Error, "") after
// the handler returns for any 5xx, and the SDK replaces the description, so
// behind otelhttp the description is empty while code and error.type stay.
func TestSpanStatusDescription(t *testing.T) {
	te := newTestErrors()
	t.Run("span of its own", func(t *testing.T) {
		tel := newTelemetry(t)
		ctx, span := tel.tp.Tracer("test").Start(context.Background(), "req")
		req := httptestRequest(ctx, "GET", "/")
		httpx.Handler(returning(te.store), httpx.WithRegistry(te.reg)).ServeHTTP(discard{}, req)
		span.End()
		got := tel.onlySpan(t)
		assert.Equal(t, sdktrace.Status{Code: codes.Error, Description: "store.down"}, got.Status())
	})
	t.Run("behind otelhttp", func(t *testing.T) {
		tel := newTelemetry(t)
		do(tel.serve(returning(te.store), httpx.WithRegistry(te.reg)), "GET", "/")
		got := tel.onlySpan(t)
		assert.Equal(t, codes.Error, got.Status().Code)
		assert.Equal(t, "store.down", attrMap(got.Attributes())["error.type"].AsString())
	})
}

func TestPanic(t *testing.T) {
	t.Setenv("OTEL_SEMCONV_EXCEPTION_SIGNAL_OPT_IN", "logs/dup")
	tel := newTelemetry(t)
	var eventsAtWriteHeader []sdktrace.Event
	var statusAtWriteHeader sdktrace.Status
	// spy sits between otelhttp and httpx and looks at the span when the
	// response starts: the panic must already be on it.
	spy := func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			span := trace.SpanFromContext(r.Context()).(sdktrace.ReadOnlySpan)
			next.ServeHTTP(hookWriter{ResponseWriter: w, onWriteHeader: func() {
				eventsAtWriteHeader = exceptionEvents(span)
				statusAtWriteHeader = span.Status()
			}}, r)
		})
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /boom", func(http.ResponseWriter, *http.Request) { explode() })
	h := spy(httpx.Handler(mux, httpx.WithLoggerProvider(tel.lp)))
	rec := do(otelhttpWrap(tel, h), "GET", "/boom")

	assert.Equal(t, 500, rec.Code)
	b := body(t, rec)
	assert.Equal(t, "internal", b["id"])
	assert.Equal(t, "Internal server error", b["title"])
	assert.NotContains(t, rec.Body.String(), "kaboom")
	assert.NotContains(t, rec.Body.String(), "goroutine")

	require.Len(t, eventsAtWriteHeader, 1, "exception recorded before the response")
	assert.Equal(t, codes.Error, statusAtWriteHeader.Code)
	assert.Equal(t, "internal", statusAtWriteHeader.Description)

	span := tel.onlySpan(t)
	assert.Equal(t, codes.Error, span.Status().Code)
	events := exceptionEvents(span)
	require.Len(t, events, 1)
	ev := attrMap(events[0].Attributes)
	assert.Equal(t, "panic: kaboom", ev["exception.message"].AsString())
	assert.Equal(t, "internal", ev["otelkit.error.id"].AsString())
	stack := ev["exception.stacktrace"].AsString()
	assert.True(t, strings.HasPrefix(stack, "github.com/otelkit/otelkit/httpx_test.explode()"), stack)
	assert.NotContains(t, stack, "runtime.gopanic")
	assert.Equal(t, "internal", attrMap(span.Attributes())["error.type"].AsString())

	recs := tel.logs.records()
	require.Len(t, recs, 1)
	la := logAttrs(recs[0])
	assert.Equal(t, "panic", la["otelkit.capture.kind"].AsString())
	assert.NotContains(t, la, "exception.escaped", "removed from the conventions")
	assert.Equal(t, stack, la["exception.stacktrace"].AsString())
	assert.Equal(t, "http.server.request.exception", recs[0].EventName())
	assert.Equal(t, events[0].Time, recs[0].Timestamp(), "event and record share a timestamp")
}

//go:noinline
func explode() { panic("kaboom") }

func TestPanicWithError(t *testing.T) {
	tel := newTelemetry(t)
	h := tel.serve(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {
		panic(fmt.Errorf("wrapped: %w", syscall.ECONNRESET))
	}))
	rec := do(h, "GET", "/")
	assert.Equal(t, 500, rec.Code)
	ev := attrMap(exceptionEvents(tel.onlySpan(t))[0].Attributes)
	assert.Equal(t, "syscall.Errno", ev["exception.type"].AsString())
	assert.Equal(t, "panic: wrapped: connection reset by peer", ev["exception.message"].AsString())
}

func TestPanicAfterHeaders(t *testing.T) {
	tel := newTelemetry(t)
	h := tel.serve(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = w.Write([]byte("partial"))
		panic("late")
	}))
	rec := httptestRecorder()
	// The response had started: the panic is recorded, then the
	// connection aborted (http.ErrAbortHandler) instead of ending a
	// truncated body as if it were complete.
	assert.PanicsWithValue(t, http.ErrAbortHandler, func() {
		h.ServeHTTP(rec, httptestRequest(context.Background(), "GET", "/"))
	})
	assert.Equal(t, 200, rec.Code)
	assert.Equal(t, "partial", rec.Body.String())
	// httpx's event for the panic; the SDK's span.End, deferred by
	// otelhttp, adds one for the abort panic passing through it.
	events := exceptionEvents(tel.onlySpan(t))
	require.Len(t, events, 2)
	first := attrMap(events[0].Attributes)
	assert.Equal(t, "internal", first["otelkit.error.id"].AsString())
	assert.Equal(t, "panic: late", first["exception.message"].AsString())
	assert.Equal(t, http.ErrAbortHandler.Error(), attrMap(events[1].Attributes)["exception.message"].AsString())
}

// TestPanicAfterHeadersAbortsTheConnection checks what a real client sees:
// a broken response, not a clean truncated 200.
func TestPanicAfterHeadersAbortsTheConnection(t *testing.T) {
	srv := httptest.NewServer(httpx.Handler(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = w.Write([]byte(`{"items":[1,2,`))
		w.(http.Flusher).Flush()
		panic("late")
	})))
	defer srv.Close()
	resp, err := http.Get(srv.URL)
	require.NoError(t, err)
	defer resp.Body.Close()
	_, err = io.ReadAll(resp.Body)
	assert.Error(t, err, "the client must see the response break")
}

func TestErrAbortHandlerRepanics(t *testing.T) {
	tel := newTelemetry(t)
	h := tel.serve(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { panic(http.ErrAbortHandler) }))
	rec := httptestRecorder()
	assert.PanicsWithValue(t, http.ErrAbortHandler, func() {
		h.ServeHTTP(rec, httptestRequest(context.Background(), "GET", "/"))
	})
	assert.Empty(t, rec.Body.String())
	assert.Empty(t, tel.logs.records())
}

func TestErrorByID(t *testing.T) {
	te := newTestErrors()
	tests := []struct {
		name    string
		id      string
		want    int
		wantID  string
		message string
	}{
		{"known", "auth.rate-limited", 429, "auth.rate-limited", `httpx.ErrorByID("auth.rate-limited")`},
		{"builtin", "not-found", 404, "not-found", `httpx.ErrorByID("not-found")`},
		{"unknown id", "auth.nope", 500, "internal", `httpx.ErrorByID("auth.nope"): no error is registered with id "auth.nope"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tel := newTelemetry(t)
			rec := do(tel.serve(returning(httpx.ErrorByID(tt.id)), httpx.WithRegistry(te.reg),
				httpx.WithExceptionSignal(httpx.ExceptionLogsAndSpanEvents)), "GET", "/")
			assert.Equal(t, tt.want, rec.Code)
			assert.Equal(t, tt.wantID, body(t, rec)["id"])
			if tt.want == 500 {
				recs := tel.logs.records()
				require.Len(t, recs, 1)
				assert.Equal(t, tt.message, recs[0].Body().AsString())
			}
		})
	}
	t.Run("outer registered error wins", func(t *testing.T) {
		rec := do(httpx.Handler(returning(te.store.Wrap(httpx.ErrorByID("auth.rate-limited"))), httpx.WithRegistry(te.reg)), "GET", "/")
		assert.Equal(t, 503, rec.Code)
	})
	assert.True(t, errors.Is(httpx.ErrorByID("auth.rate-limited"), te.limited))
	assert.False(t, errors.Is(httpx.ErrorByID("auth.rate-limited"), te.notFound))
}

// TestAbort covers the deprecated Abort(status, id).
func TestAbort(t *testing.T) {
	te := newTestErrors()
	tests := []struct {
		name    string
		status  int
		id      string
		want    int
		wantID  string
		message string
	}{
		{"known", 429, "auth.rate-limited", 429, "auth.rate-limited", `httpx.Abort(429, "auth.rate-limited")`},
		{"builtin", 404, "not-found", 404, "not-found", `httpx.Abort(404, "not-found")`},
		{"unknown id", 429, "auth.nope", 500, "internal", `httpx.Abort(429, "auth.nope"): no error is registered with id "auth.nope"`},
		{"status mismatch", 400, "auth.rate-limited", 500, "internal", `httpx.Abort(400, "auth.rate-limited"): "auth.rate-limited" is registered with status 429`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tel := newTelemetry(t)
			rec := do(tel.serve(returning(httpx.Abort(tt.status, tt.id)), httpx.WithRegistry(te.reg),
				httpx.WithExceptionSignal(httpx.ExceptionLogsAndSpanEvents)), "GET", "/")
			assert.Equal(t, tt.want, rec.Code)
			assert.Equal(t, tt.wantID, body(t, rec)["id"])
			events := exceptionEvents(tel.onlySpan(t))
			if tt.want < 500 {
				// An artificial exception of a 4xx is not recorded
				// (exceptions-logs.md, "when not to record exceptions").
				assert.Empty(t, events)
				assert.Empty(t, tel.logs.records())
				return
			}
			require.Len(t, events, 1)
			assert.Equal(t, tt.message, attrMap(events[0].Attributes)["exception.message"].AsString())
			recs := tel.logs.records()
			require.Len(t, recs, 1)
			assert.Equal(t, tt.message, recs[0].Body().AsString())
		})
	}
	t.Run("outer registered error wins", func(t *testing.T) {
		rec := do(httpx.Handler(returning(te.store.Wrap(httpx.Abort(429, "auth.rate-limited"))), httpx.WithRegistry(te.reg)), "GET", "/")
		assert.Equal(t, 503, rec.Code)
	})
	t.Run("wrapped abort", func(t *testing.T) {
		rec := do(httpx.Handler(returning(fmt.Errorf("login: %w", httpx.Abort(429, "auth.rate-limited"))), httpx.WithRegistry(te.reg)), "GET", "/")
		assert.Equal(t, 429, rec.Code)
	})
	assert.True(t, errors.Is(httpx.Abort(429, "auth.rate-limited"), te.limited))
	assert.False(t, errors.Is(httpx.Abort(400, "auth.rate-limited"), te.limited))
}

func TestExceptionLogRecords(t *testing.T) {
	t.Setenv("OTEL_SEMCONV_EXCEPTION_SIGNAL_OPT_IN", "logs/dup") // the log records are what is tested
	te := newTestErrors()
	tel := newTelemetry(t)
	mux := http.NewServeMux()
	mux.Handle("GET /orders/{id}", returning(te.store.Wrap(errors.New("db down")).With("api_key", "k-123").With("order", 7)))
	mux.Handle("GET /client", returning(te.limited.With("password", "p")))
	h := tel.serve(mux, httpx.WithRegistry(te.reg), httpx.WithUser(func(*http.Request) string { return "u-1" }))

	do(h, "GET", "/orders/9")
	do(h, "GET", "/client")
	recs := tel.logs.records()
	require.Len(t, recs, 1, "4xx are not logged by default")
	r := recs[0]
	spans := tel.spans.Ended()
	assert.Equal(t, "http.server.request.exception", r.EventName())
	assert.Equal(t, "github.com/otelkit/otelkit/otelbridge", r.InstrumentationScope().Name)
	assert.EqualValues(t, 17, r.Severity())
	assert.Equal(t, "ERROR", r.SeverityText())
	assert.Equal(t, "Store unavailable: db down", r.Body().AsString())
	assert.Equal(t, spans[0].SpanContext().TraceID(), r.TraceID())
	assert.Equal(t, spans[0].SpanContext().SpanID(), r.SpanID())
	la := logAttrs(r)
	assert.Equal(t, "*errors.errorString", la["exception.type"].AsString())
	assert.Equal(t, "Store unavailable: db down", la["exception.message"].AsString())
	assert.NotEmpty(t, la["exception.stacktrace"].AsString())
	assert.Equal(t, "store.down", la["otelkit.error.id"].AsString())
	assert.Equal(t, "store.down", la["otelkit.error.fingerprint"].AsString())
	assert.EqualValues(t, 503, la["http.response.status_code"].AsInt64())
	assert.Equal(t, "error", la["otelkit.capture.kind"].AsString())
	assert.Equal(t, mask.Mask, la["otelkit.error.info.api_key"].AsString())
	assert.EqualValues(t, 7, la["otelkit.error.info.order"].AsInt64())
	assert.Equal(t, "/orders/{id}", la["http.route"].AsString())
	assert.Equal(t, "GET", la["http.request.method"].AsString())
	assert.Equal(t, "u-1", la["user.id"].AsString())
	_, escaped := la["exception.escaped"]
	assert.False(t, escaped)

	t.Run("WithClientErrorLogs", func(t *testing.T) {
		tel := newTelemetry(t)
		do(tel.serve(returning(te.limited.With("password", "p")), httpx.WithRegistry(te.reg), httpx.WithClientErrorLogs()), "GET", "/")
		recs := tel.logs.records()
		require.Len(t, recs, 1)
		la := logAttrs(recs[0])
		assert.Equal(t, "WARN", recs[0].SeverityText(), "a 4xx is never above WARN")
		assert.Empty(t, exceptionEvents(tel.onlySpan(t)), "nor an exception of the span")
		assert.Equal(t, mask.Mask, la["otelkit.error.info.password"].AsString())
		assert.Empty(t, la["exception.stacktrace"].AsString())
		assert.Equal(t, "auth.rate-limited", la["otelkit.error.fingerprint"].AsString())
	})
}

func TestFingerprintOfUnregisteredError(t *testing.T) {
	t.Setenv("OTEL_SEMCONV_EXCEPTION_SIGNAL_OPT_IN", "logs/dup") // the log records are what is tested
	tel := newTelemetry(t)
	mux := http.NewServeMux()
	mux.Handle("/a", httpx.HandlerFunc(handlerA))
	mux.Handle("/b", httpx.HandlerFunc(handlerB))
	mux.HandleFunc("/plain", func(w http.ResponseWriter, r *http.Request) {
		httpx.WriteError(w, r, errors.New("plain"))
	})
	h := tel.serve(mux, httpx.WithRegistry(errorsx.NewRegistry()))
	do(h, "GET", "/a")
	do(h, "GET", "/a")
	do(h, "GET", "/b")
	do(h, "GET", "/plain")
	recs := tel.logs.records()
	require.Len(t, recs, 4)
	fp := func(i int) string { return logAttrs(recs[i])["otelkit.error.fingerprint"].AsString() }
	stack := func(i int) string { return logAttrs(recs[i])["exception.stacktrace"].AsString() }
	assert.NotEmpty(t, fp(0))
	assert.NotEqual(t, "internal", fp(0))
	assert.Equal(t, fp(0), fp(1), "same site, same fingerprint")
	assert.NotEqual(t, fp(0), fp(2), "another handler, another fingerprint")
	assert.Equal(t, "internal", logAttrs(recs[0])["otelkit.error.id"].AsString())

	assert.True(t, strings.HasPrefix(stack(0), "github.com/otelkit/otelkit/httpx_test.handlerA()"), stack(0))
	assert.True(t, strings.HasPrefix(stack(2), "github.com/otelkit/otelkit/httpx_test.handlerB()"), stack(2))
	assert.True(t, strings.HasPrefix(stack(3), "github.com/otelkit/otelkit/httpx_test.TestFingerprintOfUnregisteredError.func1()"), stack(3))
	assert.NotContains(t, stack(3), "httpx.WriteError", "the stack starts at the caller of WriteError")

	ev := attrMap(exceptionEvents(tel.spans.Ended()[0])[0].Attributes)
	assert.Equal(t, stack(0), ev["exception.stacktrace"].AsString(), "span event and log record share the stack")
}

func handlerA(http.ResponseWriter, *http.Request) error { return errors.New("a") }
func handlerB(http.ResponseWriter, *http.Request) error { return errors.New("b") }

func TestErrorTextMaskedInTelemetry(t *testing.T) {
	t.Setenv("OTEL_SEMCONV_EXCEPTION_SIGNAL_OPT_IN", "logs/dup") // the log records are what is tested
	tests := []struct {
		name string
		opts []httpx.Option
		err  error
		want string
	}{
		{"default policy", nil, errors.New("login failed: password=hunter2"), "login failed: password=" + mask.Mask},
		{"WithMask", []httpx.Option{httpx.WithMask(mask.New("pin"))}, errors.New("pin=1234 password=x"), "pin=" + mask.Mask + " password=x"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tel := newTelemetry(t)
			do(tel.serve(returning(tt.err), tt.opts...), "GET", "/")
			ev := attrMap(exceptionEvents(tel.onlySpan(t))[0].Attributes)
			assert.Equal(t, tt.want, ev["exception.message"].AsString())
			recs := tel.logs.records()
			require.Len(t, recs, 1)
			assert.Equal(t, tt.want, recs[0].Body().AsString())
			assert.Equal(t, tt.want, logAttrs(recs[0])["exception.message"].AsString())
		})
	}
}

// TestRouteAttrConcurrent: requests to many routes at once each get their
// own route's http.route on the span (the per-pattern cache is copied on
// write; run with -race).
func TestRouteAttrConcurrent(t *testing.T) {
	tel := newTelemetry(t)
	mux := http.NewServeMux()
	const routes = 24
	for i := range routes {
		mux.HandleFunc(fmt.Sprintf("GET /r%d/{id}", i), ok)
	}
	h := tel.serve(mux)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range routes {
				do(h, "GET", fmt.Sprintf("/r%d/%d", (i+g)%routes, g))
			}
		}()
	}
	wg.Wait()
	spans := tel.spans.Ended()
	require.Len(t, spans, 8*routes)
	for _, s := range spans {
		var n int
		_, err := fmt.Sscanf(s.Name(), "GET /r%d/{id}", &n)
		require.NoError(t, err, s.Name())
		assert.Equal(t, fmt.Sprintf("/r%d/{id}", n), attrMap(s.Attributes())["http.route"].AsString())
	}
}
