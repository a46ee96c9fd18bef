package grpcx_test

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.opentelemetry.io/contrib/instrumentation/google.golang.org/grpc/otelgrpc"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	grpccodes "google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/anypb"

	"github.com/otelkit/otelkit/errorsx"
	"github.com/otelkit/otelkit/grpcx"
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

// health answers Check with the error named by the service field.
type health struct {
	grpc_health_v1.UnimplementedHealthServer
}

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
	case "status":
		return status.Error(grpccodes.Aborted, "hand-made")
	case "malformed": // passes through with an ErrorInfo whose bytes do not parse
		good, _ := anypb.New(&errdetails.ErrorInfo{Reason: errUserNotFound.ID()})
		st := status.New(grpccodes.NotFound, "garbage details").Proto()
		st.Details = []*anypb.Any{{TypeUrl: good.TypeUrl, Value: []byte{0xff, 0xff, 0xff}}}
		return status.ErrorProto(st)
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
	case "by-id":
		return httpx.ErrorByID(errUserNotFound.ID())
	case "by-unknown-id":
		return httpx.ErrorByID("no.such-id")
	}
	return fmt.Errorf("unknown case %q", name)
}

func (health) Check(ctx context.Context, req *grpc_health_v1.HealthCheckRequest) (*grpc_health_v1.HealthCheckResponse, error) {
	if err := errorFor(req.Service); err != nil {
		return nil, err
	}
	return &grpc_health_v1.HealthCheckResponse{Status: grpc_health_v1.HealthCheckResponse_SERVING}, nil
}

func (health) Watch(req *grpc_health_v1.HealthCheckRequest, s grpc.ServerStreamingServer[grpc_health_v1.HealthCheckResponse]) error {
	if err := s.Send(&grpc_health_v1.HealthCheckResponse{Status: grpc_health_v1.HealthCheckResponse_SERVING}); err != nil {
		return err
	}
	return errorFor(req.Service)
}

type env struct {
	client grpc_health_v1.HealthClient
	spans  *recorder
	noReg  grpc_health_v1.HealthClient // a client whose registry knows nothing
}

func start(t *testing.T, serverOpts ...grpcx.Option) *env {
	t.Helper()
	sr := newRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(sr))
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	opts := append([]grpcx.Option{grpcx.WithRegistry(reg)}, serverOpts...)
	srv := grpc.NewServer(
		grpc.StatsHandler(otelgrpc.NewServerHandler(otelgrpc.WithTracerProvider(tp), otelgrpc.WithPropagators(propagation.TraceContext{}))),
		grpc.ChainUnaryInterceptor(grpcx.UnaryServerInterceptor(opts...)),
		grpc.ChainStreamInterceptor(grpcx.StreamServerInterceptor(opts...)),
	)
	grpc_health_v1.RegisterHealthServer(srv, health{})
	go srv.Serve(lis)
	t.Cleanup(srv.Stop)
	dial := func(r *errorsx.Registry) grpc_health_v1.HealthClient {
		cc, err := grpc.NewClient(lis.Addr().String(),
			grpc.WithTransportCredentials(insecure.NewCredentials()),
			grpc.WithStatsHandler(grpcx.ClientHandler(otelgrpc.NewClientHandler(otelgrpc.WithTracerProvider(tp), otelgrpc.WithPropagators(propagation.TraceContext{})), grpcx.WithRegistry(r))),
			grpc.WithChainUnaryInterceptor(grpcx.UnaryClientInterceptor(grpcx.WithRegistry(r))),
			grpc.WithChainStreamInterceptor(grpcx.StreamClientInterceptor(grpcx.WithRegistry(r))),
		)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { cc.Close() })
		return grpc_health_v1.NewHealthClient(cc)
	}
	return &env{client: dial(reg), noReg: dial(errorsx.NewRegistry()), spans: sr}
}

func check(t *testing.T, c grpc_health_v1.HealthClient, ctx context.Context, name string) error {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	_, err := c.Check(ctx, &grpc_health_v1.HealthCheckRequest{Service: name})
	return err
}

