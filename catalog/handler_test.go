package catalog_test

import (
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
				"value <code>sql: no rows in result set</code>", `&#34;type&#34;: &#34;https://api.example.com/errors/user.not-found&#34;`,
			},
			header: map[string]string{"Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'", "Vary": "Accept"}},
		{name: "entry page escapes", path: "/errors/xss", accept: browserAccept, status: 200, contentType: "text/html; charset=utf-8",
			contains:    []string{"&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;", "&lt;img src=x onerror=alert(1)&gt;"},
			notContains: []string{"<script>", "<img"}},
		{name: "entry as JSON", path: "/errors/request.bad-json", accept: "application/json", status: 200, contentType: "application/json",
			contains: []string{`"id": "request.bad-json"`, `"kind": "type"`, `"type": "*json.SyntaxError"`}},
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
	assert.Equal(t, catalog.Entry{ID: "late", Status: 409, Message: "Defined after the handler", Type: "urn:otelkit:error:late"}, e)
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
