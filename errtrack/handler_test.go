package errtrack_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"

	"github.com/otelkit/otelkit/errtrack"
	"github.com/otelkit/otelkit/errtrack/internal/errtracktest"
)

type response struct {
	status int
	header http.Header
	body   string
}

// get serves one request to h from remote with the given Accept header.
func get(t *testing.T, h http.Handler, target, remote, accept string) response {
	t.Helper()
	req := httptest.NewRequest(http.MethodGet, target, nil)
	req.RemoteAddr = remote
	req.Host = "localhost:8080"
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return response{rec.Code, rec.Header(), rec.Body.String()}
}

func seeded(t *testing.T, opts ...errtrack.Option) (*errtrack.Tracker, string) {
	t.Helper()
	tr := errtrack.New(opts...)
	l := logger(t, tr)
	ctx, traceID := spanCtx(t)
	for i := range 3 {
		e := registered("order.failed", 500, "charging the card failed", t0.Add(time.Duration(i)*time.Second))
		e.Attrs = []attribute.KeyValue{attribute.String("order_id", "o-17"), attribute.String("card_token", "tok_live_x")}
		errtracktest.Emit(ctx, l, e)
	}
	errtracktest.Emit(ctx, l, errtracktest.Exception{
		Time: t0.Add(time.Minute), Type: "*errors.errorString", Message: `<script>alert("x")</script>`,
		ID: "internal", Fingerprint: "c0ffee", Status: 500, Stack: errtracktest.Stack("app.render"),
	})
	return tr, traceID
}

func TestHandlerJSON(t *testing.T) {
	tr, traceID := seeded(t)
	h := tr.Handler(errtrack.AllowLoopback())

	res := get(t, h, "/dev/errors", "127.0.0.1:5000", "application/json")
	require.Equal(t, http.StatusOK, res.status, res.body)
	assert.Equal(t, "application/json; charset=utf-8", res.header.Get("Content-Type"))
	var list struct {
		Fingerprints int `json:"fingerprints"`
		Groups       []struct {
			Fingerprint string         `json:"fingerprint"`
			ID          string         `json:"id"`
			Status      int            `json:"status"`
			Count       int64          `json:"count"`
			FirstSeen   time.Time      `json:"first_seen"`
			LastSeen    time.Time      `json:"last_seen"`
			Message     string         `json:"message"`
			TraceID     string         `json:"trace_id"`
			Extras      map[string]any `json:"extras"`
			URL         string         `json:"url"`
		} `json:"groups"`
	}
	require.NoError(t, json.Unmarshal([]byte(res.body), &list))
	require.Equal(t, 2, list.Fingerprints)
	require.Len(t, list.Groups, 2)
	assert.Equal(t, "c0ffee", list.Groups[0].Fingerprint, "newest first")
	g := list.Groups[1]
	assert.Equal(t, "order.failed", g.ID)
	assert.Equal(t, 500, g.Status)
	assert.Equal(t, int64(3), g.Count)
	assert.True(t, t0.Equal(g.FirstSeen))
	assert.True(t, t0.Add(2*time.Second).Equal(g.LastSeen))
	assert.Equal(t, "charging the card failed", g.Message)
	assert.Equal(t, traceID, g.TraceID)
	assert.Equal(t, map[string]any{"order_id": "o-17", "card_token": "**************"}, g.Extras)
	assert.Equal(t, "/dev/errors/order.failed", g.URL)

	res = get(t, h, g.URL, "127.0.0.1:5000", "application/json")
	require.Equal(t, http.StatusOK, res.status)
	var detail struct {
		Count       int64 `json:"count"`
		Occurrences []struct {
			Time    time.Time `json:"time"`
			Stack   string    `json:"stack"`
			TraceID string    `json:"trace_id"`
		} `json:"occurrences"`
	}
	require.NoError(t, json.Unmarshal([]byte(res.body), &detail))
	assert.Equal(t, int64(3), detail.Count)
	require.Len(t, detail.Occurrences, 3)
	assert.True(t, t0.Add(2*time.Second).Equal(detail.Occurrences[0].Time))
	assert.Contains(t, detail.Occurrences[0].Stack, "app.handler")
	assert.Equal(t, traceID, detail.Occurrences[0].TraceID)

	res = get(t, h, "/dev/errors/nope", "127.0.0.1:5000", "application/json")
	assert.Equal(t, http.StatusNotFound, res.status)
	assert.Equal(t, "application/problem+json", res.header.Get("Content-Type"))
	assert.JSONEq(t, `{"type":"about:blank","title":"Not Found","status":404,"detail":"no errors with this fingerprint are held","instance":"/dev/errors/nope"}`, res.body)

	res = get(t, h, "/dev/errors/?format=json", "127.0.0.1:5000", "")
	assert.Equal(t, "application/json; charset=utf-8", res.header.Get("Content-Type"))
}

