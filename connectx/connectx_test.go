package connectx_test

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"connectrpc.com/connect"
	"connectrpc.com/otelconnect"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	sdklog "go.opentelemetry.io/otel/sdk/log"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/emptypb"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/otelkit/otelkit/connectx"
	"github.com/otelkit/otelkit/errorsx"
	"github.com/otelkit/otelkit/httpx"
	"github.com/otelkit/otelkit/mask"
)

var (
	reg             = errorsx.NewRegistry()
	errUserNotFound = reg.Define(404, "user.not-found", "No such user", errorsx.Translate("de", "Kein solcher Benutzer"))
	errRateLimited  = reg.Define(429, "auth.rate-limited", "Too many attempts")
	errInvalid      = reg.Define(400, "request.invalid", "The request is invalid")
	errFieldMissing = reg.Define(400, "field.missing", "A required field is missing")
	errStoreDown    = reg.Define(503, "store.unavailable", "The store is unavailable")
	errConflict     = reg.Define(409, "user.exists", "The user exists")
	// Statuses without a gRPC equivalent in the table.
	errTeapot    = reg.Define(418, "brew.teapot", "I am a teapot")
	errNoStorage = reg.Define(507, "store.full", "The store is full")
)

// Procedures of a service served without generated code: the request names
// the error to answer with.
const (
	checkProcedure = "/otelkit.test.v1.ErrorService/Check"
	watchProcedure = "/otelkit.test.v1.ErrorService/Watch"
	chatProcedure  = "/otelkit.test.v1.ErrorService/Chat"
	getProcedure   = "/otelkit.test.v1.ErrorService/Get"
)

// garbageInfo is a google.rpc.ErrorInfo detail whose bytes do not parse.
var garbageInfo = func() *connect.ErrorDetail {
	good, _ := anypb.New(&errdetails.ErrorInfo{Reason: "user.not-found"})
	d, err := connect.NewErrorDetail(&anypb.Any{TypeUrl: good.TypeUrl, Value: []byte{0xff, 0xff, 0xff}})
	if err != nil {
		panic(err)
	}
	return d
}()

func errorFor(name string) error {
	switch name {
	case "ok":
		return nil
	case "4xx":
		return errUserNotFound.With("user_id", 42).With("password", "hunter2")
	case "5xx":
		return errStoreDown.Wrap(fmt.Errorf("dial postgres://app:s3cret@db: refused"))
	case "joined":
		return errInvalid.Join(errFieldMissing.With("field", "email"), errFieldMissing.With("field", "name"))
	case "unregistered":
		return errors.New("secret internal text")
	case "passthrough":
		return connect.NewError(connect.CodeAborted, errors.New("hand-made"))
	case "malformed":
		ce := connect.NewError(connect.CodeNotFound, errors.New("garbage details"))
		ce.AddDetail(garbageInfo)
		return ce
	case "notmodified":
		return connect.NewNotModifiedError(http.Header{"Etag": {`"v1"`}})
	case "retry":
		return errRateLimited.With("retry_after", 30)
	case "conflict":
		return errConflict
	case "teapot":
		return errTeapot.With("pot", "blue")
	case "full":
		return errNoStorage.Wrap(errors.New("disk /dev/sda1 at 100%"))
	case "panic":
		panic("boom secret")
	}
	return fmt.Errorf("unknown case %q", name)
}

// protocols are the three protocols of connect-go, as client options.
var protocols = []struct {
	name string
	opt  connect.ClientOption
}{
	{"connect", connect.WithClientOptions()},
	{"grpc", connect.WithGRPC()},
	{"grpcweb", connect.WithGRPCWeb()},
}

type env struct {
	url   string
	http  *http.Client
	tp    *sdktrace.TracerProvider
	mr    *sdkmetric.ManualReader
	mp    *sdkmetric.MeterProvider
	spans *recorder
	logs  *logRecorder
}

func otelInterceptor(t *testing.T, e *env, extra ...otelconnect.Option) *otelconnect.Interceptor {
	t.Helper()
	opts := append([]otelconnect.Option{
		otelconnect.WithTracerProvider(e.tp),
		otelconnect.WithMeterProvider(e.mp),
		otelconnect.WithPropagator(propagation.TraceContext{}),
		otelconnect.WithAttributeFilter(connectx.AttributeFilter),
	}, extra...)
	i, err := otelconnect.NewInterceptor(opts...)
	if err != nil {
		t.Fatal(err)
	}
	return i
}

