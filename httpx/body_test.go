package httpx_test

import (
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"strings"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/otelkit/otelkit/errorsx"
	"github.com/otelkit/otelkit/httpx"
	"github.com/otelkit/otelkit/mask"
)

// testErrors is a registry of its own per test, so tests do not share ids.
type testErrors struct {
	reg        *errorsx.Registry
	limited    *errorsx.Def
	notFound   *errorsx.Def
	validation *errorsx.Def
	badName    *errorsx.Def
	badAge     *errorsx.Def
	store      *errorsx.Def
}

func newTestErrors() *testErrors {
	reg := errorsx.NewRegistry()
	e := &testErrors{
		reg: reg,
		limited: reg.Define(http.StatusTooManyRequests, "auth.rate-limited", "Too many attempts",
			errorsx.Translate("de", "Zu viele Versuche")),
		notFound:   reg.Define(http.StatusNotFound, "users.not-found", "No such user"),
		validation: reg.Define(http.StatusUnprocessableEntity, "users.invalid", "The user is invalid"),
		badName:    reg.Define(http.StatusUnprocessableEntity, "users.bad-name", "Bad name"),
		badAge:     reg.Define(http.StatusUnprocessableEntity, "users.bad-age", "Bad age"),
		store:      reg.Define(http.StatusServiceUnavailable, "store.down", "Store unavailable"),
	}
	reg.Map(sql.ErrNoRows, e.notFound)
	return e
}

func returning(err error) http.Handler {
	return httpx.HandlerFunc(func(http.ResponseWriter, *http.Request) error { return err })
}

func TestProblemBody(t *testing.T) {
	te := newTestErrors()
	tel := newTelemetry(t)
	mux := http.NewServeMux()
	mux.Handle("GET /users/{id}", returning(te.limited.With("retry_after", 30).Detailf("wait a bit")))
	mux.Handle("POST /users", returning(te.validation.Join(
		te.badName.With("field", "name"),
		te.badAge.With("field", "age").With("min", 18),
		fmt.Errorf("lookup: %w", sql.ErrNoRows),
		errors.New("unregistered cause text"),
	)))
	h := tel.serve(mux, httpx.WithRegistry(te.reg))

	t.Run("single", func(t *testing.T) {
		rec := do(h, "GET", "/users/42")
		assert.Equal(t, http.StatusTooManyRequests, rec.Code)
		assert.Equal(t, "application/problem+json", rec.Header().Get("Content-Type"))
		assert.Equal(t, "nosniff", rec.Header().Get("X-Content-Type-Options"))
		span := tel.spans.Ended()[len(tel.spans.Ended())-1]
		assert.Equal(t, map[string]any{
			"type":     "urn:otelkit:error:auth.rate-limited",
			"title":    "Too many attempts",
			"status":   429.0,
			"id":       "auth.rate-limited",
			"instance": "/users/42",
			"detail":   "wait a bit",
			"info":     map[string]any{"retry_after": 30.0},
			"trace_id": span.SpanContext().TraceID().String(),
		}, body(t, rec))
	})
	t.Run("joined", func(t *testing.T) {
		rec := do(h, "POST", "/users")
		assert.Equal(t, http.StatusUnprocessableEntity, rec.Code)
		b := body(t, rec)
		assert.Equal(t, "users.invalid", b["id"])
		assert.Equal(t, []any{
			map[string]any{"id": "users.bad-name", "title": "Bad name", "status": 422.0, "info": map[string]any{"field": "name"}},
			map[string]any{"id": "users.bad-age", "title": "Bad age", "status": 422.0, "info": map[string]any{"field": "age", "min": 18.0}},
			map[string]any{"id": "users.not-found", "title": "No such user", "status": 404.0},
			map[string]any{"id": "internal", "title": "Internal server error", "status": 500.0},
		}, b["errors"])
		assert.NotContains(t, rec.Body.String(), "unregistered cause text")
		assert.NotContains(t, rec.Body.String(), "sql:")
	})
}

func TestContentNegotiation(t *testing.T) {
	te := newTestErrors()
	h := httpx.Handler(returning(te.notFound), httpx.WithRegistry(te.reg))
	tests := []struct {
		accept string
		want   string
	}{
		{"", "application/problem+json"},
		{"application/json", "application/json"},
		{"application/json; charset=utf-8", "application/json"},
		{"application/problem+json", "application/problem+json"},
		{"application/problem+json, application/json", "application/problem+json"},
		{"text/html,application/xhtml+xml,*/*;q=0.8", "application/problem+json"},
		{"*/*", "application/problem+json"},
	}
	for _, tt := range tests {
		t.Run(tt.accept, func(t *testing.T) {
			rec := do(h, "GET", "/x", "Accept", tt.accept)
			assert.Equal(t, tt.want, rec.Header().Get("Content-Type"))
			assert.Equal(t, "users.not-found", body(t, rec)["id"])
			assert.NotContains(t, rec.Body.String(), "<html")
		})
	}
}

