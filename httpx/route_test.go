package httpx_test

import (
	"errors"
	"net/http"
	"reflect"
	"testing"

	"github.com/go-chi/chi/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/otelkit/otelkit/errorsx"
	"github.com/otelkit/otelkit/httpx"
)

func ok(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("ok")) }

// jsonNotFound is a handler that answers 404 with a JSON body of its own.
func jsonNotFound(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusNotFound)
	_, _ = w.Write([]byte(`{"mine":true}`))
}

func serveMuxRoutes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /users/{id}", ok)
	mux.HandleFunc("DELETE /users/{id}", ok)
	mux.HandleFunc("GET /own-404", jsonNotFound)
	mux.HandleFunc("GET /plain-404", http.NotFound)
	return mux
}

func chiRoutes() http.Handler {
	r := chi.NewRouter()
	r.Get("/users/{id}", ok)
	r.Delete("/users/{id}", ok)
	r.Get("/own-404", jsonNotFound)
	return r
}

func TestRouteErrors(t *testing.T) {
	routers := []struct {
		name   string
		router func() http.Handler
		allow  []string
	}{
		{"ServeMux", serveMuxRoutes, []string{"GET", "HEAD", "DELETE"}},
		{"chi", chiRoutes, []string{"GET", "DELETE"}},
	}
	for _, rt := range routers {
		t.Run(rt.name, func(t *testing.T) {
			t.Run("unknown route", func(t *testing.T) {
				tel := newTelemetry(t)
				rec := do(tel.serve(rt.router()), "GET", "/nope")
				assert.Equal(t, 404, rec.Code)
				assert.Equal(t, "application/problem+json", rec.Header().Get("Content-Type"))
				b := body(t, rec)
				assert.Equal(t, "not-found", b["id"])
				assert.Equal(t, "The requested resource was not found", b["title"])
				assert.Equal(t, "/nope", b["instance"])
				assert.NotEmpty(t, b["trace_id"])
				assert.NotContains(t, rec.Body.String(), "404 page not found")
				span := tel.onlySpan(t)
				assert.Equal(t, "not-found", attrMap(span.Attributes())["otelkit.error.id"].AsString())
				assert.NotContains(t, attrMap(span.Attributes()), "error.type", "a 4xx is no error of the server")
				assert.Empty(t, exceptionEvents(span), "a 4xx is no exception")
			})
			t.Run("wrong method", func(t *testing.T) {
				tel := newTelemetry(t)
				rec := do(tel.serve(rt.router()), "POST", "/users/1")
				assert.Equal(t, 405, rec.Code)
				assert.ElementsMatch(t, rt.allow, splitAllow(rec.Header().Values("Allow")))
				b := body(t, rec)
				assert.Equal(t, "method-not-allowed", b["id"])
				assert.EqualValues(t, 405, b["status"])
				assert.NotContains(t, rec.Body.String(), "Method Not Allowed\n")
				assert.Equal(t, "method-not-allowed", attrMap(tel.onlySpan(t).Attributes())["otelkit.error.id"].AsString())
			})
			t.Run("JSON 404 of a handler kept", func(t *testing.T) {
				tel := newTelemetry(t)
				rec := do(tel.serve(rt.router()), "GET", "/own-404")
				assert.Equal(t, 404, rec.Code)
				assert.Equal(t, `{"mine":true}`, rec.Body.String())
				assert.Equal(t, "application/json", rec.Header().Get("Content-Type"))
				assert.Empty(t, exceptionEvents(tel.onlySpan(t)))
			})
			t.Run("WithoutRouteErrors", func(t *testing.T) {
				rec := do(httpx.Handler(rt.router(), httpx.WithoutRouteErrors()), "GET", "/nope")
				assert.Equal(t, 404, rec.Code)
				assert.NotContains(t, rec.Body.String(), "not-found")
			})
			t.Run("success untouched", func(t *testing.T) {
				rec := do(httpx.Handler(rt.router()), "GET", "/users/1")
				assert.Equal(t, 200, rec.Code)
				assert.Equal(t, "ok", rec.Body.String())
			})
		})
	}
	t.Run("ServeMux route that calls http.NotFound itself is kept", func(t *testing.T) {
		rec := do(httpx.Handler(serveMuxRoutes()), "GET", "/plain-404")
		assert.Equal(t, 404, rec.Code)
		assert.Equal(t, "404 page not found\n", rec.Body.String())
	})
	t.Run("chi route's own 404 and 405 bodies kept", func(t *testing.T) {
		r := chi.NewRouter()
		r.Get("/archived", func(w http.ResponseWriter, r *http.Request) {
			http.Error(w, "gone to archive", http.StatusNotFound)
		})
		r.Get("/json-404", func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(http.StatusNotFound)
			_, _ = w.Write([]byte(`{"custom":true}`))
		})
		r.Get("/bare-404", func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(http.StatusNotFound)
		})
		r.Get("/stream-404", func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(http.StatusNotFound)
			w.(http.Flusher).Flush()
		})
		h := httpx.Handler(r)
		for path, body := range map[string]string{
			"/archived":   "gone to archive\n",
			"/json-404":   `{"custom":true}`,
			"/bare-404":   "",
			"/stream-404": "",
		} {
			rec := do(h, "GET", path)
			assert.Equal(t, 404, rec.Code, path)
			assert.Equal(t, body, rec.Body.String(), path)
		}
	})
	t.Run("a chi route calling http.NotFound gets the registered body", func(t *testing.T) {
		r := chi.NewRouter()
		r.Get("/users/{id}", func(w http.ResponseWriter, r *http.Request) { http.NotFound(w, r) })
		rec := do(httpx.Handler(r), "GET", "/users/7")
		assert.Equal(t, 404, rec.Code)
		assert.Equal(t, "not-found", body(t, rec)["id"])
	})
	t.Run("chi custom NotFound handler kept", func(t *testing.T) {
		r := chi.NewRouter()
		r.Get("/x", ok)
		r.NotFound(jsonNotFound)
		rec := do(httpx.Handler(r), "GET", "/nope")
		assert.Equal(t, `{"mine":true}`, rec.Body.String())
	})
}