func TestHandlerHTML(t *testing.T) {
	tr, traceID := seeded(t)
	h := tr.Handler(errtrack.AllowLoopback())
	browserAccept := "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"

	res := get(t, h, "/dev/errors/", "127.0.0.1:5000", browserAccept)
	require.Equal(t, http.StatusOK, res.status)
	assert.Equal(t, "text/html; charset=utf-8", res.header.Get("Content-Type"))
	assert.Contains(t, res.header.Get("Content-Security-Policy"), "default-src 'none'")
	assert.Equal(t, 2, strings.Count(res.body, `<tr class="group"`))
	assert.Contains(t, res.body, `data-fingerprint="order.failed" data-count="3"`)
	assert.Contains(t, res.body, `href="/dev/errors/order.failed"`)
	assert.Contains(t, res.body, traceID[:11])
	assert.Contains(t, res.body, "&lt;script&gt;", "messages are escaped")
	assert.NotContains(t, res.body, "<script>")
	assert.NotContains(t, res.body, "tok_live_x")
	assert.NotContains(t, res.body, "http://", "no external assets")
	assert.Less(t, strings.Index(res.body, "c0ffee"), strings.Index(res.body, "order.failed"), "newest first")

	res = get(t, h, "/dev/errors/order.failed", "127.0.0.1:5000", browserAccept)
	require.Equal(t, http.StatusOK, res.status)
	assert.Equal(t, 3, strings.Count(res.body, `<section class="occurrence">`))
	assert.Contains(t, res.body, `<pre class="stack">goroutine 1 [running]:`)
	assert.Contains(t, res.body, traceID)

	res = get(t, h, "/dev/errors/nope", "127.0.0.1:5000", browserAccept)
	assert.Equal(t, http.StatusNotFound, res.status)
	assert.Contains(t, res.body, "may have been evicted")
}

func TestHandlerEmpty(t *testing.T) {
	h := errtrack.New().Handler(errtrack.AllowLoopback())
	res := get(t, h, "/dev/errors", "127.0.0.1:5000", "")
	assert.Contains(t, res.body, "No errors captured yet.")
	res = get(t, h, "/dev/errors", "127.0.0.1:5000", "application/json")
	assert.JSONEq(t, `{"prefix":"/dev/errors","fingerprints":0,"evicted":0,"groups":[]}`, res.body)
}

