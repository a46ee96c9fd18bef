package httpx_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/otelkit/otelkit/errorsx"
	"github.com/otelkit/otelkit/httpx"
	"github.com/otelkit/otelkit/mask"
)

// TestNestedInheritance: an inner Handler inherits every option of the
// outer one unless it sets it (issue 17 item 2): the README's /admin/
// group with its own registry answers in the service's body shape.
func TestNestedInheritance(t *testing.T) {
	te := newTestErrors()
	admin := errorsx.NewRegistry(errorsx.WithParent(te.reg))
	adminOnly := admin.Define(http.StatusForbidden, "admin.forbidden", "Admins only")

	adminMux := http.NewServeMux()
	adminMux.Handle("GET /admin/a", returning(adminOnly.With("password", "p")))
	adminMux.Handle("GET /admin/b", returning(te.limited))
	mux := http.NewServeMux()
	mux.Handle("/admin/", httpx.Handler(adminMux, httpx.WithRegistry(admin)))
	mux.Handle("/own/", httpx.Handler(returning(adminOnly), httpx.WithRegistry(admin), httpx.WithRenderer(httpx.ProblemJSON{})))

	strict := mask.New("password")
	outer := httpx.Handler(mux, httpx.WithRegistry(te.reg), httpx.WithRenderer(httpx.ErrorList{}),
		httpx.WithDocsBaseURL("https://docs.test/e"), httpx.WithMask(strict))

	t.Run("renderer inherited", func(t *testing.T) {
		rec := do(outer, "GET", "/admin/a")
		assert.Equal(t, 403, rec.Code)
		assert.Equal(t, "application/json", rec.Header().Get("Content-Type"))
		errs := body(t, rec)["errors"].([]any)
		require.Len(t, errs, 1)
		e := errs[0].(map[string]any)
		assert.Equal(t, "admin.forbidden", e["code"])
		assert.Equal(t, map[string]any{"password": mask.Mask}, e["info"], "mask inherited")
	})
	t.Run("registry set by the inner Handler wins, parent still resolves", func(t *testing.T) {
		rec := do(outer, "GET", "/admin/b")
		assert.Equal(t, 429, rec.Code)
		assert.Equal(t, "auth.rate-limited", body(t, rec)["errors"].([]any)[0].(map[string]any)["code"])
	})
	t.Run("an option set inside overrides", func(t *testing.T) {
		rec := do(outer, "GET", "/own/x")
		assert.Equal(t, 403, rec.Code)
		b := body(t, rec)
		assert.Equal(t, "admin.forbidden", b["id"])
		assert.Equal(t, "https://docs.test/e/admin.forbidden", b["type"], "docs base inherited beside the inner renderer")
	})
	t.Run("outside any Handler the defaults apply", func(t *testing.T) {
		inner := httpx.Handler(returning(adminOnly), httpx.WithRegistry(admin))
		rec := do(inner, "GET", "/")
		assert.Equal(t, "application/problem+json", rec.Header().Get("Content-Type"))
	})
	t.Run("route errors setting inherited", func(t *testing.T) {
		innerMux := http.NewServeMux()
		innerMux.HandleFunc("GET /in/known", ok)
		h := httpx.Handler(httpx.Handler(innerMux), httpx.WithoutRouteErrors())
		rec := do(h, "GET", "/in/unknown")
		assert.Equal(t, 404, rec.Code)
		assert.Equal(t, "404 page not found\n", rec.Body.String())
	})
}

// TestTrackOutcome: middleware outside the Handler learns what it did
// (issue 17 item 11) without resolving the error again.
func TestTrackOutcome(t *testing.T) {
	te := newTestErrors()
	mux := http.NewServeMux()
	mux.HandleFunc("GET /ok", ok)
	mux.HandleFunc("GET /created", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(201) })
	mux.Handle("GET /limited", returning(te.limited.With("retry_after", 3)))
	mux.HandleFunc("GET /panic", func(http.ResponseWriter, *http.Request) { panic("boom") })
	mux.HandleFunc("GET /late-panic", func(w http.ResponseWriter, _ *http.Request) {
		_, _ = w.Write([]byte("partial"))
		panic("boom")
	})
	mux.Handle("GET /unregistered", returning(context.DeadlineExceeded))
	inner := http.NewServeMux()
	inner.Handle("GET /group/x", returning(te.notFound))
	mux.Handle("/group/", httpx.Handler(inner, httpx.WithRegistry(te.reg)))
	h := httpx.Handler(mux, httpx.WithRegistry(te.reg))

	var got *httpx.Outcome
	logged := func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			r, out := httpx.TrackOutcome(r)
			defer func() { got = out }()
			next.ServeHTTP(w, r)
		})
	}(h)

	tests := []struct {
		path   string
		status int
		id     string
		panic  bool
	}{
		{"/ok", 200, "", false},
		{"/created", 201, "", false},
		{"/limited", 429, "auth.rate-limited", false},
		{"/panic", 500, "internal", true},
		{"/unregistered", 500, "internal", false},
		{"/nowhere", 404, "not-found", false},
		{"/group/x", 404, "users.not-found", false},
		{"/late-panic", 200, "internal", true},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			got = nil
			func() {
				defer func() { _ = recover() }() // the late panic aborts the connection
				logged.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", tt.path, nil))
			}()
			require.NotNil(t, got)
			assert.Equal(t, tt.status, got.Status)
			assert.Equal(t, tt.id, got.ID())
			assert.Equal(t, tt.panic, got.Panic)
			if tt.id != "" {
				assert.Equal(t, tt.id, got.Def.ID())
			}
		})
	}
	t.Run("untracked requests cost nothing extra and nil is safe", func(t *testing.T) {
		rec := do(h, "GET", "/limited")
		assert.Equal(t, 429, rec.Code)
		var o *httpx.Outcome
		assert.Equal(t, "", o.ID())
	})
}
