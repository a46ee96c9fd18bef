package otelbridge_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/otelkit/otelkit/httpx"
	"github.com/otelkit/otelkit/otelbridge"
)

// TestErrorStatusProcessorBehindOtelhttp checks the rule "5xx: status Error
// with the id as description" on the real otelhttp server span, which
// otelhttp ends after setting the status again without a description.
func TestErrorStatusProcessorBehindOtelhttp(t *testing.T) {
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(otelbridge.ErrorStatusProcessor(rec)))
	defer tp.Shutdown(context.Background())

	mux := http.NewServeMux()
	mux.Handle("GET /db", httpx.HandlerFunc(func(http.ResponseWriter, *http.Request) error {
		return errDatabase.Wrap(errors.New("refused"))
	}))
	mux.Handle("GET /quota", httpx.HandlerFunc(func(http.ResponseWriter, *http.Request) error { return errQuota }))
	mux.Handle("GET /boom", httpx.HandlerFunc(func(http.ResponseWriter, *http.Request) error { return errors.New("boom") }))
	srv := httptest.NewServer(otelhttp.NewHandler(httpx.Handler(mux), "api", otelhttp.WithTracerProvider(tp)))
	defer srv.Close()

	for _, tt := range []struct {
		path string
		code codes.Code
		desc string
	}{
		{"/db", codes.Error, "otelbridge-test.database"},
		{"/boom", codes.Error, "internal"},
		{"/quota", codes.Unset, ""},
	} {
		t.Run(tt.path, func(t *testing.T) {
			rec.Reset()
			resp, err := http.Get(srv.URL + tt.path)
			require.NoError(t, err)
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			require.Eventually(t, func() bool { return len(rec.Ended()) == 1 }, 5e9, 1e6)
			st := rec.Ended()[0].Status()
			assert.Equal(t, tt.code, st.Code)
			assert.Equal(t, tt.desc, st.Description)
		})
	}
}