func TestErrorListRenderer(t *testing.T) {
	te := newTestErrors()
	mux := http.NewServeMux()
	mux.Handle("/single", returning(te.limited.With("retry_after", 30)))
	mux.Handle("/joined", returning(te.validation.Join(te.badName.With("field", "name"), te.badAge)))
	mux.Handle("/internal", returning(te.store.Wrap(errors.New("dial tcp: refused")).With("password", "x")))
	h := httpx.Handler(mux, httpx.WithRegistry(te.reg), httpx.WithRenderer(httpx.ErrorList{}))

	tests := []struct {
		path   string
		status int
		want   map[string]any
	}{
		{"/single", 429, map[string]any{"errors": []any{
			map[string]any{"code": "auth.rate-limited", "message": "Too many attempts", "info": map[string]any{"retry_after": 30.0}},
		}}},
		{"/joined", 422, map[string]any{"errors": []any{
			map[string]any{"code": "users.bad-name", "message": "Bad name", "info": map[string]any{"field": "name"}},
			map[string]any{"code": "users.bad-age", "message": "Bad age"},
		}}},
		{"/internal", 503, map[string]any{"errors": []any{
			map[string]any{"code": "store.down", "message": "Store unavailable"},
		}}},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			rec := do(h, "GET", tt.path)
			assert.Equal(t, tt.status, rec.Code)
			assert.Equal(t, "application/json", rec.Header().Get("Content-Type"))
			assert.Equal(t, tt.want, body(t, rec))
		})
	}
}

func TestCustomRenderer(t *testing.T) {
	te := newTestErrors()
	var got httpx.Problem
	r := httpx.RendererFunc(func(w http.ResponseWriter, _ *http.Request, p *httpx.Problem) error {
		got = *p
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.WriteHeader(p.Status)
		_, err := fmt.Fprintf(w, "%s: %s", p.ID, p.Title)
		return err
	})
	h := httpx.Handler(returning(te.limited.With("api_key", "k").With("n", 1)), httpx.WithRegistry(te.reg), httpx.WithRenderer(r))
	rec := do(h, "GET", "/x")
	assert.Equal(t, 429, rec.Code)
	assert.Equal(t, "auth.rate-limited: Too many attempts", rec.Body.String())
	assert.Equal(t, "text/plain; charset=utf-8", rec.Header().Get("Content-Type"))
	assert.Equal(t, []errorsx.Field{{Key: "api_key", Value: mask.Mask}, {Key: "n", Value: 1}}, got.Info, "renderers get masked info")
}

// TestRendererChangingProblem: ProblemJSON writes the problem it is given,
// also when a renderer around it changed the fields whose JSON httpx made
// once per definition.
func TestRendererChangingProblem(t *testing.T) {
	for name, change := range map[string]func(p *httpx.Problem){
		"title":  func(p *httpx.Problem) { p.Title = "Invalid <now>" },
		"type":   func(p *httpx.Problem) { p.Type = "https://errors.example/invalid" },
		"status": func(p *httpx.Problem) { p.Status = 503 },
		"id":     func(p *httpx.Problem) { p.ID = "other.id" },
		"none":   func(*httpx.Problem) {},
	} {
		t.Run(name, func(t *testing.T) {
			te := newTestErrors()
			var want httpx.Problem
			r := httpx.RendererFunc(func(w http.ResponseWriter, r *http.Request, p *httpx.Problem) error {
				change(p)
				want = *p
				return httpx.ProblemJSON{}.Render(w, r, p)
			})
			h := httpx.Handler(returning(te.validation.With("n", 1)), httpx.WithRegistry(te.reg), httpx.WithRenderer(r))
			for range 2 { // the second answer uses what the first one made
				rec := do(h, "GET", "/x")
				assert.Equal(t, want.Status, rec.Code)
				wantBody := fmt.Sprintf(`{"type":%q,"title":%q,"status":%d,"id":%q,"instance":"/x","info":{"n":1}}`+"\n",
					want.Type, want.Title, want.Status, want.ID)
				wantBody = strings.NewReplacer("<", `\u003c`, ">", `\u003e`).Replace(wantBody)
				assert.Equal(t, wantBody, rec.Body.String())
			}
		})
	}
}

