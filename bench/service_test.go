package bench_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/otelkit/otelkit/bench"
)

// TestEquivalentBodies checks that the hand-written error path answers
// what otelkit answers (same status, content type and problem fields, the
// trace id aside), so the benchmark compares equal work.
func TestEquivalentBodies(t *testing.T) {
	tel := bench.NewTelemetry()
	t.Cleanup(func() { tel.Shutdown(context.Background()) })
	body := func(impl, method, path string) (int, string, map[string]any) {
		h, err := bench.NewService(impl, tel)
		require.NoError(t, err)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(method, path, nil))
		var m map[string]any
		require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &m), rec.Body.String())
		assert.Len(t, m["trace_id"], 32)
		delete(m, "trace_id")
		return rec.Code, rec.Header().Get("Content-Type"), m
	}
	for _, c := range []struct {
		name, method, path string
		status             int
	}{
		{"429", http.MethodPost, bench.Path4xx, http.StatusTooManyRequests},
		{"503", http.MethodGet, bench.Path5xx, http.StatusServiceUnavailable},
		{"panic", http.MethodGet, bench.PathPanic, http.StatusInternalServerError},
	} {
		t.Run(c.name, func(t *testing.T) {
			ks, kct, kit := body(bench.ImplOtelkit, c.method, c.path)
			hs, hct, hand := body(bench.ImplHandwritten, c.method, c.path)
			assert.Equal(t, c.status, ks)
			assert.Equal(t, ks, hs)
			assert.Equal(t, kct, hct)
			assert.Equal(t, kit, hand)
		})
	}
}
