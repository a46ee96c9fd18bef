package catalog_test

import (
	"database/sql"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/otelkit/otelkit/catalog"
	"github.com/otelkit/otelkit/errorsx"
)

const browserAccept = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"

func TestHandler(t *testing.T) {
	reg := newTestRegistry(t, []int{0, 1, 2, 3})
	xss := reg.Define(422, "xss", `<script>alert("x")</script>`, errorsx.Describe(`<img src=x onerror=alert(1)>`))
	_ = xss
	mux := http.NewServeMux()
	mux.Handle("/errors/", catalog.Handler(reg, catalog.WithBaseURL("https://api.example.com/errors/"), catalog.WithTitle("Shop errors")))
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)

	tests := []struct {
		name        string
		method      string
		path        string
		accept      string
		status      int
		contentType string
		contains    []string
		notContains []string
		header      map[string]string
	}{
		{name: "index is JSON by default", path: "/errors/", status: 200, contentType: "application/json",
			contains: []string{`"title": "Shop errors"`, `"id": "user.not-found"`, `"type": "https://api.example.com/errors/user.not-found"`}},
		{name: "index without slash", path: "/errors", status: 200, contentType: "application/json",
			contains: []string{`"id": "auth.rate-limited"`}},
		{name: "index for a browser", path: "/errors/", accept: browserAccept, status: 200, contentType: "text/html; charset=utf-8",
			contains: []string{"<h1>Shop errors</h1>", `<a href="./user.not-found"><code>user.not-found</code></a>`, "The user was not found"}},
		{name: "browser index without slash (the mux redirects)", path: "/errors", accept: browserAccept, status: 200, contentType: "text/html; charset=utf-8",
			contains: []string{`<a href="./auth.rate-limited">`}},
		{name: "entry page is HTML", path: "/errors/user.not-found", status: 200, contentType: "text/html; charset=utf-8",
			contains: []string{
				"<h1><code>user.not-found</code></h1>", "404 Not Found", "The user was not found",
				"No user has the id given in the path.", `<td lang="de">Der Benutzer wurde nicht gefunden</td>`,
				`&#34;type&#34;: &#34;https://api.example.com/errors/user.not-found&#34;`,
			},
			notContains: []string{"Mapped from", "sql: no rows in result set"},
			header:      map[string]string{"Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'", "Vary": "Accept"}},
		{name: "entry page escapes", path: "/errors/xss", accept: browserAccept, status: 200, contentType: "text/html; charset=utf-8",
			contains:    []string{"&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;", "&lt;img src=x onerror=alert(1)&gt;"},
			notContains: []string{"<script>", "<img"}},
		{name: "entry as JSON", path: "/errors/request.bad-json", accept: "application/json", status: 200, contentType: "application/json",
			contains:    []string{`"id": "request.bad-json"`},
			notContains: []string{"mapped_from", "json.SyntaxError"}},
		{name: "built-in entry", path: "/errors/internal", accept: "application/json", status: 200, contentType: "application/json",
			contains: []string{`"builtin": true`}},
		{name: "unknown id", path: "/errors/nope", status: 404, contentType: "application/problem+json",
			contains: []string{`"id": "not-found"`, `"status": 404`, `"instance": "/errors/nope"`, `"type": "https://api.example.com/errors/not-found"`}},
		{name: "nested path", path: "/errors/a/b", status: 404, contentType: "application/problem+json"},
		{name: "wrong method", method: http.MethodPost, path: "/errors/user.not-found", status: 405, contentType: "application/problem+json",
			contains: []string{`"id": "method-not-allowed"`}, header: map[string]string{"Allow": "GET, HEAD"}},
		{name: "HEAD has no body", method: http.MethodHead, path: "/errors/user.not-found", status: 200, contentType: "text/html; charset=utf-8"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			method := tt.method
			if method == "" {
				method = http.MethodGet
			}
			req, err := http.NewRequestWithContext(t.Context(), method, srv.URL+tt.path, nil)
			require.NoError(t, err)
			if tt.accept != "" {
				req.Header.Set("Accept", tt.accept)
			}
			resp, err := srv.Client().Do(req)
			require.NoError(t, err)
			defer resp.Body.Close()
			body, err := io.ReadAll(resp.Body)
			require.NoError(t, err)
			assert.Equal(t, tt.status, resp.StatusCode, string(body))
			assert.Equal(t, tt.contentType, resp.Header.Get("Content-Type"))
			assert.Equal(t, "nosniff", resp.Header.Get("X-Content-Type-Options"))
			for k, v := range tt.header {
				assert.Equal(t, v, resp.Header.Get(k), k)
			}
			for _, s := range tt.contains {
				assert.Contains(t, string(body), s)
			}
			for _, s := range tt.notContains {
				assert.NotContains(t, string(body), s)
			}
			if method == http.MethodHead {
				assert.Empty(t, body)
				assert.NotEqual(t, "0", resp.Header.Get("Content-Length"))
			}
			if strings.HasPrefix(tt.contentType, "application/") {
				assert.True(t, json.Valid(body), "valid JSON")
			}
		})
	}
}