func detailsOf(t *testing.T, err error) (*status.Status, *errdetails.ErrorInfo, []any) {
	t.Helper()
	st, ok := status.FromError(err)
	if !ok {
		t.Fatalf("no status in %v", err)
	}
	var info *errdetails.ErrorInfo
	ds := st.Details()
	for _, d := range ds {
		if ei, ok := d.(*errdetails.ErrorInfo); ok {
			info = ei
		}
	}
	return st, info, ds
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

// wait returns the first ended span for which ok holds, waiting for it.
func (r *recorder) wait(t *testing.T, what string, ok func(sdktrace.ReadOnlySpan) bool) sdktrace.ReadOnlySpan {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		r.mu.Lock()
		for _, s := range r.spans {
			if ok(s) {
				r.mu.Unlock()
				return s
			}
		}
		more := r.more
		r.mu.Unlock()
		select {
		case <-more:
		case <-deadline:
			t.Fatalf("no %s span", what)
		}
	}
}

// spanOf returns the ended span of kind (server or client) of the call
// made with ctx's trace (see traced).
func spanOf(t *testing.T, r *recorder, server bool, ctx context.Context) sdktrace.ReadOnlySpan {
	t.Helper()
	tid := trace.SpanContextFromContext(ctx).TraceID()
	kind := trace.SpanKindClient
	if server {
		kind = trace.SpanKindServer
	}
	return r.wait(t, kind.String(), func(s sdktrace.ReadOnlySpan) bool {
		return s.SpanKind() == kind && s.SpanContext().TraceID() == tid
	})
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

func attr(s sdktrace.ReadOnlySpan, key string) (attribute.Value, bool) {
	for _, kv := range s.Attributes() {
		if string(kv.Key) == key {
			return kv.Value, true
		}
	}
	return attribute.Value{}, false
}

func TestServerStatus(t *testing.T) {
	e := start(t)
	tests := []struct {
		name    string
		code    grpccodes.Code
		message string
		reason  string
		meta    map[string]string
		def     *errorsx.Def // what the client resolves; nil: a plain status error
		failed  bool
	}{
		{"4xx", grpccodes.NotFound, "No such user", "user.not-found", map[string]string{"user_id": "42", "password": mask.Mask}, errUserNotFound, false},
		{"5xx", grpccodes.Unavailable, "The store is unavailable", "store.unavailable", nil, errStoreDown, true},
		{"joined", grpccodes.InvalidArgument, "The request is invalid", "request.invalid", nil, errInvalid, false},
		{"unregistered", grpccodes.Internal, "Internal server error", "internal", nil, errorsx.Internal, true},
		{"panic", grpccodes.Internal, "Internal server error", "internal", nil, errorsx.Internal, true},
		{"retry", grpccodes.ResourceExhausted, "Too many attempts", "auth.rate-limited", map[string]string{"retry_after": "30"}, errRateLimited, false},
		{"conflict", grpccodes.AlreadyExists, "The user exists", "user.exists", nil, errConflict, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := traced(context.Background())
			err := check(t, e.client, ctx, tt.name)
			st, info, _ := detailsOf(t, err)
			if st.Code() != tt.code || st.Message() != tt.message {
				t.Errorf("status = %v %q, want %v %q", st.Code(), st.Message(), tt.code, tt.message)
			}
			if info == nil || info.Reason != tt.reason || info.Domain != grpcx.DefaultDomain {
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
			for _, secret := range []string{"s3cret", "hunter2", "secret internal", "boom", "postgres", "errors.errorString"} {
				if strings.Contains(fmt.Sprint(st.Proto()), secret) {
					t.Errorf("status carries %q: %v", secret, st.Proto())
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
				if ev.Name == grpcx.EventServerException {
					exc++
					for _, kv := range ev.Attributes {
						if strings.Contains(kv.Value.String(), "hunter2") || strings.Contains(kv.Value.String(), "s3cret") {
							t.Errorf("exception event carries a secret: %v", kv)
						}
					}
				}
			}
			if want := map[bool]int{true: 1, false: 0}[tt.failed]; exc != want {
				t.Errorf("%d %s events, want %d", exc, grpcx.EventServerException, want)
			}
			key := "otelkit.error.id"
			if tt.failed {
				key = "error.type"
			}
			if v, ok := attr(ss, key); !ok || v.AsString() != tt.reason {
				t.Errorf("server span %s = %v, want %q", key, v.String(), tt.reason)
			}
			cs := spanOf(t, e.spans, false, ctx)
			if v, ok := attr(cs, "error.type"); !ok || v.AsString() != tt.reason {
				t.Errorf("client span error.type = %q, want %q", v.String(), tt.reason)
			}
		})
	}
}

func TestClientReadsInfoAndEntries(t *testing.T) {
	e := start(t)
	err := check(t, e.client, context.Background(), "4xx")
	var occ *errorsx.Error
	if !errors.As(err, &occ) {
		t.Fatalf("%T is not an *errorsx.Error", err)
	}
	got := map[string]any{}
	for _, f := range occ.Info() {
		got[f.Key] = f.Value
	}
	if got["user_id"] != "42" || got["password"] != mask.Mask {
		t.Errorf("info = %v", got)
	}
	if st, ok := status.FromError(err); !ok || st.Code() != grpccodes.NotFound {
		t.Errorf("the status is not reachable from the client error: %v", st)
	}

	err = check(t, e.client, context.Background(), "joined")
	if !errors.As(err, &occ) {
		t.Fatalf("%T is not an *errorsx.Error", err)
	}
	if n := len(occ.Entries()); n != 2 {
		t.Fatalf("%d entries, want 2", n)
	}
	for i, want := range []string{"email", "name"} {
		var eo *errorsx.Error
		if !errors.As(occ.Entries()[i], &eo) || eo.Def() != errFieldMissing || eo.Info()[0].Value != want {
			t.Errorf("entry %d = %v, want field.missing on %q", i, occ.Entries()[i], want)
		}
	}
	_, _, ds := detailsOf(t, err)
	var br *errdetails.BadRequest
	for _, d := range ds {
		if b, ok := d.(*errdetails.BadRequest); ok {
			br = b
		}
	}
	if br == nil || len(br.FieldViolations) != 2 || br.FieldViolations[0].Field != "email" || br.FieldViolations[0].Reason != "field.missing" {
		t.Errorf("BadRequest = %v", br)
	}

	err = check(t, e.client, context.Background(), "retry")
	_, _, ds = detailsOf(t, err)
	var ri *errdetails.RetryInfo
	for _, d := range ds {
		if r, ok := d.(*errdetails.RetryInfo); ok {
			ri = r
		}
	}
	if ri == nil || ri.RetryDelay.AsDuration() != 30*time.Second {
		t.Errorf("RetryInfo = %v, want 30s", ri)
	}
}

func TestLocalized(t *testing.T) {
	e := start(t)
	ctx := metadata.AppendToOutgoingContext(context.Background(), "accept-language", "de-CH, en;q=0.5")
	err := check(t, e.client, ctx, "4xx")
	st, _, ds := detailsOf(t, err)
	if st.Message() != "Kein solcher Benutzer" {
		t.Errorf("message = %q", st.Message())
	}
	var lm *errdetails.LocalizedMessage
	for _, d := range ds {
		if l, ok := d.(*errdetails.LocalizedMessage); ok {
			lm = l
		}
	}
	if lm == nil || lm.Message != "Kein solcher Benutzer" || !strings.HasPrefix(lm.Locale, "de") {
		t.Errorf("LocalizedMessage = %v", lm)
	}
	if !errors.Is(err, errUserNotFound) {
		t.Errorf("client error %v is not %s", err, errUserNotFound.ID())
	}
	// No translation asked: no LocalizedMessage.
	_, _, ds = detailsOf(t, check(t, e.client, context.Background(), "4xx"))
	for _, d := range ds {
		if _, ok := d.(*errdetails.LocalizedMessage); ok {
			t.Errorf("LocalizedMessage without accept-language")
		}
	}
}

func TestStatusPassesThrough(t *testing.T) {
	e := start(t)
	ctx := traced(context.Background())
	err := check(t, e.client, ctx, "status")
	st, info, _ := detailsOf(t, err)
	if st.Code() != grpccodes.Aborted || st.Message() != "hand-made" || info != nil {
		t.Errorf("status = %v %q %v, want Aborted hand-made without details", st.Code(), st.Message(), info)
	}
	if v, ok := attr(spanOf(t, e.spans, false, ctx), "error.type"); !ok || v.AsString() != "ABORTED" {
		t.Errorf("client span error.type = %q, want ABORTED", v.String())
	}
}

func TestUnknownReasonIsPlain(t *testing.T) {
	e := start(t)
	ctx := traced(context.Background())
	err := check(t, e.noReg, ctx, "4xx")
	var occ *errorsx.Error
	if errors.As(err, &occ) {
		t.Fatalf("unknown reason gave %v", occ)
	}
	st, _ := status.FromError(err)
	if st.Code() != grpccodes.NotFound || st.Message() != "No such user" {
		t.Errorf("status = %v %q", st.Code(), st.Message())
	}
	if v, _ := attr(spanOf(t, e.spans, false, ctx), "error.type"); v.AsString() != "NOT_FOUND" {
		t.Errorf("client span error.type = %q, want NOT_FOUND", v.String())
	}
}

func TestWithCode(t *testing.T) {
	e := start(t, grpcx.WithCode(errConflict, grpccodes.Aborted))
	st, _, _ := detailsOf(t, check(t, e.client, context.Background(), "conflict"))
	if st.Code() != grpccodes.Aborted {
		t.Errorf("code = %v, want Aborted", st.Code())
	}
}

func TestStream(t *testing.T) {
	e := start(t)
	for _, tt := range []struct {
		name string
		def  *errorsx.Def
		code grpccodes.Code
	}{
		{"4xx", errUserNotFound, grpccodes.NotFound},
		{"5xx", errStoreDown, grpccodes.Unavailable},
		{"panic", errorsx.Internal, grpccodes.Internal},
	} {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		s, err := e.client.Watch(ctx, &grpc_health_v1.HealthCheckRequest{Service: tt.name})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.Recv(); err != nil {
			t.Fatalf("%s: first message: %v", tt.name, err)
		}
		_, err = s.Recv()
		cancel()
		if st, _ := status.FromError(err); !errors.Is(err, tt.def) || st.Code() != tt.code {
			t.Errorf("%s: stream error %v (%v), want %s %v", tt.name, err, st.Code(), tt.def.ID(), tt.code)
		}
	}
}

func TestFromErrorMalformed(t *testing.T) {
	good, _ := anypb.New(&errdetails.ErrorInfo{Reason: "user.not-found"})
	bad := &anypb.Any{TypeUrl: good.TypeUrl, Value: []byte{0xff, 0xff, 0xff}}
	wrongType := &anypb.Any{TypeUrl: "type.googleapis.com/no.such.Type", Value: []byte("x")}
	for name, details := range map[string][]*anypb.Any{
		"garbage ErrorInfo": {bad},
		"unknown type":      {wrongType},
		"none":              nil,
	} {
		st := status.New(grpccodes.NotFound, "x").Proto()
		st.Details = details
		in := status.ErrorProto(st)
		if out := grpcx.FromError(in, reg); out != in {
			t.Errorf("%s: FromError = %v, want the error unchanged", name, out)
		}
	}
	// Many details and metadata entries: bounded, still resolves.
	md := map[string]string{}
	for i := range 10000 {
		md[fmt.Sprintf("k%05d", i)] = "v"
	}
	big, _ := anypb.New(&errdetails.ErrorInfo{Reason: "user.not-found", Metadata: md})
	st := status.New(grpccodes.NotFound, "x").Proto()
	st.Details = []*anypb.Any{big}
	out := grpcx.FromError(status.ErrorProto(st), reg)
	var occ *errorsx.Error
	if !errors.As(out, &occ) || occ.Def() != errUserNotFound || len(occ.Info()) > 64 {
		t.Errorf("large metadata: %v", out)
	}
	if grpcx.FromError(nil, reg) != nil {
		t.Error("FromError(nil) != nil")
	}
	plain := errors.New("x")
	if grpcx.FromError(plain, reg) != plain {
		t.Error("a non-status error changed")
	}
}

func TestCode(t *testing.T) {
	for status, want := range map[int]grpccodes.Code{
		400: grpccodes.InvalidArgument, 401: grpccodes.Unauthenticated, 403: grpccodes.PermissionDenied,
		404: grpccodes.NotFound, 409: grpccodes.AlreadyExists, 412: grpccodes.FailedPrecondition,
		429: grpccodes.ResourceExhausted, 499: grpccodes.Canceled, 500: grpccodes.Internal,
		501: grpccodes.Unimplemented, 503: grpccodes.Unavailable, 504: grpccodes.DeadlineExceeded,
		418: grpccodes.FailedPrecondition, 599: grpccodes.Internal, 0: grpccodes.Internal, -1: grpccodes.Internal,
	} {
		if got := grpcx.Code(status); got != want {
			t.Errorf("Code(%d) = %v, want %v", status, got, want)
		}
	}
}

// TestErrorByID: httpx.ErrorByID answers over gRPC as over HTTP; an
// unknown id is the internal error.
func TestErrorByID(t *testing.T) {
	e := start(t)
	err := check(t, e.client, context.Background(), "by-id")
	if st, _ := status.FromError(err); st.Code() != grpccodes.NotFound || st.Message() != "No such user" {
		t.Errorf("by-id: %v", err)
	}
	if !errors.Is(err, errUserNotFound) {
		t.Errorf("by-id: errors.Is(%v, def) is false", err)
	}
	err = check(t, e.client, context.Background(), "by-unknown-id")
	if st, _ := status.FromError(err); st.Code() != grpccodes.Internal || strings.Contains(st.Message(), "no.such-id") {
		t.Errorf("by-unknown-id: %v", err)
	}
}

// TestLargeAcceptLanguage: long accept-language metadata (8 KB, hundreds
// of entries) is read up to errorsx.MaxAcceptLanguage, whole entries only,
// so its first language still wins (issue 12: large metadata is bounded).
func TestLargeAcceptLanguage(t *testing.T) {
	e := start(t)
	ctx := metadata.AppendToOutgoingContext(context.Background(), "accept-language", "de,"+strings.Repeat("en-gb;q=0.1,", 700))
	err := check(t, e.client, ctx, "4xx")
	if st, _, _ := detailsOf(t, err); st.Message() != "Kein solcher Benutzer" || !errors.Is(err, errUserNotFound) {
		t.Errorf("%q (%v), want the German message", st.Message(), err)
	}
}

// TestMalformedDetailsOverTheWire: a server's status whose ErrorInfo does
// not parse reaches the client interceptors (unary and stream) as a plain
// status error, not a panic and not a definition (issue 12).
func TestMalformedDetailsOverTheWire(t *testing.T) {
	e := start(t)
	err := check(t, e.client, context.Background(), "malformed")
	var occ *errorsx.Error
	if st, _ := status.FromError(err); st.Code() != grpccodes.NotFound || st.Message() != "garbage details" ||
		errors.As(err, &occ) || reg.Resolve(err) != errorsx.Internal {
		t.Errorf("unary: %v, want the plain NotFound status", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	s, err := e.client.Watch(ctx, &grpc_health_v1.HealthCheckRequest{Service: "malformed"})
	if err != nil {
		t.Fatal(err)
	}
	for err == nil {
		_, err = s.Recv()
	}
	if st, _ := status.FromError(err); st.Code() != grpccodes.NotFound || errors.As(err, &occ) {
		t.Errorf("stream: %v, want the plain NotFound status", err)
	}
}

// TestStatusWithoutEquivalent: a definition whose HTTP status has no gRPC
// equivalent in the table is answered with the documented fallback (a 4xx
// FAILED_PRECONDITION, a 5xx INTERNAL) at request time, no panic, and the
// client turns it back into the definition (issue 12).
func TestStatusWithoutEquivalent(t *testing.T) {
	e := start(t)
	for name, want := range map[string]struct {
		def  *errorsx.Def
		code grpccodes.Code
	}{"teapot": {errTeapot, grpccodes.FailedPrecondition}, "full": {errNoStorage, grpccodes.Internal}} {
		err := check(t, e.client, context.Background(), name)
		st, info, _ := detailsOf(t, err)
		if st.Code() != want.code || st.Code() != grpcx.Code(want.def.Status()) || info == nil || info.Reason != want.def.ID() {
			t.Errorf("%s: %v (%v), want %v with reason %s", name, err, st.Code(), want.code, want.def.ID())
		}
		if !errors.Is(err, want.def) || strings.Contains(st.Message(), "sda1") {
			t.Errorf("%s: client error %v", name, err)
		}
	}
}