// TestTraceIDForRenderers: the default renderer writes the trace id
// itself; a renderer of the service's own gets it as Problem.TraceID, and
// ProblemJSON called from it writes the TraceID it is given, none when
// the renderer blanked it.
func TestTraceIDForRenderers(t *testing.T) {
	te := newTestErrors()
	for name, tc := range map[string]struct {
		change func(p *httpx.Problem)
		want   bool
	}{
		"kept":    {func(*httpx.Problem) {}, true},
		"blanked": {func(p *httpx.Problem) { p.TraceID = "" }, false},
	} {
		t.Run(name, func(t *testing.T) {
			tel := newTelemetry(t)
			var given string
			r := httpx.RendererFunc(func(w http.ResponseWriter, r *http.Request, p *httpx.Problem) error {
				given = p.TraceID
				tc.change(p)
				return httpx.ProblemJSON{}.Render(w, r, p)
			})
			h := tel.serve(returning(te.limited.With("n", 1)), httpx.WithRegistry(te.reg), httpx.WithRenderer(r))
			rec := do(h, "GET", "/x")
			spans := tel.spans.Ended()
			require.NotEmpty(t, spans)
			traceID := spans[len(spans)-1].SpanContext().TraceID().String()
			assert.Equal(t, traceID, given)
			if tc.want {
				assert.Equal(t, traceID, body(t, rec)["trace_id"])
			} else {
				assert.NotContains(t, rec.Body.String(), "trace_id")
			}
		})
	}
}

// TestHeaderValuesNotShared: a middleware adding to a problem response's
// headers changes that response only.
func TestHeaderValuesNotShared(t *testing.T) {
	te := newTestErrors()
	h := httpx.Handler(returning(te.validation), httpx.WithRegistry(te.reg))
	first := do(h, "GET", "/x")
	first.Header().Add("Vary", "Origin")
	first.Header().Add("Content-Type", "text/plain")
	first.Header().Add("X-Content-Type-Options", "other")
	second := do(h, "GET", "/x")
	assert.Equal(t, []string{"Accept"}, second.Header().Values("Vary"))
	assert.Equal(t, []string{"application/problem+json"}, second.Header().Values("Content-Type"))
	assert.Equal(t, []string{"nosniff"}, second.Header().Values("X-Content-Type-Options"))
}

func TestServerErrorsHideInternals(t *testing.T) {
	te := newTestErrors()
	tel := newTelemetry(t)
	pathErr := &fs.PathError{Op: "open", Path: "/etc/secret", Err: syscall.EACCES}
	tests := []struct {
		name   string
		err    error
		status int
		id     string
	}{
		{"unregistered", errors.New("sql: connection refused at 10.0.0.3"), 500, "internal"},
		{"unregistered wrapped", fmt.Errorf("query users: %w", pathErr), 500, "internal"},
		{"5xx wrap", te.store.Wrap(fmt.Errorf("sql: %w", sql.ErrConnDone)), 503, "store.down"},
		{"5xx with info and detail", te.store.With("host", "db-1").Detailf("sql: pool exhausted").Wrap(pathErr), 503, "store.down"},
		{"5xx join", te.store.Join(errors.New("sql: a"), te.badName), 503, "store.down"},
		{"errors.Join unregistered", errors.Join(errors.New("sql: a"), errors.New("b")), 500, "internal"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := do(tel.serve(returning(tt.err), httpx.WithRegistry(te.reg)), "GET", "/x")
			assert.Equal(t, tt.status, rec.Code)
			text := rec.Body.String()
			for _, leak := range []string{"sql:", "*errors", "*fs.", "errorString", "goroutine", ".go:", "/etc/secret", "db-1", "pool exhausted", "permission denied", "10.0.0.3"} {
				assert.NotContains(t, text, leak)
			}
			b := body(t, rec)
			keys := make([]string, 0, len(b))
			for k := range b {
				keys = append(keys, k)
			}
			assert.ElementsMatch(t, []string{"type", "title", "status", "id", "instance", "trace_id"}, keys, text)
			assert.Equal(t, tt.id, b["id"])
			def, _ := te.reg.Lookup(tt.id)
			assert.Equal(t, def.Message(), b["title"])
		})
	}
}