func splitAllow(values []string) []string {
	var out []string
	for _, v := range values {
		out = append(out, splitComma(v)...)
	}
	return out
}

func splitComma(s string) []string {
	var out []string
	start := 0
	for i := 0; i <= len(s); i++ {
		if i == len(s) || s[i] == ',' {
			part := s[start:i]
			for len(part) > 0 && part[0] == ' ' {
				part = part[1:]
			}
			if part != "" {
				out = append(out, part)
			}
			start = i + 1
		}
	}
	return out
}

func TestNestedHandlers(t *testing.T) {
	t.Setenv("OTEL_SEMCONV_EXCEPTION_SIGNAL_OPT_IN", "logs/dup") // count the log records too
	app := errorsx.NewRegistry()
	appNotFound := app.Define(http.StatusNotFound, "app.not-found", "Not found (app)")
	app.Map(errSentinel, appNotFound)
	group := errorsx.NewRegistry(errorsx.WithParent(app))
	groupGone := group.Define(http.StatusGone, "admin.gone", "Gone (admin group)")
	group.Map(errSentinel, groupGone)

	tel := newTelemetry(t)
	inner := http.NewServeMux()
	inner.Handle("GET /admin/users/{id}", returning(errSentinel))
	inner.HandleFunc("GET /admin/boom", func(http.ResponseWriter, *http.Request) { panic("boom") })
	inner.Handle("GET /admin/internal", returning(errors.New("db")))
	outer := http.NewServeMux()
	outer.Handle("/admin/", httpx.Handler(inner, httpx.WithRegistry(group), httpx.WithLoggerProvider(tel.lp)))
	outer.Handle("GET /users/{id}", returning(errSentinel))
	h := tel.serve(outer, httpx.WithRegistry(app))

	tests := []struct {
		path   string
		status int
		id     string
		route  string
		logs   int
	}{
		{"/admin/users/1", 410, "admin.gone", "/admin/users/{id}", 0},
		{"/users/1", 404, "app.not-found", "/users/{id}", 0},
		{"/admin/boom", 500, "internal", "/admin/boom", 1},
		{"/admin/internal", 500, "internal", "/admin/internal", 1},
		{"/admin/nope", 404, "not-found", "/admin/", 0},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			tel.spans.Reset()
			before := len(tel.logs.records())
			rec := do(h, "GET", tt.path)
			assert.Equal(t, tt.status, rec.Code)
			b := body(t, rec) // a second body would make this fail to decode
			assert.Equal(t, tt.id, b["id"])
			span := tel.onlySpan(t)
			key, events := "otelkit.error.id", 0
			if tt.status >= 500 {
				key, events = "error.type", 1
			}
			assert.Len(t, exceptionEvents(span), events, "rendered once")
			assert.Equal(t, tt.id, attrMap(span.Attributes())[key].AsString())
			assert.Equal(t, tt.route, attrMap(span.Attributes())["http.route"].AsString())
			assert.Len(t, tel.logs.records()[before:], tt.logs)
		})
	}
}

var errSentinel = errors.New("sentinel")