// start serves the error service on 127.0.0.1 over TLS with HTTP/2 (the
// gRPC protocol needs it), under otelconnect with an SDK tracer, meter and
// logger provider.
func start(t *testing.T, serverOpts ...connectx.Option) *env {
	t.Helper()
	e := &env{spans: newRecorder(), logs: &logRecorder{}, mr: sdkmetric.NewManualReader()}
	e.tp = sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(e.spans))
	e.mp = sdkmetric.NewMeterProvider(sdkmetric.WithReader(e.mr))
	lp := sdklog.NewLoggerProvider(sdklog.WithProcessor(e.logs))
	opts := append([]connectx.Option{
		connectx.WithRegistry(reg),
		connectx.WithLoggerProvider(lp),
		connectx.WithExceptionSignal(httpx.ExceptionLogsAndSpanEvents),
	}, serverOpts...)
	// WithTrustRemote: the server span joins the client's trace, so a
	// test finds both by trace id.
	interceptors := connect.WithInterceptors(otelInterceptor(t, e, otelconnect.WithTrustRemote()), connectx.NewInterceptor(opts...))
	mux := http.NewServeMux()
	mux.Handle(checkProcedure, connect.NewUnaryHandler(checkProcedure,
		func(ctx context.Context, req *connect.Request[wrapperspb.StringValue]) (*connect.Response[emptypb.Empty], error) {
			if err := errorFor(req.Msg.GetValue()); err != nil {
				return nil, err
			}
			return connect.NewResponse(&emptypb.Empty{}), nil
		}, interceptors))
	mux.Handle(watchProcedure, connect.NewServerStreamHandler(watchProcedure,
		func(ctx context.Context, req *connect.Request[wrapperspb.StringValue], s *connect.ServerStream[emptypb.Empty]) error {
			if err := s.Send(&emptypb.Empty{}); err != nil {
				return err
			}
			return errorFor(req.Msg.GetValue())
		}, interceptors))
	mux.Handle(getProcedure, connect.NewUnaryHandler(getProcedure,
		func(ctx context.Context, req *connect.Request[wrapperspb.StringValue]) (*connect.Response[emptypb.Empty], error) {
			if err := errorFor(req.Msg.GetValue()); err != nil {
				return nil, err
			}
			return connect.NewResponse(&emptypb.Empty{}), nil
		}, interceptors, connect.WithIdempotency(connect.IdempotencyNoSideEffects)))
	mux.Handle(chatProcedure, connect.NewBidiStreamHandler(chatProcedure,
		func(ctx context.Context, s *connect.BidiStream[wrapperspb.StringValue, emptypb.Empty]) error {
			req, err := s.Receive()
			if err != nil {
				return err
			}
			return errorFor(req.GetValue())
		}, interceptors))
	srv := httptest.NewUnstartedServer(mux)
	srv.EnableHTTP2 = true
	srv.StartTLS()
	t.Cleanup(srv.Close)
	e.url, e.http = srv.URL, srv.Client()
	return e
}

// client returns a client of Check over protocol whose registry is r.
func (e *env) client(t *testing.T, protocol connect.ClientOption, r *errorsx.Registry) *connect.Client[wrapperspb.StringValue, emptypb.Empty] {
	return connect.NewClient[wrapperspb.StringValue, emptypb.Empty](e.http, e.url+checkProcedure, protocol,
		connect.WithInterceptors(otelInterceptor(t, e), connectx.NewInterceptor(connectx.WithRegistry(r))))
}

func check(t *testing.T, c *connect.Client[wrapperspb.StringValue, emptypb.Empty], ctx context.Context, name string, header ...string) error {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req := connect.NewRequest(wrapperspb.String(name))
	for i := 0; i+1 < len(header); i += 2 {
		req.Header().Set(header[i], header[i+1])
	}
	_, err := c.CallUnary(ctx, req)
	return err
}

// details returns err's *connect.Error, its ErrorInfo and all its details.
func details(t *testing.T, err error) (*connect.Error, *errdetails.ErrorInfo, []proto.Message) {
	t.Helper()
	var ce *connect.Error
	if !errors.As(err, &ce) {
		t.Fatalf("no *connect.Error in %v", err)
	}
	var info *errdetails.ErrorInfo
	var all []proto.Message
	for _, d := range ce.Details() {
		v, err := d.Value()
		if err != nil {
			t.Fatalf("detail %s: %v", d.Type(), err)
		}
		all = append(all, v)
		if ei, ok := v.(*errdetails.ErrorInfo); ok {
			info = ei
		}
	}
	return ce, info, all
}

func detailOf[T proto.Message](all []proto.Message) T {
	var zero T
	for _, m := range all {
		if v, ok := m.(T); ok {
			return v
		}
	}
	return zero
}