func TestHandlerAccess(t *testing.T) {
	tr, _ := seeded(t)
	loopback := []errtrack.HandlerOption{errtrack.AllowLoopback()}
	token := []errtrack.HandlerOption{errtrack.WithToken("t0k3n-abcdef")}
	const off = "the error page is off until the service chooses who may read it: errtrack.WithToken, errtrack.AllowLoopback or errtrack.WithGuard"
	const refused = "the error page is only served to allowed clients"
	tests := []struct {
		name   string
		opts   []errtrack.HandlerOption
		remote string
		host   string
		header http.Header
		want   int
		detail string
	}{
		// Issue 18 item 13: no rule chosen, nobody is served, loopback
		// included (a same-host proxy without forwarding headers relays
		// remote clients from loopback).
		{"default: loopback refused", nil, "127.0.0.1:5000", "localhost:8080", nil, http.StatusForbidden, off},
		{"default: remote refused", nil, "10.0.0.1:5000", "localhost:8080", nil, http.StatusForbidden, off},
		{"IPv4 loopback", loopback, "127.0.0.1:5000", "localhost:8080", nil, http.StatusOK, ""},
		{"other 127/8 address", loopback, "127.10.0.3:5000", "127.0.0.1:8080", nil, http.StatusOK, ""},
		{"IPv6 loopback", loopback, "[::1]:5000", "[::1]:8080", nil, http.StatusOK, ""},
		{"IPv4-mapped loopback", loopback, "[::ffff:127.0.0.1]:5000", "app.localhost", nil, http.StatusOK, ""},
		{"private address", loopback, "10.0.0.1:5000", "localhost:8080", nil, http.StatusForbidden, refused},
		{"public IPv6", loopback, "[2001:db8::1]:5000", "localhost:8080", nil, http.StatusForbidden, refused},
		{"garbage", loopback, "nonsense", "localhost:8080", nil, http.StatusForbidden, refused},
		// Issue 18 item 14: DNS rebinding: the page's own name in Host.
		{"rebinding: foreign Host", loopback, "127.0.0.1:5000", "attacker.example", nil, http.StatusForbidden, refused},
		{"rebinding: foreign Host with port", loopback, "127.0.0.1:5000", "attacker.example:8080", nil, http.StatusForbidden, refused},
		{"rebinding: localhost lookalike", loopback, "127.0.0.1:5000", "localhost.attacker.example", nil, http.StatusForbidden, refused},
		{"empty Host", loopback, "127.0.0.1:5000", "", nil, http.StatusForbidden, refused},
		{"guard allows", []errtrack.HandlerOption{errtrack.WithGuard(func(*http.Request) bool { return true })}, "10.0.0.1:5000", "errors.example", nil, http.StatusOK, ""},
		{"guard denies loopback", []errtrack.HandlerOption{errtrack.WithGuard(func(*http.Request) bool { return false })}, "127.0.0.1:5000", "localhost", nil, http.StatusForbidden, refused},
		{"proxied: X-Forwarded-For", loopback, "127.0.0.1:5000", "localhost", http.Header{"X-Forwarded-For": {"203.0.113.7"}}, http.StatusForbidden, refused},
		{"proxied: X-Forwarded-For claims loopback", loopback, "127.0.0.1:5000", "localhost", http.Header{"X-Forwarded-For": {"127.0.0.1"}}, http.StatusForbidden, refused},
		{"proxied: Forwarded", loopback, "127.0.0.1:5000", "localhost", http.Header{"Forwarded": {"for=127.0.0.1;proto=http"}}, http.StatusForbidden, refused},
		{"proxied: X-Real-Ip", loopback, "[::1]:5000", "localhost", http.Header{"X-Real-Ip": {"::1"}}, http.StatusForbidden, refused},
		{"proxied: empty X-Forwarded-For", loopback, "127.0.0.1:5000", "localhost", http.Header{"X-Forwarded-For": {""}}, http.StatusForbidden, refused},
		{"other headers are fine", loopback, "127.0.0.1:5000", "localhost", http.Header{"X-Request-Id": {"r-1"}, "Via": {"1.1 cache"}}, http.StatusOK, ""},
		{"guard may accept proxied requests", []errtrack.HandlerOption{errtrack.WithGuard(func(r *http.Request) bool { return r.Header.Get("X-Forwarded-For") == "198.51.100.2" })}, "127.0.0.1:5000", "localhost", http.Header{"X-Forwarded-For": {"198.51.100.2"}}, http.StatusOK, ""},
		{"token: bearer from anywhere", token, "203.0.113.9:5000", "errors.example", http.Header{"Authorization": {"Bearer t0k3n-abcdef"}}, http.StatusOK, ""},
		{"token: cookie", token, "203.0.113.9:5000", "errors.example", http.Header{"Cookie": {"otelkit_errors_token=t0k3n-abcdef"}}, http.StatusOK, ""},
		{"token: wrong", token, "203.0.113.9:5000", "errors.example", http.Header{"Authorization": {"Bearer nope"}}, http.StatusForbidden, refused},
		{"token: loopback alone is not enough", token, "127.0.0.1:5000", "localhost", nil, http.StatusForbidden, refused},
		{"token or loopback", append(token, errtrack.AllowLoopback()), "127.0.0.1:5000", "localhost", nil, http.StatusOK, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := httptest.NewRequest(http.MethodGet, "/dev/errors", nil)
			req.RemoteAddr = tt.remote
			req.Host = tt.host
			for k, v := range tt.header {
				req.Header[k] = v
			}
			req.Header.Set("Accept", "text/html")
			if len(tt.opts) == 1 && &tt.opts[0] == &loopback[0] {
				assert.Equal(t, tt.want == http.StatusOK, errtrack.LoopbackOnly(req))
			}
			rec := httptest.NewRecorder()
			tr.Handler(tt.opts...).ServeHTTP(rec, req)
			res := response{rec.Code, rec.Header(), rec.Body.String()}
			require.Equal(t, tt.want, res.status)
			if tt.want == http.StatusForbidden {
				// Issue 19 item 7: problem details, not {"error","message"}.
				assert.Equal(t, "application/problem+json", res.header.Get("Content-Type"))
				assert.JSONEq(t, `{"type":"about:blank","title":"Forbidden","status":403,"detail":"`+tt.detail+`","instance":"/dev/errors"}`, res.body)
			}
		})
	}
}