func TestRequestInfo(t *testing.T) {
	calls := 0
	user := httpx.WithUser(func(r *http.Request) string {
		calls++
		return "user-" + r.Header.Get("X-User")
	})
	var got httpx.RequestInfo
	var gotOK bool
	mux := http.NewServeMux()
	mux.HandleFunc("GET /users/{id}", func(w http.ResponseWriter, r *http.Request) {
		got, gotOK = httpx.RequestInfoFromContext(r.Context())
	})
	mux.HandleFunc("GET /lazy", ok)
	h := httpx.Handler(mux, user)

	do(h, "GET", "/lazy", "X-User", "a")
	assert.Zero(t, calls, "WithUser is lazy: not called when nobody asks")

	do(h, "GET", "/users/7", "X-User", "a")
	require.True(t, gotOK)
	assert.Equal(t, httpx.RequestInfo{Route: "/users/{id}", Method: "GET", ClientAddress: "192.0.2.7", UserID: "user-a"}, got)
	assert.Equal(t, 1, calls)

	_, okOutside := httpx.RequestInfoFromContext(t.Context())
	assert.False(t, okOutside)
	assert.Equal(t, "github.com/otelkit/otelkit/httpx", reflect.TypeFor[httpx.RequestInfo]().PkgPath(),
		"RequestInfo is defined where users read it, not an alias of an internal type")

	t.Run("client address forms", func(t *testing.T) {
		for _, tt := range []struct{ remote, want string }{
			{"192.0.2.7:1234", "192.0.2.7"},
			{"[2001:db8::1]:443", "2001:db8::1"},
			{"192.0.2.7", "192.0.2.7"},
			{"2001:db8::1", "2001:db8::1"},
			{"", ""},
		} {
			t.Run(tt.remote, func(t *testing.T) {
				var info httpx.RequestInfo
				h := httpx.Handler(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
					info, _ = httpx.RequestInfoFromContext(r.Context())
				}))
				req := httptestRequest(t.Context(), "GET", "/")
				req.RemoteAddr = tt.remote
				h.ServeHTTP(httptestRecorder(), req)
				assert.Equal(t, tt.want, info.ClientAddress)
			})
		}
	})
	t.Run("WithClientAddress", func(t *testing.T) {
		var info httpx.RequestInfo
		h := httpx.Handler(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
			info, _ = httpx.RequestInfoFromContext(r.Context())
		}), httpx.WithClientAddress(func(r *http.Request) string { return r.Header.Get("X-Forwarded-For") }))
		do(h, "GET", "/", "X-Forwarded-For", "198.51.100.1")
		assert.Equal(t, "198.51.100.1", info.ClientAddress)
	})
	t.Run("nested handler asks the outer user resolver", func(t *testing.T) {
		var info httpx.RequestInfo
		inner := httpx.Handler(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
			info, _ = httpx.RequestInfoFromContext(r.Context())
		}))
		do(httpx.Handler(inner, user), "GET", "/", "X-User", "b")
		assert.Equal(t, "user-b", info.UserID)
	})
	t.Run("an inner resolver that knows no user falls back to the outer one", func(t *testing.T) {
		var info httpx.RequestInfo
		inner := httpx.Handler(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
			info, _ = httpx.RequestInfoFromContext(r.Context())
		}), httpx.WithUser(func(*http.Request) string { return "" }))
		do(httpx.Handler(inner, user), "GET", "/", "X-User", "c")
		assert.Equal(t, "user-c", info.UserID)
	})
}

// TestNestedChiUnderServeMux: an inner Handler around chi, mounted on a
// ServeMux prefix, still answers chi's unknown routes and wrong methods,
// and sees chi's pattern on errors.
func TestNestedChiUnderServeMux(t *testing.T) {
	te := newTestErrors()
	r := chi.NewRouter()
	r.Get("/api/users/{id}", ok)
	r.Method("GET", "/api/missing/{id}", returning(te.notFound))
	outer := http.NewServeMux()
	outer.Handle("/api/", httpx.Handler(r, httpx.WithRegistry(te.reg)))
	tel := newTelemetry(t)
	h := tel.serve(outer)

	tests := []struct {
		method, path string
		status       int
		id           string
		route        string
	}{
		{"GET", "/api/nope", 404, "not-found", "/api/"},
		{"POST", "/api/users/1", 405, "method-not-allowed", "/api/"},
		{"GET", "/api/missing/1", 404, "users.not-found", "/api/missing/{id}"},
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.path, func(t *testing.T) {
			tel.spans.Reset()
			rec := do(h, tt.method, tt.path)
			assert.Equal(t, tt.status, rec.Code)
			assert.Equal(t, tt.id, body(t, rec)["id"])
			span := tel.onlySpan(t)
			assert.Empty(t, exceptionEvents(span), "4xx: no exception")
			assert.Equal(t, tt.id, attrMap(span.Attributes())["otelkit.error.id"].AsString(), "recorded once, by the handler that rendered")
			assert.Equal(t, tt.route, attrMap(span.Attributes())["http.route"].AsString())
		})
	}
	rec := do(h, "GET", "/api/users/1")
	assert.Equal(t, "ok", rec.Body.String())
}

// TestMountedPlainNotFound: a Handler mounted on a ServeMux prefix around
// a router that is neither a ServeMux nor chi (here a handler answering
// http.NotFound) still answers the router's 404 in JSON: the outer
// ServeMux's pattern is the one the request arrived with, not a match of a
// router inside.
func TestMountedPlainNotFound(t *testing.T) {
	outer := http.NewServeMux()
	outer.Handle("/api/", httpx.Handler(http.HandlerFunc(http.NotFound)))
	rec := do(outer, "GET", "/api/nope")
	assert.Equal(t, http.StatusNotFound, rec.Code)
	assert.Equal(t, "not-found", body(t, rec)["id"])
}
