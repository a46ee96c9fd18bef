package errtrack_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
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
	h := tr.Handler()

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
	assert.JSONEq(t, `{"error":"not_found","message":"no errors with this fingerprint are held"}`, res.body)

	res = get(t, h, "/dev/errors/?format=json", "127.0.0.1:5000", "")
	assert.Equal(t, "application/json; charset=utf-8", res.header.Get("Content-Type"))
}

func TestHandlerHTML(t *testing.T) {
	tr, traceID := seeded(t)
	h := tr.Handler()
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
	h := errtrack.New().Handler()
	res := get(t, h, "/dev/errors", "127.0.0.1:5000", "")
	assert.Contains(t, res.body, "No errors captured yet.")
	res = get(t, h, "/dev/errors", "127.0.0.1:5000", "application/json")
	assert.JSONEq(t, `{"prefix":"/dev/errors","fingerprints":0,"evicted":0,"groups":[]}`, res.body)
}

func TestHandlerAccess(t *testing.T) {
	tr, _ := seeded(t)
	tests := []struct {
		name   string
		opts   []errtrack.HandlerOption
		remote string
		header http.Header
		want   int
	}{
		{"IPv4 loopback", nil, "127.0.0.1:5000", nil, http.StatusOK},
		{"other 127/8 address", nil, "127.10.0.3:5000", nil, http.StatusOK},
		{"IPv6 loopback", nil, "[::1]:5000", nil, http.StatusOK},
		{"IPv4-mapped loopback", nil, "[::ffff:127.0.0.1]:5000", nil, http.StatusOK},
		{"private address", nil, "10.0.0.1:5000", nil, http.StatusForbidden},
		{"public IPv6", nil, "[2001:db8::1]:5000", nil, http.StatusForbidden},
		{"garbage", nil, "nonsense", nil, http.StatusForbidden},
		{"guard allows", []errtrack.HandlerOption{errtrack.WithGuard(func(*http.Request) bool { return true })}, "10.0.0.1:5000", nil, http.StatusOK},
		{"guard denies loopback", []errtrack.HandlerOption{errtrack.WithGuard(func(*http.Request) bool { return false })}, "127.0.0.1:5000", nil, http.StatusForbidden},
		// Behind a reverse proxy on the same host every request is loopback:
		// a forwarded request is refused, whatever the header claims.
		{"proxied: X-Forwarded-For", nil, "127.0.0.1:5000", http.Header{"X-Forwarded-For": {"203.0.113.7"}}, http.StatusForbidden},
		{"proxied: X-Forwarded-For claims loopback", nil, "127.0.0.1:5000", http.Header{"X-Forwarded-For": {"127.0.0.1"}}, http.StatusForbidden},
		{"proxied: Forwarded", nil, "127.0.0.1:5000", http.Header{"Forwarded": {"for=127.0.0.1;proto=http"}}, http.StatusForbidden},
		{"proxied: X-Real-Ip", nil, "[::1]:5000", http.Header{"X-Real-Ip": {"::1"}}, http.StatusForbidden},
		{"proxied: empty X-Forwarded-For", nil, "127.0.0.1:5000", http.Header{"X-Forwarded-For": {""}}, http.StatusForbidden},
		{"other headers are fine", nil, "127.0.0.1:5000", http.Header{"X-Request-Id": {"r-1"}, "Via": {"1.1 cache"}}, http.StatusOK},
		{"guard may accept proxied requests", []errtrack.HandlerOption{errtrack.WithGuard(func(r *http.Request) bool { return r.Header.Get("X-Forwarded-For") == "198.51.100.2" })}, "127.0.0.1:5000", http.Header{"X-Forwarded-For": {"198.51.100.2"}}, http.StatusOK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := httptest.NewRequest(http.MethodGet, "/dev/errors", nil)
			req.RemoteAddr = tt.remote
			for k, v := range tt.header {
				req.Header[k] = v
			}
			req.Header.Set("Accept", "text/html")
			if tt.opts == nil {
				assert.Equal(t, tt.want == http.StatusOK, errtrack.LoopbackOnly(req))
			}
			rec := httptest.NewRecorder()
			tr.Handler(tt.opts...).ServeHTTP(rec, req)
			res := response{rec.Code, rec.Header(), rec.Body.String()}
			require.Equal(t, tt.want, res.status)
			if tt.want == http.StatusForbidden {
				assert.Equal(t, "application/json; charset=utf-8", res.header.Get("Content-Type"))
				assert.JSONEq(t, `{"error":"forbidden","message":"the error page is only served to allowed clients (loopback by default)"}`, res.body)
			}
		})
	}
}

func TestHandlerPrefixAndMethods(t *testing.T) {
	tr, _ := seeded(t)
	h := tr.Handler(errtrack.WithPrefix("/_internal/errors/"))
	res := get(t, h, "/_internal/errors/order.failed", "127.0.0.1:1", "application/json")
	require.Equal(t, http.StatusOK, res.status)
	res = get(t, h, "/_internal/errors", "127.0.0.1:1", "text/html")
	assert.Contains(t, res.body, `href="/_internal/errors/order.failed"`)

	// The Tracker itself is the page with the default options.
	res = get(t, tr, "/dev/errors/order.failed", "127.0.0.1:1", "application/json")
	require.Equal(t, http.StatusOK, res.status)
	res = get(t, tr, "/dev/errors/", "10.0.0.1:1", "application/json")
	require.Equal(t, http.StatusForbidden, res.status)

	// The prefix ends at a path boundary: "/dev/errorsorder.failed" is not
	// the detail view of order.failed.
	for _, tt := range []struct {
		h    http.Handler
		path string
	}{
		{tr, "/dev/errorsorder.failed"},
		{tr, "/dev/errors.order.failed"},
		{h, "/_internal/errorsorder.failed"},
	} {
		for _, accept := range []string{"application/json", "text/html"} {
			res = get(t, tt.h, tt.path, "127.0.0.1:1", accept)
			assert.Equal(t, http.StatusNotFound, res.status, "%s %s", tt.path, accept)
			assert.NotContains(t, res.body, "charging the card failed", "%s %s", tt.path, accept)
		}
	}
	res = get(t, tr, "/dev/errors", "127.0.0.1:1", "application/json")
	assert.Equal(t, http.StatusOK, res.status, "the prefix itself is the list")

	// Behind http.StripPrefix the path no longer carries the prefix.
	mux := http.NewServeMux()
	mux.Handle("/ops/errors/", http.StripPrefix("/ops/errors", tr.Handler(errtrack.WithPrefix("/ops/errors"))))
	res = get(t, mux, "/ops/errors/order.failed", "127.0.0.1:1", "application/json")
	require.Equal(t, http.StatusOK, res.status)

	req := httptest.NewRequest(http.MethodPost, "/dev/errors", nil)
	req.RemoteAddr = "127.0.0.1:1"
	rec := httptest.NewRecorder()
	tr.Handler().ServeHTTP(rec, req)
	assert.Equal(t, http.StatusMethodNotAllowed, rec.Code)
	assert.Equal(t, "GET, HEAD", rec.Header().Get("Allow"))
}

// TestHandlerOverLoopback serves the page on a real listener on 127.0.0.1.
func TestHandlerOverLoopback(t *testing.T) {
	tr, _ := seeded(t)
	mux := http.NewServeMux()
	mux.Handle("/dev/errors/", tr.Handler())
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
