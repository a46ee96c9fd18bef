package auditx_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/propagation"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/otelkit/otelkit/auditx"
	"github.com/otelkit/otelkit/internal/reqctx"
)

// An audit emitted inside an otelhttp-instrumented request carries the
// request span's trace and span ids, and an incoming traceparent continues
// into the audit.
func TestTraceCorrelation(t *testing.T) {
	reg, exp, _ := newRegistry(t)
	ev := reg.Define("auth.login_failed", auditx.LevelWarn, loginTemplate)

	spans := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(spans))
	t.Cleanup(func() { _ = tp.Shutdown(context.Background()) })

	app := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := reqctx.WithSource(r.Context(), source{Route: "/login", Method: r.Method, ClientAddress: "127.0.0.1", UserID: "u-1"})
		ev.Emit(ctx, attribute.String("client_ip", "127.0.0.1"))
		w.WriteHeader(http.StatusUnauthorized)
	})
	srv := httptest.NewServer(otelhttp.NewHandler(app, "login",
		otelhttp.WithTracerProvider(tp), otelhttp.WithPropagators(propagation.TraceContext{})))
	t.Cleanup(srv.Close)

	const parent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
	for _, tc := range []struct {
		name        string
		traceparent string
	}{
		{"new trace", ""},
		{"incoming traceparent", parent},
	} {
		t.Run(tc.name, func(t *testing.T) {
			spans.Reset()
			before := len(exp.records())
			req, err := http.NewRequest(http.MethodPost, srv.URL+"/login", nil)
			require.NoError(t, err)
			if tc.traceparent != "" {
				req.Header.Set("traceparent", tc.traceparent)
			}
			resp, err := srv.Client().Do(req)
			require.NoError(t, err)
			_, _ = io.Copy(io.Discard, resp.Body)
			require.NoError(t, resp.Body.Close())
			assert.Equal(t, http.StatusUnauthorized, resp.StatusCode)

			ended := spans.Ended()
			require.Len(t, ended, 1)
			sc := ended[0].SpanContext()
			recs := exp.records()[before:]
			require.Len(t, recs, 1)
			r := recs[0]
			assert.True(t, r.TraceID().IsValid())
			assert.Equal(t, sc.TraceID(), r.TraceID())
			assert.Equal(t, sc.SpanID(), r.SpanID())
			assert.Equal(t, trace.FlagsSampled, r.TraceFlags()&trace.FlagsSampled)
			if tc.traceparent != "" {
				assert.Equal(t, "4bf92f3577b34da6a3ce929d0e0e4736", r.TraceID().String())
			}
			a := attrs(t, r)
			assert.Equal(t, "/login", a["http.route"].AsString())
			assert.Equal(t, "POST", a["http.request.method"].AsString())
			assert.Equal(t, "User 'u-1' failed to log in from 127.0.0.1", r.Body().AsString())
		})
	}
}