func TestServerError(t *testing.T) {
	e := start(t)
	tests := []struct {
		name    string
		code    connect.Code
		message string
		reason  string
		meta    map[string]string
		def     *errorsx.Def // what the client resolves
		failed  bool
	}{
		{"4xx", connect.CodeNotFound, "No such user", "user.not-found", map[string]string{"user_id": "42", "password": mask.Mask}, errUserNotFound, false},
		{"5xx", connect.CodeUnavailable, "The store is unavailable", "store.unavailable", nil, errStoreDown, true},
		{"joined", connect.CodeInvalidArgument, "The request is invalid", "request.invalid", nil, errInvalid, false},
		{"unregistered", connect.CodeInternal, "Internal server error", "internal", nil, errorsx.Internal, true},
		{"panic", connect.CodeInternal, "Internal server error", "internal", nil, errorsx.Internal, true},
		{"retry", connect.CodeResourceExhausted, "Too many attempts", "auth.rate-limited", map[string]string{"retry_after": "30"}, errRateLimited, false},
		{"conflict", connect.CodeAlreadyExists, "The user exists", "user.exists", nil, errConflict, false},
	}
	for _, p := range protocols {
		client := e.client(t, p.opt, reg)
		for _, tt := range tests {
			t.Run(p.name+"/"+tt.name, func(t *testing.T) {
				ctx := traced(context.Background())
				err := check(t, client, ctx, tt.name)
				ce, info, all := details(t, err)
				if ce.Code() != tt.code || ce.Message() != tt.message || connect.CodeOf(err) != tt.code {
					t.Errorf("error = %v %q, want %v %q", ce.Code(), ce.Message(), tt.code, tt.message)
				}
				if info == nil || info.Reason != tt.reason || info.Domain != connectx.DefaultDomain {
					t.Fatalf("ErrorInfo = %v, want reason %q", info, tt.reason)
				}
				if len(info.Metadata) != len(tt.meta) {
					t.Errorf("metadata = %v, want %v", info.Metadata, tt.meta)
				}
				for k, v := range tt.meta {
					if info.Metadata[k] != v {
						t.Errorf("metadata[%q] = %q, want %q", k, info.Metadata[k], v)
					}
				}
				wire := fmt.Sprint(ce.Error(), all, ce.Meta())
				for _, secret := range []string{"s3cret", "hunter2", "secret internal", "boom", "postgres", "errors.errorString", "goroutine", ".go:"} {
					if strings.Contains(wire, secret) {
						t.Errorf("the answer carries %q: %s", secret, wire)
					}
				}
				// Client side: the same definition.
				if !errors.Is(err, tt.def) || reg.Resolve(err) != tt.def {
					t.Errorf("client error %v: errors.Is/Resolve do not give %s", err, tt.def.ID())
				}
				// Spans: the server's by the failure rule, the client's error.type.
				ss := spanOf(t, e.spans, true, ctx)
				if got := ss.Status().Code == codes.Error; got != tt.failed {
					t.Errorf("server span status %v, failed want %v", ss.Status(), tt.failed)
				}
				var exc int
				for _, ev := range ss.Events() {
					if ev.Name == connectx.EventServerException {
						exc++
						for _, kv := range ev.Attributes {
							if strings.Contains(kv.Value.String(), "hunter2") || strings.Contains(kv.Value.String(), "s3cret") {
								t.Errorf("exception event carries a secret: %v", kv)
							}
						}
					}
				}
				if want := map[bool]int{true: 1, false: 0}[tt.failed]; exc != want {
					t.Errorf("%d %s events, want %d", exc, connectx.EventServerException, want)
				}
				key, absent := "otelkit.error.id", "error.type"
				if tt.failed {
					key, absent = absent, key
				}
				if v, ok := attr(ss.Attributes(), key); !ok || v.AsString() != tt.reason {
					t.Errorf("server span %s = %v, want %q", key, v.String(), tt.reason)
				}
				if v, ok := attr(ss.Attributes(), absent); ok {
					t.Errorf("server span has %s = %v", absent, v.String())
				}
				if v, ok := attr(ss.Attributes(), "rpc.response.status_code"); !ok || v.AsString() != connectx.CodeName(tt.code) {
					t.Errorf("server span rpc.response.status_code = %v", v.String())
				}
				cs := spanOf(t, e.spans, false, ctx)
				if v, ok := attr(cs.Attributes(), "error.type"); !ok || v.AsString() != tt.reason {
					t.Errorf("client span error.type = %q, want %q", v.String(), tt.reason)
				}
				// The exception log record of a failure.
				recs := e.logs.of(ss.SpanContext().TraceID())
				if want := map[bool]int{true: 1, false: 0}[tt.failed]; len(recs) != want {
					t.Fatalf("%d exception log records, want %d", len(recs), want)
				}
				for _, r := range recs {
					if r.EventName() != connectx.EventServerException {
						t.Errorf("log record event name %q", r.EventName())
					}
					text := fmt.Sprint(r)
					for _, secret := range []string{"hunter2", "s3cret"} {
						if strings.Contains(text, secret) {
							t.Errorf("log record carries %q", secret)
						}
					}
					got := map[string]string{}
					r.WalkAttributes(func(kv attribute.KeyValue) bool {
						got[string(kv.Key)] = kv.Value.String()
						return true
					})
					wantSystem := map[string]string{"connect": "connectrpc", "grpc": "grpc", "grpcweb": "grpc"}[p.name]
					if got["rpc.method"] != strings.TrimPrefix(checkProcedure, "/") || got["rpc.system.name"] != wantSystem ||
						got["rpc.response.status_code"] != connectx.CodeName(tt.code) || got["client.address"] != "127.0.0.1" {
						t.Errorf("log record attributes %v", got)
					}
				}
			})
		}
	}
}