// Issue 18 item 13: a same-host reverse proxy that adds no forwarding
// header (httputil.ReverseProxy with Rewrite, as nginx's default
// proxy_pass) relays a remote client from loopback; by default it is not
// served, and with a token only the token's holder is.
func TestHandlerBehindSameHostProxyItem13(t *testing.T) {
	tr, _ := seeded(t)
	for _, tt := range []struct {
		name string
		opts []errtrack.HandlerOption
		auth string
		want int
	}{
		{"default", nil, "", http.StatusForbidden},
		{"token, none given", []errtrack.HandlerOption{errtrack.WithToken("t0k3n-abcdef")}, "", http.StatusForbidden},
		{"token given", []errtrack.HandlerOption{errtrack.WithToken("t0k3n-abcdef")}, "Bearer t0k3n-abcdef", http.StatusOK},
	} {
		t.Run(tt.name, func(t *testing.T) {
			mux := http.NewServeMux()
			mux.Handle("/dev/errors/", tr.Handler(tt.opts...))
			backend := httptest.NewServer(mux)
			t.Cleanup(backend.Close)
			target, err := url.Parse(backend.URL)
			require.NoError(t, err)
			proxy := httptest.NewServer(&httputil.ReverseProxy{Rewrite: func(r *httputil.ProxyRequest) {
				r.SetURL(target) // no SetXForwarded: the backend sees a loopback peer and its own Host
			}})
			t.Cleanup(proxy.Close)

			req, err := http.NewRequestWithContext(context.Background(), http.MethodGet, proxy.URL+"/dev/errors/", nil)
			require.NoError(t, err)
			req.Header.Set("Accept", "application/json")
			if tt.auth != "" {
				req.Header.Set("Authorization", tt.auth)
			}
			resp, err := proxy.Client().Do(req)
			require.NoError(t, err)
			defer resp.Body.Close()
			assert.Equal(t, tt.want, resp.StatusCode)
		})
	}
}

// A token given once in the query becomes a cookie, and the browser is sent
// to the URL without it.
func TestHandlerQueryToken(t *testing.T) {
	tr, _ := seeded(t)
	h := tr.Handler(errtrack.WithToken("t0k3n-abcdef"))
	req := httptest.NewRequest(http.MethodGet, "/dev/errors/order.failed?token=t0k3n-abcdef&format=json", nil)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	require.Equal(t, http.StatusSeeOther, rec.Code)
	assert.Equal(t, "/dev/errors/order.failed?format=json", rec.Header().Get("Location"))
	ck := rec.Result().Cookies()
	require.Len(t, ck, 1)
	assert.True(t, ck[0].HttpOnly)
	assert.Equal(t, http.SameSiteStrictMode, ck[0].SameSite)
	assert.Equal(t, "/dev/errors", ck[0].Path)

	req = httptest.NewRequest(http.MethodGet, "/dev/errors/order.failed?format=json", nil)
	req.AddCookie(ck[0])
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	assert.Equal(t, http.StatusOK, rec.Code)

	req = httptest.NewRequest(http.MethodGet, "/dev/errors/?token=wrong", nil)
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	assert.Equal(t, http.StatusForbidden, rec.Code)
	assert.Empty(t, rec.Result().Cookies())
}

