package connectx_test

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"connectrpc.com/connect"
	"connectrpc.com/otelconnect"
	lognoop "go.opentelemetry.io/otel/log/noop"
	"go.opentelemetry.io/otel/propagation"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/emptypb"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/otelkit/otelkit/connectx"
)

// TestErrorPathAllocs pins what connectx adds to a 4xx answer over
// otelconnect and a hand-written *connect.Error with the same ErrorInfo:
// at most 12 allocations (11 when written: the RPC context, the
// occurrence's info, the details, the span attribute and the metric
// label). BenchmarkServerError measures the time.
func TestErrorPathAllocs(t *testing.T) {
	if testing.Short() || raceEnabled {
		t.Skip("allocation budget (the race detector allocates more)")
	}
	handler := func(fn func() error, extra ...connect.Interceptor) http.Handler {
		tp := sdktrace.NewTracerProvider(sdktrace.WithSampler(sdktrace.AlwaysSample()))
		otel, err := otelconnect.NewInterceptor(otelconnect.WithTracerProvider(tp), otelconnect.WithPropagator(propagation.TraceContext{}),
			otelconnect.WithAttributeFilter(connectx.AttributeFilter))
		if err != nil {
			t.Fatal(err)
		}
		return connect.NewUnaryHandler(checkProcedure,
			func(context.Context, *connect.Request[wrapperspb.StringValue]) (*connect.Response[emptypb.Empty], error) {
				return nil, fn()
			}, connect.WithInterceptors(append([]connect.Interceptor{otel}, extra...)...))
	}
	body, _ := proto.Marshal(wrapperspb.String("x"))
	allocs := func(h http.Handler) float64 {
		return testing.AllocsPerRun(200, func() {
			req := httptest.NewRequest(http.MethodPost, checkProcedure, bytes.NewReader(body))
			req.Header.Set("Content-Type", "application/proto")
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != http.StatusNotFound {
				t.Fatalf("status %d", rec.Code)
			}
		})
	}
	ix := connectx.NewInterceptor(connectx.WithRegistry(reg), connectx.WithLoggerProvider(lognoop.NewLoggerProvider()))
	kit := allocs(handler(func() error { return errUserNotFound.With("user_id", 42) }, ix))
	hand := allocs(handler(func() error {
		return handWritten(connect.CodeNotFound, "No such user", "user.not-found", map[string]string{"user_id": "42"})
	}))
	t.Logf("allocations per 4xx call: connectx %.0f, hand-written %.0f", kit, hand)
	if kit-hand > 12 {
		t.Errorf("connectx adds %.0f allocations to a 4xx answer (connectx %.0f, hand-written %.0f), budget 12", kit-hand, kit, hand)
	}
}