func TestClientReadsInfoAndEntries(t *testing.T) {
	e := start(t)
	for _, p := range protocols {
		client := e.client(t, p.opt, reg)
		err := check(t, client, context.Background(), "4xx")
		var occ *errorsx.Error
		if !errors.As(err, &occ) {
			t.Fatalf("%s: %T is not an *errorsx.Error", p.name, err)
		}
		got := map[string]any{}
		for _, f := range occ.Info() {
			got[f.Key] = f.Value
		}
		if got["user_id"] != "42" || got["password"] != mask.Mask {
			t.Errorf("%s: info = %v", p.name, got)
		}

		err = check(t, client, context.Background(), "joined")
		if !errors.As(err, &occ) {
			t.Fatalf("%s: %T is not an *errorsx.Error", p.name, err)
		}
		if n := len(occ.Entries()); n != 2 {
			t.Fatalf("%s: %d entries, want 2", p.name, n)
		}
		for i, want := range []string{"email", "name"} {
			var eo *errorsx.Error
			if !errors.As(occ.Entries()[i], &eo) || eo.Def() != errFieldMissing || eo.Info()[0].Value != want {
				t.Errorf("%s: entry %d = %v, want field.missing on %q", p.name, i, occ.Entries()[i], want)
			}
		}
		_, _, all := details(t, err)
		br := detailOf[*errdetails.BadRequest](all)
		if br == nil || len(br.FieldViolations) != 2 || br.FieldViolations[0].Field != "email" || br.FieldViolations[0].Reason != "field.missing" {
			t.Errorf("%s: BadRequest = %v", p.name, br)
		}

		_, _, all = details(t, check(t, client, context.Background(), "retry"))
		if ri := detailOf[*errdetails.RetryInfo](all); ri == nil || ri.RetryDelay.AsDuration() != 30*time.Second {
			t.Errorf("%s: RetryInfo = %v, want 30s", p.name, ri)
		}
	}
}

func TestLocalized(t *testing.T) {
	e := start(t)
	for _, p := range protocols {
		client := e.client(t, p.opt, reg)
		err := check(t, client, context.Background(), "4xx", "Accept-Language", "de-CH, en;q=0.5")
		ce, _, all := details(t, err)
		if ce.Message() != "Kein solcher Benutzer" {
			t.Errorf("%s: message = %q", p.name, ce.Message())
		}
		lm := detailOf[*errdetails.LocalizedMessage](all)
		if lm == nil || lm.Message != "Kein solcher Benutzer" || !strings.HasPrefix(lm.Locale, "de") {
			t.Errorf("%s: LocalizedMessage = %v", p.name, lm)
		}
		if !errors.Is(err, errUserNotFound) {
			t.Errorf("%s: client error %v is not %s", p.name, err, errUserNotFound.ID())
		}
		// No translation asked: no LocalizedMessage.
		_, _, all = details(t, check(t, client, context.Background(), "4xx"))
		if lm := detailOf[*errdetails.LocalizedMessage](all); lm != nil {
			t.Errorf("%s: LocalizedMessage without Accept-Language", p.name)
		}
	}
}

func TestPassThrough(t *testing.T) {
	e := start(t)
	for _, p := range protocols {
		client := e.client(t, p.opt, reg)
		ctx := traced(context.Background())
		err := check(t, client, ctx, "passthrough")
		ce, info, _ := details(t, err)
		if ce.Code() != connect.CodeAborted || ce.Message() != "hand-made" || info != nil {
			t.Errorf("%s: error = %v %q %v, want Aborted hand-made without details", p.name, ce.Code(), ce.Message(), info)
		}
		if v, _ := attr(spanOf(t, e.spans, true, ctx).Attributes(), "error.type"); v.AsString() != "ABORTED" {
			t.Errorf("%s: server span error.type = %q, want ABORTED", p.name, v.String())
		}
		if v, _ := attr(spanOf(t, e.spans, false, ctx).Attributes(), "error.type"); v.AsString() != "ABORTED" {
			t.Errorf("%s: client span error.type = %q, want ABORTED", p.name, v.String())
		}
		if n := len(e.logs.of(trace.SpanContextFromContext(ctx).TraceID())); n != 0 {
			t.Errorf("%s: %d exception records for a passed-through error", p.name, n)
		}
	}
}