func TestMaskingInBody(t *testing.T) {
	te := newTestErrors()
	err := te.validation.Join(te.badName.With("refresh_token", "rt").With("field", "name")).
		With("user_password", "hunter2").With("Authorization", "Bearer abc").With("user", "alice")
	for _, tt := range []struct {
		name string
		opts []httpx.Option
		want map[string]any
	}{
		{"default policy", nil, map[string]any{"user_password": mask.Mask, "Authorization": mask.Mask, "user": "alice"}},
		{"WithMask", []httpx.Option{httpx.WithMask(mask.New("user"))}, map[string]any{"user_password": mask.Mask, "Authorization": "Bearer abc", "user": mask.Mask}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			rec := do(httpx.Handler(returning(err), append(tt.opts, httpx.WithRegistry(te.reg))...), "GET", "/x")
			b := body(t, rec)
			assert.Equal(t, tt.want, b["info"])
			if tt.opts == nil {
				assert.NotContains(t, rec.Body.String(), "hunter2")
				assert.NotContains(t, rec.Body.String(), "Bearer")
				assert.NotContains(t, rec.Body.String(), `"rt"`)
				assert.Equal(t, map[string]any{"refresh_token": mask.Mask, "field": "name"}, b["errors"].([]any)[0].(map[string]any)["info"])
			}
		})
	}
	// The occurrence itself is left unmasked (it may be shared).
	assert.Equal(t, "hunter2", err.Info()[0].Value)
}

func TestDocsBaseURL(t *testing.T) {
	te := newTestErrors()
	for _, base := range []string{"https://docs.example.com/errors/", "https://docs.example.com/errors"} {
		t.Run(base, func(t *testing.T) {
			h := httpx.Handler(returning(te.notFound), httpx.WithRegistry(te.reg), httpx.WithDocsBaseURL(base))
			assert.Equal(t, "https://docs.example.com/errors/users.not-found", body(t, do(h, "GET", "/x"))["type"])
		})
	}
}

func TestLocalizedTitle(t *testing.T) {
	te := newTestErrors()
	h := httpx.Handler(returning(te.limited), httpx.WithRegistry(te.reg))
	tests := []struct {
		accept, title, contentLanguage string
	}{
		{"", "Too many attempts", "en"},
		{"de-DE,de;q=0.9,en;q=0.5", "Zu viele Versuche", "de"},
		{"en", "Too many attempts", "en"},
		{"en-US, de;q=0.5", "Too many attempts", "en"},
		{"fr, de;q=0.3", "Zu viele Versuche", "de"},
	}
	for _, tt := range tests {
		t.Run(tt.accept, func(t *testing.T) {
			rec := do(h, "GET", "/x", "Accept-Language", tt.accept)
			assert.Equal(t, tt.title, body(t, rec)["title"])
			assert.Equal(t, tt.contentLanguage, rec.Header().Get("Content-Language"))
		})
	}
}

func TestWriteErrorOutsideHandler(t *testing.T) {
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		httpx.WriteError(w, r, fmt.Errorf("x: %w", errorsx.NotFound))
	})
	rec := do(h, "GET", "/nowhere")
	assert.Equal(t, 404, rec.Code)
	b := body(t, rec)
	assert.Equal(t, "not-found", b["id"])
	assert.Equal(t, "/nowhere", b["instance"])
	assert.NotContains(t, b, "trace_id", "no span, no trace id")

	rec = do(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { httpx.WriteError(w, r, nil) }), "GET", "/")
	assert.Equal(t, 200, rec.Code, "a nil error writes nothing")
	assert.Empty(t, rec.Body.String())
}

func TestHeadersAlreadyWritten(t *testing.T) {
	te := newTestErrors()
	tel := newTelemetry(t)
	h := httpx.HandlerFunc(func(w http.ResponseWriter, r *http.Request) error {
		w.Header().Set("Content-Type", "text/csv")
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write([]byte("a,b\n"))
		return te.store.Wrap(errors.New("stream broke"))
	})
	rec := do(tel.serve(h, httpx.WithRegistry(te.reg), httpx.WithExceptionSignal(httpx.ExceptionLogsAndSpanEvents)), "GET", "/export")
	assert.Equal(t, 200, rec.Code)
	assert.Equal(t, "a,b\n", rec.Body.String())
	assert.Equal(t, "text/csv", rec.Header().Get("Content-Type"))
	span := tel.onlySpan(t)
	assert.Equal(t, "store.down", attrMap(span.Attributes())["error.type"].AsString())
	require.Len(t, exceptionEvents(span), 1)
	assert.Len(t, tel.logs.records(), 1, "the 5xx still reaches the logs")
}