func TestHandlerPrefixAndMethods(t *testing.T) {
	tr, _ := seeded(t)
	h := tr.Handler(errtrack.AllowLoopback(), errtrack.WithPrefix("/_internal/errors/"))
	res := get(t, h, "/_internal/errors/order.failed", "127.0.0.1:1", "application/json")
	require.Equal(t, http.StatusOK, res.status)
	res = get(t, h, "/_internal/errors", "127.0.0.1:1", "text/html")
	assert.Contains(t, res.body, `href="/_internal/errors/order.failed"`)

	// The Tracker itself is the page with the default options: no access
	// rule, so nobody reads it.
	res = get(t, tr, "/dev/errors/order.failed", "127.0.0.1:1", "application/json")
	require.Equal(t, http.StatusForbidden, res.status)
	lb := tr.Handler(errtrack.AllowLoopback())

	// The prefix ends at a path boundary: "/dev/errorsorder.failed" is not
	// the detail view of order.failed.
	for _, tt := range []struct {
		h    http.Handler
		path string
	}{
		{lb, "/dev/errorsorder.failed"},
		{lb, "/dev/errors.order.failed"},
		{h, "/_internal/errorsorder.failed"},
	} {
		for _, accept := range []string{"application/json", "text/html"} {
			res = get(t, tt.h, tt.path, "127.0.0.1:1", accept)
			assert.Equal(t, http.StatusNotFound, res.status, "%s %s", tt.path, accept)
			assert.NotContains(t, res.body, "charging the card failed", "%s %s", tt.path, accept)
		}
	}
	res = get(t, lb, "/dev/errors", "127.0.0.1:1", "application/json")
	assert.Equal(t, http.StatusOK, res.status, "the prefix itself is the list")

	// Behind http.StripPrefix the path no longer carries the prefix.
	mux := http.NewServeMux()
	mux.Handle("/ops/errors/", http.StripPrefix("/ops/errors", tr.Handler(errtrack.AllowLoopback(), errtrack.WithPrefix("/ops/errors"))))
	res = get(t, mux, "/ops/errors/order.failed", "127.0.0.1:1", "application/json")
	require.Equal(t, http.StatusOK, res.status)

	req := httptest.NewRequest(http.MethodPost, "/dev/errors", nil)
	req.RemoteAddr = "127.0.0.1:1"
	req.Host = "127.0.0.1:8080"
	rec := httptest.NewRecorder()
	lb.ServeHTTP(rec, req)
	assert.Equal(t, http.StatusMethodNotAllowed, rec.Code)
	assert.Equal(t, "GET, HEAD", rec.Header().Get("Allow"))
	// Issue 19 item 7: refusals are problem details.
	assert.Equal(t, "application/problem+json", rec.Header().Get("Content-Type"))
	assert.JSONEq(t, `{"type":"about:blank","title":"Method Not Allowed","status":405,"detail":"the error page answers GET and HEAD only","instance":"/dev/errors"}`, rec.Body.String())
}

// TestHandlerOverLoopback serves the page on a real listener on 127.0.0.1.
func TestHandlerOverLoopback(t *testing.T) {
	tr, _ := seeded(t)
	mux := http.NewServeMux()
	mux.Handle("/dev/errors/", tr.Handler(errtrack.AllowLoopback()))
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)

	req, err := http.NewRequestWithContext(context.Background(), http.MethodGet, srv.URL+"/dev/errors/", nil)
	require.NoError(t, err)
	req.Header.Set("Accept", "application/json")
	resp, err := srv.Client().Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, resp.StatusCode, string(b))
	assert.Contains(t, string(b), `"fingerprint": "order.failed"`)
}