// A server (here, one that passes a hand-made error through) sends an
// ErrorInfo detail whose bytes do not parse: the client gets the error
// unchanged, and no panic.
func TestMalformedDetailsOverTheWire(t *testing.T) {
	e := start(t)
	for _, p := range protocols {
		ctx := traced(context.Background())
		err := check(t, e.client(t, p.opt, reg), ctx, "malformed")
		var occ *errorsx.Error
		if errors.As(err, &occ) || reg.Resolve(err) != errorsx.Internal {
			t.Errorf("%s: malformed details resolved: %v", p.name, err)
		}
		if connect.CodeOf(err) != connect.CodeNotFound {
			t.Errorf("%s: code %v", p.name, connect.CodeOf(err))
		}
		if v, _ := attr(spanOf(t, e.spans, false, ctx).Attributes(), "error.type"); v.AsString() != "NOT_FOUND" {
			t.Errorf("%s: client span error.type = %q, want NOT_FOUND", p.name, v.String())
		}
	}
}

func TestUnknownReasonIsPlain(t *testing.T) {
	e := start(t)
	for _, p := range protocols {
		ctx := traced(context.Background())
		err := check(t, e.client(t, p.opt, errorsx.NewRegistry()), ctx, "4xx")
		var occ *errorsx.Error
		if errors.As(err, &occ) {
			t.Fatalf("%s: unknown reason gave %v", p.name, occ)
		}
		if _, ok := err.(*connect.Error); !ok {
			t.Errorf("%s: %T, want the *connect.Error unchanged", p.name, err)
		}
		if connect.CodeOf(err) != connect.CodeNotFound {
			t.Errorf("%s: code %v", p.name, connect.CodeOf(err))
		}
		if v, _ := attr(spanOf(t, e.spans, false, ctx).Attributes(), "error.type"); v.AsString() != "NOT_FOUND" {
			t.Errorf("%s: client span error.type = %q, want NOT_FOUND", p.name, v.String())
		}
	}
}

func TestWithCode(t *testing.T) {
	e := start(t, connectx.WithCode(errConflict, connect.CodeAborted))
	err := check(t, e.client(t, connect.WithGRPC(), reg), context.Background(), "conflict")
	if connect.CodeOf(err) != connect.CodeAborted || !errors.Is(err, errConflict) {
		t.Errorf("error %v (%v), want Aborted %s", err, connect.CodeOf(err), errConflict.ID())
	}
	defer func() {
		if recover() == nil {
			t.Error("WithCode(def, 0) did not panic")
		}
	}()
	connectx.NewInterceptor(connectx.WithCode(errConflict, 0))
}

func TestStream(t *testing.T) {
	e := start(t)
	for _, p := range protocols {
		client := connect.NewClient[wrapperspb.StringValue, emptypb.Empty](e.http, e.url+watchProcedure, p.opt,
			connect.WithInterceptors(otelInterceptor(t, e), connectx.NewInterceptor(connectx.WithRegistry(reg))))
		for _, tt := range []struct {
			name string
			def  *errorsx.Def
			code connect.Code
		}{
			{"4xx", errUserNotFound, connect.CodeNotFound},
			{"5xx", errStoreDown, connect.CodeUnavailable},
			{"panic", errorsx.Internal, connect.CodeInternal},
		} {
			ctx, cancel := context.WithTimeout(traced(context.Background()), 10*time.Second)
			s, err := client.CallServerStream(ctx, connect.NewRequest(wrapperspb.String(tt.name)))
			if err != nil {
				t.Fatal(err)
			}
			if !s.Receive() {
				t.Fatalf("%s/%s: first message: %v", p.name, tt.name, s.Err())
			}
			if s.Receive() {
				t.Fatalf("%s/%s: a second message", p.name, tt.name)
			}
			err = s.Err()
			if !errors.Is(err, tt.def) || connect.CodeOf(err) != tt.code {
				t.Errorf("%s/%s: stream error %v (%v), want %s %v", p.name, tt.name, err, connect.CodeOf(err), tt.def.ID(), tt.code)
			}
			if err := s.Close(); err != nil && !errors.Is(err, tt.def) {
				t.Errorf("%s/%s: Close: %v", p.name, tt.name, err)
			}
			if v, _ := attr(spanOf(t, e.spans, false, ctx).Attributes(), "error.type"); v.AsString() != tt.def.ID() {
				t.Errorf("%s/%s: client span error.type = %q", p.name, tt.name, v.String())
			}
			ss := spanOf(t, e.spans, true, ctx)
			if failed := ss.Status().Code == codes.Error; failed != (tt.def.Status() >= 500) {
				t.Errorf("%s/%s: server span status %v", p.name, tt.name, ss.Status())
			}
			cancel()
		}
	}
}

