package otelbridge_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"go.opentelemetry.io/otel"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/otelkit/otelkit/errorsx"
	"github.com/otelkit/otelkit/httpx"
	"github.com/otelkit/otelkit/otelbridge"
)

func TestCapturedClientErrorCarriesAStack(t *testing.T) {
	_, sink := installProviders(t)
	otelbridge.Capture(context.Background(), errQuota.With("limit", 1))
	st := attrs(sink.records()[0])["exception.stacktrace"].AsString()
	assert.Contains(t, st, "TestCapturedClientErrorCarriesAStack", "the capture site heads the stack")
}

// TestCaptureInARequest: inside an httpx request a capture resolves with
// that Handler's registry, and it does not put error.type on the request
// duration metric of a request that succeeded.
// requestGroup is a child of errorsx.Default() made once: Default's tree
// keeps its children, so a second definition of the same id would panic
// under -count=N (issue 18 item 18).
var requestGroup = sync.OnceValue(func() *errorsx.Registry {
	group := errorsx.NewRegistry(errorsx.WithParent(errorsx.Default()))
	errGroupMissing := group.Define(http.StatusNotFound, "otelbridge-test.group-missing", "Missing in the group")
	group.Map(sql.ErrNoRows, errGroupMissing)
	return group
})

func TestCaptureInARequest(t *testing.T) {
	_, sink := installProviders(t)
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	defer mp.Shutdown(context.Background())

	group := requestGroup()

	h := httpx.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		otelbridge.Capture(r.Context(), fmt.Errorf("cache refresh: %w", sql.ErrNoRows))
		w.WriteHeader(http.StatusOK)
	}), httpx.WithRegistry(group))
	srv := httptest.NewServer(otelhttp.NewHandler(h, "api", otelhttp.WithMeterProvider(mp), otelhttp.WithTracerProvider(otel.GetTracerProvider())))
	defer srv.Close()
	resp, err := http.Get(srv.URL)
	require.NoError(t, err)
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)

	require.Eventually(t, func() bool { return len(sink.records()) == 1 }, 5e9, 1e6)
	assert.Equal(t, "otelbridge-test.group-missing", attrs(sink.records()[0])["otelkit.error.id"].AsString())

	var rm metricdata.ResourceMetrics
	require.NoError(t, reader.Collect(context.Background(), &rm))
	found := false
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			if m.Name != "http.server.request.duration" {
				continue
			}
			for _, dp := range m.Data.(metricdata.Histogram[float64]).DataPoints {
				found = true
				_, has := dp.Attributes.Value("error.type")
				assert.False(t, has, "a captured error does not make the request fail")
			}
		}
	}
	assert.True(t, found, "the duration metric was recorded")
}

func TestTrackPanicIsAPanicError(t *testing.T) {
	installProviders(t)
	err := otelbridge.Track(context.Background(), "job", func(context.Context) error { panic(42) })
	var pe *otelbridge.PanicError
	require.True(t, errors.As(err, &pe))
	assert.Equal(t, 42, pe.Value)
}