func TestHeadersWrittenOnlyWriteHeader(t *testing.T) {
	te := newTestErrors()
	h := httpx.HandlerFunc(func(w http.ResponseWriter, r *http.Request) error {
		w.WriteHeader(http.StatusAccepted)
		return te.limited
	})
	rec := do(httpx.Handler(h, httpx.WithRegistry(te.reg)), "GET", "/")
	assert.Equal(t, http.StatusAccepted, rec.Code)
	assert.Empty(t, rec.Body.String())
	assert.True(t, strings.TrimSpace(rec.Header().Get("Content-Type")) == "")
}

func TestVaryAndInstance(t *testing.T) {
	te := newTestErrors()
	h := httpx.Handler(returning(te.limited), httpx.WithRegistry(te.reg))
	rec := do(h, "GET", "/a%20b%3Cx%3E")
	assert.Equal(t, "/a%20b%3Cx%3E", body(t, rec)["instance"], "instance is a URI reference")
	assert.Equal(t, []string{"Accept, Accept-Language"}, rec.Header().Values("Vary"),
		"the body depends on Accept and, with translations, Accept-Language")

	plain := httpx.Handler(returning(te.notFound), httpx.WithRegistry(te.reg))
	assert.Equal(t, []string{"Accept"}, do(plain, "GET", "/x").Header().Values("Vary"))

	list := httpx.Handler(returning(te.limited), httpx.WithRegistry(te.reg), httpx.WithRenderer(httpx.ErrorList{}))
	assert.Equal(t, []string{"Accept-Language"}, do(list, "GET", "/x").Header().Values("Vary"))
}

func TestNestedInfoIsMasked(t *testing.T) {
	te := newTestErrors()
	err := te.notFound.With("creds", map[string]string{"password": "hunter2", "user": "ada"})
	rec := do(httpx.Handler(returning(err), httpx.WithRegistry(te.reg)), "GET", "/x")
	assert.NotContains(t, rec.Body.String(), "hunter2")
	assert.Equal(t, map[string]any{"password": mask.Mask, "user": "ada"}, body(t, rec)["info"].(map[string]any)["creds"])
}

func TestContentNegotiationQValues(t *testing.T) {
	te := newTestErrors()
	h := httpx.Handler(returning(te.notFound), httpx.WithRegistry(te.reg))
	for accept, want := range map[string]string{
		"":                            "application/problem+json",
		"*/*":                         "application/problem+json",
		"application/json":            "application/json",
		"application/json, */*;q=0.1": "application/json",
		"application/problem+json":    "application/problem+json",
		"application/problem+json, application/json":       "application/problem+json",
		"application/problem+json;q=0.1, application/json": "application/json",
		"application/json;q=0.5, application/*":            "application/problem+json",
		"application/json-seq":                             "application/problem+json",
		"text/html":                                        "application/problem+json", // never an HTML error page
		"application/json;q=0":                             "application/problem+json",
	} {
		rec := do(h, "GET", "/x", "Accept", accept)
		assert.Equal(t, want, rec.Header().Get("Content-Type"), "Accept: %q", accept)
	}
}

// TestProblemDropsLengthAndEncoding: a Content-Length or Content-Encoding
// the handler set before failing is not the problem body's; its other
// headers stay.
func TestProblemDropsLengthAndEncoding(t *testing.T) {
	for _, set := range [][]string{
		{"Content-Length", "999"},
		{"Content-Encoding", "gzip"},
		{"Content-Length", "999", "Content-Encoding", "gzip"},
		{"X-Request-Id", "r1"},
	} {
		h := httpx.Handler(httpx.HandlerFunc(func(w http.ResponseWriter, r *http.Request) error {
			w.Header().Set("X-Request-Id", "r1")
			for i := 0; i+1 < len(set); i += 2 {
				w.Header().Set(set[i], set[i+1])
			}
			return errorsx.NotFound
		}))
		rec := do(h, "GET", "/")
		assert.Equal(t, http.StatusNotFound, rec.Code)
		assert.Empty(t, rec.Header().Values("Content-Length"), set)
		assert.Empty(t, rec.Header().Values("Content-Encoding"), set)
		assert.Equal(t, "r1", rec.Header().Get("X-Request-Id"), set)
		assert.Equal(t, "application/problem+json", rec.Header().Get("Content-Type"), set)
	}
}