// otelconnect's duration metric carries the same key the span got.
func TestMetricLabels(t *testing.T) {
	e := start(t)
	client := e.client(t, connect.WithClientOptions(), reg)
	for _, name := range []string{"4xx", "5xx"} {
		_ = check(t, client, context.Background(), name)
	}
	var rm metricdata.ResourceMetrics
	if err := e.mr.Collect(context.Background(), &rm); err != nil {
		t.Fatal(err)
	}
	var sets []attribute.Set
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			if m.Name != "rpc.server.call.duration" {
				continue
			}
			if h, ok := m.Data.(metricdata.Histogram[float64]); ok {
				for _, dp := range h.DataPoints {
					sets = append(sets, dp.Attributes)
				}
			}
		}
	}
	want := map[string]string{"user.not-found": "otelkit.error.id", "store.unavailable": "error.type"}
	for _, s := range sets {
		for id, key := range want {
			if v, ok := s.Value(attribute.Key(key)); ok && v.AsString() == id {
				delete(want, id)
				if other := map[string]string{"otelkit.error.id": "error.type", "error.type": "otelkit.error.id"}[key]; s.HasValue(attribute.Key(other)) {
					t.Errorf("%s: metric has both keys: %v", id, s.Encoded(attribute.DefaultEncoder()))
				}
			}
		}
	}
	if len(want) > 0 {
		var got []string
		for _, s := range sets {
			got = append(got, s.Encoded(attribute.DefaultEncoder()))
		}
		t.Errorf("server duration metric lacks %v; has %v", want, got)
	}
}

