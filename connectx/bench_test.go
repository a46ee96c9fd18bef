package connectx_test

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"

	"connectrpc.com/connect"
	"connectrpc.com/otelconnect"
	lognoop "go.opentelemetry.io/otel/log/noop"
	"go.opentelemetry.io/otel/propagation"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/emptypb"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/otelkit/otelkit/connectx"
)

// benchHandler is a unary Connect handler under otelconnect (an SDK
// tracer that samples everything and exports nothing), with extra
// interceptors after it, whose function is fn.
func benchHandler(b *testing.B, fn func(context.Context) error, extra ...connect.Interceptor) http.Handler {
	b.Helper()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSampler(sdktrace.AlwaysSample()))
	otel, err := otelconnect.NewInterceptor(otelconnect.WithTracerProvider(tp), otelconnect.WithPropagator(propagation.TraceContext{}),
		otelconnect.WithAttributeFilter(connectx.AttributeFilter))
	if err != nil {
		b.Fatal(err)
	}
	return connect.NewUnaryHandler(checkProcedure,
		func(ctx context.Context, req *connect.Request[wrapperspb.StringValue]) (*connect.Response[emptypb.Empty], error) {
			if err := fn(ctx); err != nil {
				return nil, err
			}
			return connect.NewResponse(&emptypb.Empty{}), nil
		}, connect.WithInterceptors(append([]connect.Interceptor{otel}, extra...)...))
}

// serve runs b.N Connect-protocol calls of h in process (no network).
func serve(b *testing.B, h http.Handler, wantStatus int) {
	b.Helper()
	body, _ := proto.Marshal(wrapperspb.String("x"))
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		req := httptest.NewRequest(http.MethodPost, checkProcedure, bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/proto")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != wantStatus {
			b.Fatalf("status %d: %s", rec.Code, rec.Body)
		}
	}
}

// handWritten is what a service writes by hand for errUserNotFound: a
// *connect.Error with the message and ErrorInfo.
func handWritten(code connect.Code, msg, reason string, md map[string]string) error {
	ce := connect.NewError(code, errors.New(msg))
	if d, err := connect.NewErrorDetail(&errdetails.ErrorInfo{Reason: reason, Domain: "otelkit", Metadata: md}); err == nil {
		ce.AddDetail(d)
	}
	return ce
}

// BenchmarkServerError compares connectx's error path with otelconnect and
// a hand-written *connect.Error carrying ErrorInfo (and, for a 5xx, the
// span status and exception event a hand-written handler would record).
func BenchmarkServerError(b *testing.B) {
	ix := connectx.NewInterceptor(connectx.WithRegistry(reg), connectx.WithLoggerProvider(lognoop.NewLoggerProvider()))
	b.Run("4xx/connectx", func(b *testing.B) {
		serve(b, benchHandler(b, func(context.Context) error {
			return errUserNotFound.With("user_id", 42)
		}, ix), http.StatusNotFound)
	})
	b.Run("4xx/handwritten", func(b *testing.B) {
		serve(b, benchHandler(b, func(context.Context) error {
			return handWritten(connect.CodeNotFound, "No such user", "user.not-found", map[string]string{"user_id": "42"})
		}), http.StatusNotFound)
	})
	cause := errors.New("dial db: refused")
	b.Run("5xx/connectx", func(b *testing.B) {
		serve(b, benchHandler(b, func(context.Context) error {
			return errStoreDown.Wrap(cause)
		}, ix), http.StatusServiceUnavailable)
	})
	b.Run("5xx/handwritten", func(b *testing.B) {
		serve(b, benchHandler(b, func(ctx context.Context) error {
			span := trace.SpanFromContext(ctx)
			span.RecordError(cause, trace.WithStackTrace(true))
			return handWritten(connect.CodeUnavailable, "The store is unavailable", "store.unavailable", nil)
		}), http.StatusServiceUnavailable)
	})
}