// TestHandlerMappings checks that the handler, meant to be public, keeps
// the Go errors mapped to each entry private unless WithMappings is given.
func TestHandlerMappings(t *testing.T) {
	reg := newTestRegistry(t, []int{0, 1, 2, 3})
	child := errorsx.NewRegistry(errorsx.WithParent(reg))
	child.Map(sql.ErrConnDone, errorsx.Internal)
	// Internal details that must not leak by default: Go type names,
	// package paths, error texts.
	private := []string{"mapped_from", "Mapped from", "sql: no rows in result set", "*json.SyntaxError",
		"encoding/json", "*errors.errorString", "net.Error", "sql: connection is already closed", "child registry"}
	requests := []struct {
		name, path, accept string
	}{
		{"index JSON", "/", "application/json"},
		{"index HTML", "/", "text/html"},
		{"entry JSON", "/user.not-found", "application/json"},
		{"entry HTML", "/user.not-found", "text/html"},
		{"entry JSON of a type mapping", "/request.bad-json", "application/json"},
		{"entry HTML of a type mapping", "/request.bad-json", "text/html"},
		{"entry of a child's mapping", "/internal", "application/json"},
	}
	get := func(t *testing.T, h http.Handler, path, accept string) string {
		t.Helper()
		rec := httptest.NewRecorder()
		req := httptest.NewRequest(http.MethodGet, path, nil)
		req.Header.Set("Accept", accept)
		h.ServeHTTP(rec, req)
		require.Equal(t, http.StatusOK, rec.Code)
		return rec.Body.String()
	}

	t.Run("left out by default", func(t *testing.T) {
		h := catalog.Handler(reg, catalog.WithChildren())
		for _, r := range requests {
			t.Run(r.name, func(t *testing.T) {
				body := get(t, h, r.path, r.accept)
				for _, s := range private {
					assert.NotContains(t, body, s)
				}
			})
		}
	})
	t.Run("shown with WithMappings", func(t *testing.T) {
		h := catalog.Handler(reg, catalog.WithChildren(), catalog.WithMappings())
		assert.Contains(t, get(t, h, "/", "application/json"), `"mapped_from"`)
		assert.Contains(t, get(t, h, "/user.not-found", "application/json"), `"text": "sql: no rows in result set"`)
		assert.Contains(t, get(t, h, "/request.bad-json", "application/json"), `"type": "*json.SyntaxError"`)
		html := get(t, h, "/user.not-found", "text/html")
		assert.Contains(t, html, "<h2>Mapped from</h2>")
		assert.Contains(t, html, "value <code>sql: no rows in result set</code>")
		assert.Contains(t, get(t, h, "/internal", "text/html"),
			"value <code>sql: connection is already closed</code> of type <code>*errors.errorString</code> in child registry #1")
	})
	t.Run("the last option wins", func(t *testing.T) {
		h := catalog.Handler(reg, catalog.WithMappings(), catalog.WithoutMappings())
		assert.NotContains(t, get(t, h, "/", "application/json"), "mapped_from")
	})
}

func TestHandlerIsLive(t *testing.T) {
	reg := errorsx.NewRegistry()
	h := catalog.Handler(reg)
	get := func(path string) *httptest.ResponseRecorder {
		rec := httptest.NewRecorder()
		req := httptest.NewRequest(http.MethodGet, path, nil)
		req.Header.Set("Accept", "application/json")
		h.ServeHTTP(rec, req)
		return rec
	}
	assert.Equal(t, http.StatusNotFound, get("/late").Code)
	reg.Define(409, "late", "Defined after the handler")
	rec := get("/late")
	assert.Equal(t, http.StatusOK, rec.Code)
	var e catalog.Entry
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &e))
	assert.Equal(t, catalog.Entry{ID: "late", Status: 409, Message: "Defined after the handler", Type: "urn:otelkit:error:late", GRPCCode: "ALREADY_EXISTS"}, e)
	assert.Contains(t, get("/").Body.String(), `"id": "late"`)
}

func TestHandlerStripPrefix(t *testing.T) {
	reg := newTestRegistry(t, []int{0})
	mux := http.NewServeMux()
	mux.Handle("/docs/errors/", http.StripPrefix("/docs/errors", catalog.Handler(reg)))
	rec := httptest.NewRecorder()
	mux.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/docs/errors/auth.rate-limited", nil))
	assert.Equal(t, http.StatusOK, rec.Code)
	assert.Contains(t, rec.Body.String(), `<a href="./">Errors</a>`)

	rec = httptest.NewRecorder()
	req := httptest.NewRequest(http.MethodGet, "/docs/errors", nil)
	req.Header.Set("Accept", "text/html")
	http.StripPrefix("/docs/errors", catalog.Handler(reg)).ServeHTTP(rec, req)
	assert.Equal(t, http.StatusOK, rec.Code)
	assert.Contains(t, rec.Body.String(), `<a href="./errors/auth.rate-limited">`, "links are relative to the index's URL")
}

func TestHandlerConcurrentDefine(t *testing.T) {
	reg := errorsx.NewRegistry()
	h := catalog.Handler(reg)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := range 50 {
			reg.Define(400+i, "concurrent."+strconv.Itoa(i), "Defined while serving")
		}
	}()
	for range 50 {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/", nil))
		require.Equal(t, http.StatusOK, rec.Code)
		_, err := catalog.ReadJSON(rec.Body)
		require.NoError(t, err)
	}
	<-done
	assert.Len(t, catalog.New(reg, catalog.WithoutBuiltins()).Entries, 50)
}