func TestFromError(t *testing.T) {
	info := func(md map[string]string) *connect.ErrorDetail {
		d, err := connect.NewErrorDetail(&errdetails.ErrorInfo{Reason: "user.not-found", Metadata: md})
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	wrongType, _ := connect.NewErrorDetail(&anypb.Any{TypeUrl: "type.googleapis.com/no.such.Type", Value: []byte("x")})
	for name, ds := range map[string][]*connect.ErrorDetail{
		"garbage ErrorInfo": {garbageInfo},
		"unknown type":      {wrongType},
		"none":              nil,
	} {
		in := connect.NewError(connect.CodeNotFound, errors.New("x"))
		for _, d := range ds {
			in.AddDetail(d)
		}
		if out := connectx.FromError(in, reg); out != error(in) {
			t.Errorf("%s: FromError = %v, want the error unchanged", name, out)
		}
	}
	// Many metadata entries: bounded, still resolves.
	md := map[string]string{}
	for i := range 10000 {
		md[fmt.Sprintf("k%05d", i)] = "v"
	}
	in := connect.NewError(connect.CodeNotFound, errors.New("x"))
	in.AddDetail(info(md))
	out := connectx.FromError(in, reg)
	var occ *errorsx.Error
	if !errors.As(out, &occ) || occ.Def() != errUserNotFound || len(occ.Info()) > 64 {
		t.Errorf("large metadata: %v", out)
	}
	var ce *connect.Error
	if !errors.As(out, &ce) || ce != in || out.Error() != in.Error() {
		t.Errorf("the *connect.Error is not reachable: %v", ce)
	}
	if connectx.FromError(nil, reg) != nil {
		t.Error("FromError(nil) != nil")
	}
	plain := errors.New("x")
	if connectx.FromError(plain, reg) != plain {
		t.Error("a non-connect error changed")
	}
	if connectx.FromError(io.EOF, reg) != io.EOF {
		t.Error("io.EOF changed")
	}
}

func TestCode(t *testing.T) {
	for status, want := range map[int]connect.Code{
		400: connect.CodeInvalidArgument, 401: connect.CodeUnauthenticated, 403: connect.CodePermissionDenied,
		404: connect.CodeNotFound, 409: connect.CodeAlreadyExists, 412: connect.CodeFailedPrecondition,
		429: connect.CodeResourceExhausted, 499: connect.CodeCanceled, 500: connect.CodeInternal,
		501: connect.CodeUnimplemented, 503: connect.CodeUnavailable, 504: connect.CodeDeadlineExceeded,
		418: connect.CodeFailedPrecondition, 599: connect.CodeInternal, 0: connect.CodeInternal, -1: connect.CodeInternal,
	} {
		if got := connectx.Code(status); got != want {
			t.Errorf("Code(%d) = %v, want %v", status, got, want)
		}
	}
	if connectx.CodeName(connect.CodeCanceled) != "CANCELLED" || connectx.CodeName(connect.CodeNotFound) != "NOT_FOUND" {
		t.Error("CodeName")
	}
}

// recorder keeps ended spans and wakes waiters: the server span of a call
// may end after the client has its answer.
type recorder struct {
	mu    sync.Mutex
	spans []sdktrace.ReadOnlySpan
	more  chan struct{}
}

func newRecorder() *recorder { return &recorder{more: make(chan struct{})} }

func (r *recorder) OnStart(context.Context, sdktrace.ReadWriteSpan) {}
func (r *recorder) Shutdown(context.Context) error                  { return nil }
func (r *recorder) ForceFlush(context.Context) error                { return nil }
func (r *recorder) OnEnd(s sdktrace.ReadOnlySpan) {
	r.mu.Lock()
	r.spans = append(r.spans, s)
	close(r.more)
	r.more = make(chan struct{})
	r.mu.Unlock()
}

// spanOf returns the ended span of kind (server or client) of the call
// made with ctx's trace (see traced), waiting for it.
func spanOf(t *testing.T, r *recorder, server bool, ctx context.Context) sdktrace.ReadOnlySpan {
	t.Helper()
	tid := trace.SpanContextFromContext(ctx).TraceID()
	kind := trace.SpanKindClient
	if server {
		kind = trace.SpanKindServer
	}
	deadline := time.After(10 * time.Second)
	for {
		r.mu.Lock()
		for _, s := range r.spans {
			if s.SpanKind() == kind && s.SpanContext().TraceID() == tid {
				r.mu.Unlock()
				return s
			}
		}
		more := r.more
		r.mu.Unlock()
		select {
		case <-more:
		case <-deadline:
			t.Fatalf("no %s span", kind)
		}
	}
}

var traceSeq atomic.Uint64

// traced returns ctx with a new sampled trace as parent, so the spans of a
// call can be found by trace id.
func traced(ctx context.Context) context.Context {
	var tid trace.TraceID
	binary.BigEndian.PutUint64(tid[8:], traceSeq.Add(1))
	tid[0] = 1
	sc := trace.NewSpanContext(trace.SpanContextConfig{TraceID: tid, SpanID: trace.SpanID{1}, TraceFlags: trace.FlagsSampled})
	return trace.ContextWithSpanContext(ctx, sc)
}

func attr(kvs []attribute.KeyValue, key string) (attribute.Value, bool) {
	for _, kv := range kvs {
		if string(kv.Key) == key {
			return kv.Value, true
		}
	}
	return attribute.Value{}, false
}

// logRecorder is an SDK log processor that keeps records. The server
// writes the exception record before it answers, so a test that has the
// answer finds it.
type logRecorder struct {
	mu   sync.Mutex
	recs []sdklog.Record
}

func (l *logRecorder) OnEmit(_ context.Context, r *sdklog.Record) error {
	l.mu.Lock()
	l.recs = append(l.recs, r.Clone())
	l.mu.Unlock()
	return nil
}
func (l *logRecorder) Enabled(context.Context, sdklog.EnabledParameters) bool { return true }
func (l *logRecorder) Shutdown(context.Context) error                         { return nil }
func (l *logRecorder) ForceFlush(context.Context) error                       { return nil }

func (l *logRecorder) of(tid trace.TraceID) []sdklog.Record {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []sdklog.Record
	for _, r := range l.recs {
		if r.TraceID() == tid {
			out = append(out, r)
		}
	}
	return out
}

// TestBidiStream: a bidirectional stream (over HTTP/2, all three
// protocols) ends with the registered error, seen by the client's Receive.
func TestBidiStream(t *testing.T) {
	e := start(t)
	for _, p := range protocols {
		client := connect.NewClient[wrapperspb.StringValue, emptypb.Empty](e.http, e.url+chatProcedure, p.opt,
			connect.WithInterceptors(otelInterceptor(t, e), connectx.NewInterceptor(connectx.WithRegistry(reg))))
		for _, tt := range []struct {
			name string
			def  *errorsx.Def
			code connect.Code
		}{
			{"joined", errInvalid, connect.CodeInvalidArgument},
			{"unregistered", errorsx.Internal, connect.CodeInternal},
			{"panic", errorsx.Internal, connect.CodeInternal},
		} {
			ctx, cancel := context.WithTimeout(traced(context.Background()), 10*time.Second)
			s := client.CallBidiStream(ctx)
			if err := s.Send(wrapperspb.String(tt.name)); err != nil {
				t.Fatalf("%s/%s: Send: %v", p.name, tt.name, err)
			}
			if err := s.CloseRequest(); err != nil {
				t.Fatalf("%s/%s: CloseRequest: %v", p.name, tt.name, err)
			}
			_, err := s.Receive()
			if !errors.Is(err, tt.def) || connect.CodeOf(err) != tt.code {
				t.Errorf("%s/%s: stream error %v (%v), want %s %v", p.name, tt.name, err, connect.CodeOf(err), tt.def.ID(), tt.code)
			}
			if strings.Contains(fmt.Sprint(err), "secret") || strings.Contains(fmt.Sprint(err), "boom") {
				t.Errorf("%s/%s: error carries its cause: %v", p.name, tt.name, err)
			}
			_ = s.CloseResponse()
			ss := spanOf(t, e.spans, true, ctx)
			if failed := ss.Status().Code == codes.Error; failed != (tt.def.Status() >= 500) {
				t.Errorf("%s/%s: server span status %v", p.name, tt.name, ss.Status())
			}
			cancel()
		}
	}
}

// TestNotModified: a "not modified" answer to a Connect GET passes through
// as the 304 it is, and no span calls it an error.
func TestNotModified(t *testing.T) {
	e := start(t)
	client := connect.NewClient[wrapperspb.StringValue, emptypb.Empty](e.http, e.url+getProcedure, connect.WithHTTPGet(), connect.WithIdempotency(connect.IdempotencyNoSideEffects),
		connect.WithInterceptors(otelInterceptor(t, e), connectx.NewInterceptor(connectx.WithRegistry(reg))))
	ctx := traced(context.Background())
	req := connect.NewRequest(wrapperspb.String("notmodified"))
	cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	_, err := client.CallUnary(cctx, req)
	if !connect.IsNotModifiedError(err) {
		t.Fatalf("error %v, want not modified", err)
	}
	if v, ok := attr(spanOf(t, e.spans, true, ctx).Attributes(), "error.type"); ok {
		t.Errorf("server span error.type = %q", v.String())
	}
	if n := len(e.logs.of(trace.SpanContextFromContext(ctx).TraceID())); n != 0 {
		t.Errorf("%d exception records for a 304", n)
	}
}

// TestWireCarriesNoSecret reads the Connect protocol's raw answer (JSON
// body, headers): nothing of a cause, its type or a stack is on the wire.
func TestWireCarriesNoSecret(t *testing.T) {
	e := start(t)
	for name, code := range map[string]string{"4xx": "not_found", "5xx": "unavailable", "joined": "invalid_argument", "unregistered": "internal", "panic": "internal"} {
		// google.protobuf.StringValue's JSON form is a bare string.
		req, err := http.NewRequest(http.MethodPost, e.url+checkProcedure, strings.NewReader(`"`+name+`"`))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/json")
		res, err := e.http.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if !strings.Contains(string(body), `"code":"`+code+`"`) || !strings.Contains(string(body), "google.rpc.ErrorInfo") {
			t.Errorf("%s: %d %s, want a Connect error body with code %s and ErrorInfo", name, res.StatusCode, body, code)
		}
		wire := fmt.Sprint(res.Header, string(body))
		for _, secret := range []string{"s3cret", "hunter2", "secret internal", "boom", "postgres", "errorString", "goroutine", ".go:"} {
			if strings.Contains(wire, secret) {
				t.Errorf("%s: the wire carries %q: %s", name, secret, wire)
			}
		}
	}
}

// TestLargeAcceptLanguage: a long Accept-Language header (8 KB, hundreds
// of entries) is read up to errorsx.MaxAcceptLanguage, whole entries only,
// so its first language still wins (issue 12: large metadata is bounded).
func TestLargeAcceptLanguage(t *testing.T) {
	e := start(t)
	header := "de," + strings.Repeat("en-gb;q=0.1,", 700)
	for _, p := range protocols {
		err := check(t, e.client(t, p.opt, reg), context.Background(), "4xx", "Accept-Language", header)
		if ce, _, _ := details(t, err); ce.Message() != "Kein solcher Benutzer" || !errors.Is(err, errUserNotFound) {
			t.Errorf("%s: %q (%v), want the German message", p.name, ce.Message(), err)
		}
	}
}

// TestStatusWithoutEquivalent: a definition whose HTTP status has no gRPC
// equivalent in the table is answered with the documented fallback (a 4xx
// failed_precondition, a 5xx internal) at request time over every
// protocol, no panic, and the client turns it back into the definition
// (issue 12).
func TestStatusWithoutEquivalent(t *testing.T) {
	e := start(t)
	for _, p := range protocols {
		for name, want := range map[string]struct {
			def  *errorsx.Def
			code connect.Code
		}{"teapot": {errTeapot, connect.CodeFailedPrecondition}, "full": {errNoStorage, connect.CodeInternal}} {
			err := check(t, e.client(t, p.opt, reg), context.Background(), name)
			ce, info, _ := details(t, err)
			if ce.Code() != want.code || info == nil || info.Reason != want.def.ID() {
				t.Errorf("%s %s: %v (%v), want %v with reason %s", p.name, name, err, ce.Code(), want.code, want.def.ID())
			}
			if !errors.Is(err, want.def) || strings.Contains(ce.Message(), "sda1") {
				t.Errorf("%s %s: client error %v", p.name, name, err)
			}
		}
	}
}
