package bench_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"runtime"
	"strings"
	"testing"
	"time"

	"connectrpc.com/connect"
	connectv2 "connectrpc.com/connect/v2"
	"connectrpc.com/otelconnect"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/propagation"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/emptypb"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/otelkit/otelkit/bench"
	"github.com/otelkit/otelkit/connectx"
	"github.com/otelkit/otelkit/errorsx"
)

// The Connect rows are the gRPC rows (grpc_test.go) on connect-go under
// otelconnect: the same definitions (grpcReg), the same cases and, for
// the hand-written side, the same recording plus what connectx also gives
// otelconnect's metric (its Labeler). The service has no generated code:
// a unary procedure takes a StringValue naming the case (grpcOK, grpc4xx,
// grpc5xx) and answers Empty.
//
// The server rows call the handler's ServeHTTP in process, as the HTTP
// rows do, with one request reused (its body reset) and a bench.Recorder:
// a Connect handler is an http.Handler, so the whole connect-go stack
// (protocol negotiation, codec, error JSON) runs without a transport;
// loopback TCP would add kernel time that on this shared 2-core machine
// hides a few percent and measures neither side.

// Connect benchmark implementations.
const (
	connectOtelconnect = "otelconnect" // otelconnect's interceptor alone
	connectOtelkit     = "otelkit"     // otelconnect (connectx.AttributeFilter) + connectx.NewInterceptor
	connectHandwritten = "handwritten" // otelconnect (the same filter, by hand) + a *connect.Error with ErrorInfo built and recorded by hand
	// connectPassthrough is otelconnect with the same filter and an
	// interceptor that only calls the next: what any second interceptor
	// under otelconnect configured as connectx documents costs (connect-go
	// adds a thunk per interceptor, which looks two keys up through the
	// whole context; the filter runs for every attribute). No target: it
	// says how much of the success row's gap is connectx's own.
	connectPassthrough = "passthrough"
)

const connectProcedure = "/otelkit.bench.v1.BenchService/Check"

// handFilter is connectx.AttributeFilter as a team writes it: error.type
// is set by the handler (the id of a failure), not otelconnect's code name
// on every error. Like connectx's, it takes connect-go v2's Spec, which
// otelconnect calls without converting it (a filter taking v1's Spec costs
// ~180 instructions more per RPC: a conversion for each attribute).
func handFilter(_ connectv2.Spec, kv attribute.KeyValue) bool { return kv.Key != semconv.ErrorTypeKey }

// connectHandler is the unary handler of impl under otelconnect with the
// shared SDK setup.
func connectHandler(tb testing.TB, impl string, tel *bench.Telemetry) http.Handler {
	opts := []otelconnect.Option{otelconnect.WithTracerProvider(tel.Tracer), otelconnect.WithMeterProvider(tel.Meter),
		otelconnect.WithPropagator(propagation.TraceContext{})}
	switch impl {
	case connectOtelkit:
		opts = append(opts, otelconnect.WithAttributeFilter(connectx.AttributeFilter))
	case connectHandwritten, connectPassthrough:
		opts = append(opts, otelconnect.WithAttributeFilter(handFilter))
	}
	otel, err := otelconnect.NewInterceptor(opts...)
	if err != nil {
		tb.Fatal(err)
	}
	interceptors := []connect.Interceptor{otel}
	fn := otelkitCheck
	switch impl {
	case connectOtelkit:
		interceptors = append(interceptors, connectx.NewInterceptor(connectx.WithRegistry(grpcReg), connectx.WithLoggerProvider(tel.Logger)))
	case connectHandwritten:
		fn = handCheck
	case connectPassthrough:
		interceptors = append(interceptors, connect.UnaryInterceptorFunc(func(next connect.UnaryFunc) connect.UnaryFunc {
			return func(ctx context.Context, req connect.AnyRequest) (connect.AnyResponse, error) { return next(ctx, req) }
		}))
	}
	return connect.NewUnaryHandler(connectProcedure, fn, connect.WithInterceptors(interceptors...))
}

// otelkitCheck answers with registered errors; connectx turns them into
// *connect.Error and records them.
func otelkitCheck(_ context.Context, req *connect.Request[wrapperspb.StringValue]) (*connect.Response[emptypb.Empty], error) {
	switch req.Msg.GetValue() {
	case grpc4xx:
		return nil, grpcRateLimited.With("retry_after", 30)
	case grpc5xx:
		return nil, grpcStorage.Wrap(grpcCause())
	}
	return connect.NewResponse(&emptypb.Empty{}), nil
}

// handCheck is what a team writes without otelkit for the same answers
// and the same telemetry: the *connect.Error with google.rpc.ErrorInfo
// (and RetryInfo) built by hand; for the 4xx otelkit.error.id on the span
// and otelconnect's metric; for the 5xx status Error, error.type on both
// and an rpc.server.call.exception span event with exception.* and the
// stack (the default signal), as handHealth does for gRPC.
func handCheck(ctx context.Context, req *connect.Request[wrapperspb.StringValue]) (*connect.Response[emptypb.Empty], error) {
	span := trace.SpanFromContext(ctx)
	labeler, _ := otelconnect.LabelerFromContext(ctx)
	switch req.Msg.GetValue() {
	case grpc4xx:
		kv := attribute.String("otelkit.error.id", bench.RateLimitedID)
		span.SetAttributes(kv)
		labeler.Add(kv)
		ce := connect.NewError(connect.CodeResourceExhausted, errors.New(bench.RateLimitedMsg))
		addDetail(ce, &errdetails.ErrorInfo{Reason: bench.RateLimitedID, Domain: "otelkit", Metadata: map[string]string{"retry_after": "30"}})
		addDetail(ce, &errdetails.RetryInfo{RetryDelay: durationpb.New(30 * time.Second)})
		return nil, ce
	case grpc5xx:
		labeler.Add(semconv.ErrorTypeKey.String(bench.StorageID))
		handRPCException(span, grpcCause())
		ce := connect.NewError(connect.CodeUnavailable, errors.New(bench.StorageMsg))
		addDetail(ce, &errdetails.ErrorInfo{Reason: bench.StorageID, Domain: "otelkit"})
		return nil, ce
	}
	return connect.NewResponse(&emptypb.Empty{}), nil
}

func addDetail(ce *connect.Error, m proto.Message) {
	if d, err := connect.NewErrorDetail(m); err == nil {
		ce.AddDetail(d)
	}
}

// connectRequest is a Connect-protocol unary request for the case name
// whose body can be read again after reset.
type connectRequest struct {
	req  *http.Request
	body []byte
	rd   bytes.Reader
}

func newConnectRequest(name string) *connectRequest {
	body, err := proto.Marshal(wrapperspb.String(name))
	if err != nil {
		panic(err)
	}
	r := &connectRequest{body: body}
	r.req = httptest.NewRequest(http.MethodPost, connectProcedure, nil)
	r.req.Header.Set("Content-Type", "application/proto")
	r.req.Header.Set("Connect-Protocol-Version", "1")
	r.reset()
	return r
}

// reset rewinds the body; Close is a no-op.
func (r *connectRequest) reset() {
	r.rd.Reset(r.body)
	r.req.Body = r
	r.req.ContentLength = int64(len(r.body))
}

func (r *connectRequest) Read(p []byte) (int, error) { return r.rd.Read(p) }
func (r *connectRequest) Close() error               { return nil }

// serveConnect runs one call per iteration of impl's handler for the case
// name, after checking its HTTP status (Connect's mapping of the code).
func serveConnect(b *testing.B, impl, name string, wantStatus int) {
	tel := bench.NewTelemetry()
	b.Cleanup(func() { tel.Shutdown(context.Background()) })
	h := connectHandler(b, impl, tel)
	req := newConnectRequest(name)
	rec := bench.NewRecorder()
	h.ServeHTTP(rec, req.req)
	if st := rec.Status; st != wantStatus && (st != 0 || wantStatus != http.StatusOK) { // 0: nothing written, net/http's 200
		b.Fatalf("%s %s: status %d, want %d", impl, name, st, wantStatus)
	}
	run(b, func() {
		req.reset()
		rec.Reset()
		h.ServeHTTP(rec, req.req)
	})
}

// BenchmarkConnectSuccess is a unary Connect call answered OK under
// otelconnect alone and under otelconnect with connectx's interceptor
// (and connectx.AttributeFilter, as connectx documents). The target:
// otelkit at most 1.03x otelconnect. passthrough (otelconnect with the
// filter and an interceptor that does nothing) is an info line.
func BenchmarkConnectSuccess(b *testing.B) {
	for _, impl := range []string{connectOtelconnect, connectOtelkit, connectPassthrough} {
		b.Run("impl="+impl, func(b *testing.B) { serveConnect(b, impl, grpcOK, http.StatusOK) })
	}
}

// BenchmarkConnectError is the call answered with a registered 4xx (429
// with retry_after: RESOURCE_EXHAUSTED with ErrorInfo and RetryInfo) and a
// 5xx (503 wrapping a cause: UNAVAILABLE with ErrorInfo, recorded with its
// stack), by connectx and by the hand-written equivalent under
// otelconnect. TestConnectAnswers checks both give the client the same
// answer. The target: otelkit at most 1.1x hand-written.
func BenchmarkConnectError(b *testing.B) {
	for _, c := range []struct {
		name   string
		status int
	}{{grpc4xx, http.StatusTooManyRequests}, {grpc5xx, http.StatusServiceUnavailable}} {
		for _, impl := range []string{connectHandwritten, connectOtelkit} {
			b.Run("case="+c.name+"/impl="+impl, func(b *testing.B) { serveConnect(b, impl, c.name, c.status) })
		}
	}
}

// handlerTransport is an http.RoundTripper that serves requests with a
// handler in process.
type handlerTransport struct{ h http.Handler }

func (t handlerTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	rec := httptest.NewRecorder()
	t.h.ServeHTTP(rec, req)
	return rec.Result(), nil
}

// connectAnswer is what a Connect client makes of an error answer.
type connectAnswer struct {
	Code    connect.Code
	Message string
	Details []string // each detail's type and its message's bytes
}

func answerOf(err error) connectAnswer {
	var ce *connect.Error
	if !errors.As(err, &ce) {
		return connectAnswer{Code: connect.CodeOf(err), Message: "not a *connect.Error: " + err.Error()}
	}
	a := connectAnswer{Code: ce.Code(), Message: ce.Message()}
	for _, d := range ce.Details() {
		v, err := d.Value()
		if err != nil {
			a.Details = append(a.Details, d.Type()+" "+err.Error())
			continue
		}
		// Deterministic: the metadata map has one entry at most.
		b, _ := proto.MarshalOptions{Deterministic: true}.Marshal(v)
		a.Details = append(a.Details, d.Type()+" "+string(b))
	}
	return a
}

// TestConnectAnswers: both implementations of the error rows give a
// Connect client the same answer (code, message, ErrorInfo reason, domain
// and metadata, RetryInfo), so that BenchmarkConnectError compares equal work; and the success row
// answers OK.
func TestConnectAnswers(t *testing.T) {
	for _, name := range []string{grpc4xx, grpc5xx} {
		t.Run(name, func(t *testing.T) {
			var answers []connectAnswer
			for _, impl := range []string{connectHandwritten, connectOtelkit} {
				tel := bench.NewTelemetry()
				defer tel.Shutdown(context.Background())
				c := connect.NewClient[wrapperspb.StringValue, emptypb.Empty](
					&http.Client{Transport: handlerTransport{connectHandler(t, impl, tel)}}, "http://bench"+connectProcedure)
				_, err := c.CallUnary(context.Background(), connect.NewRequest(wrapperspb.String(name)))
				if err == nil {
					t.Fatalf("%s: no error", impl)
				}
				answers = append(answers, answerOf(err))
			}
			if !reflect.DeepEqual(answers[0], answers[1]) {
				t.Errorf("answers differ:\nhand-written: %+v\notelkit:      %+v", answers[0], answers[1])
			}
			if !strings.Contains(strings.Join(answers[1].Details, "\n"), "google.rpc.ErrorInfo") {
				t.Errorf("no ErrorInfo: %+v", answers[1])
			}
		})
	}
	for _, impl := range []string{connectOtelconnect, connectOtelkit, connectPassthrough} {
		tel := bench.NewTelemetry()
		defer tel.Shutdown(context.Background())
		c := connect.NewClient[wrapperspb.StringValue, emptypb.Empty](
			&http.Client{Transport: handlerTransport{connectHandler(t, impl, tel)}}, "http://bench"+connectProcedure)
		if _, err := c.CallUnary(context.Background(), connect.NewRequest(wrapperspb.String(grpcOK))); err != nil {
			t.Errorf("%s: %v", impl, err)
		}
	}
}

// recordedTransport is an http.RoundTripper that answers every request
// with one recorded response (status, header, body), after reading the
// request body as a transport would send it. The client rows use it so
// that what is measured is the client: request encoding, otelconnect's
// client span, the error answer's decoding and the interceptor under
// test, with no server and no network in the same profile.
type recordedTransport struct {
	status int
	header http.Header
	body   []byte
}

// record returns a transport answering what h answers to the case name.
func recordAnswer(h http.Handler, name string) *recordedTransport {
	req := newConnectRequest(name)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req.req)
	return &recordedTransport{status: rec.Code, header: rec.Header().Clone(), body: rec.Body.Bytes()}
}

func (t *recordedTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Body != nil {
		_, _ = io.Copy(io.Discard, req.Body)
		_ = req.Body.Close()
	}
	return &http.Response{
		Status:        http.StatusText(t.status),
		StatusCode:    t.status,
		Proto:         "HTTP/1.1",
		ProtoMajor:    1,
		ProtoMinor:    1,
		Header:        t.header.Clone(),
		Body:          io.NopCloser(bytes.NewReader(t.body)),
		ContentLength: int64(len(t.body)),
		Request:       req,
	}, nil
}

// handRemote is the hand-written decode's result: the *connect.Error as
// received (errors.As, connect.CodeOf), the definition its ErrorInfo
// reason names (errors.Is) and the ErrorInfo metadata.
type handRemote struct {
	ce       *connect.Error
	def      *errorsx.Def
	metadata map[string]string
}

func (e *handRemote) Error() string        { return e.ce.Error() }
func (e *handRemote) Unwrap() error        { return e.ce }
func (e *handRemote) Is(target error) bool { return target == e.def }

// handDefs is the hand-written client's table from ErrorInfo reason to
// definition.
var handDefs = map[string]*errorsx.Def{
	bench.RateLimitedID: grpcRateLimited,
	bench.StorageID:     grpcStorage,
}

// handDecode is what a team writes without otelkit to turn a Connect
// error answer back into its definition: errors.As to the *connect.Error,
// the google.rpc.ErrorInfo among its details (connect's ErrorDetail.Value)
// and its reason looked up in a table. It returns error.type's value
// (the reason, else the code's name) and the error, unchanged when the
// answer carries no known reason.
func handDecode(err error) (string, error) {
	var ce *connect.Error
	if !errors.As(err, &ce) {
		return strings.ToUpper(connect.CodeOf(err).String()), err
	}
	for _, d := range ce.Details() {
		v, derr := d.Value()
		if derr != nil {
			continue
		}
		if info, ok := v.(*errdetails.ErrorInfo); ok {
			if def, ok := handDefs[info.GetReason()]; ok {
				return def.ID(), &handRemote{ce: ce, def: def, metadata: info.GetMetadata()}
			}
			break
		}
	}
	return strings.ToUpper(ce.Code().String()), err
}

// handClientInterceptor decodes inside otelconnect's client span and sets
// error.type on it and on otelconnect's metric, as connectx's client
// interceptor does.
func handClientInterceptor(next connect.UnaryFunc) connect.UnaryFunc {
	return func(ctx context.Context, req connect.AnyRequest) (connect.AnyResponse, error) {
		resp, err := next(ctx, req)
		if err == nil {
			return resp, nil
		}
		typ, out := handDecode(err)
		kv := semconv.ErrorTypeKey.String(typ)
		if s := trace.SpanFromContext(ctx); s.IsRecording() {
			s.SetAttributes(kv)
		}
		if l, ok := otelconnect.LabelerFromContext(ctx); ok {
			l.Add(kv)
		}
		return resp, out
	}
}

// connectClient is a Connect client of impl (connectOtelkit: connectx's
// interceptor after otelconnect; connectHandwritten: handClientInterceptor
// after otelconnect) whose transport is rt.
func connectClient(tb testing.TB, impl string, tel *bench.Telemetry, rt http.RoundTripper) *connect.Client[wrapperspb.StringValue, emptypb.Empty] {
	filter := handFilter
	var ix connect.Interceptor = connect.UnaryInterceptorFunc(handClientInterceptor)
	if impl == connectOtelkit {
		filter = connectx.AttributeFilter
		ix = connectx.NewInterceptor(connectx.WithRegistry(grpcReg), connectx.WithLoggerProvider(tel.Logger))
	}
	otel, err := otelconnect.NewInterceptor(otelconnect.WithTracerProvider(tel.Tracer), otelconnect.WithMeterProvider(tel.Meter),
		otelconnect.WithPropagator(propagation.TraceContext{}), otelconnect.WithAttributeFilter(filter))
	if err != nil {
		tb.Fatal(err)
	}
	return connect.NewClient[wrapperspb.StringValue, emptypb.Empty](&http.Client{Transport: rt},
		"http://bench"+connectProcedure, connect.WithInterceptors(otel, ix))
}

// clientAnswer is what the caller reads of a decoded error: whether it is
// the definition, its code and message, and the retry_after the server
// sent.
func clientAnswer(err error) (is bool, code connect.Code, msg, retryAfter string) {
	var ce *connect.Error
	if errors.As(err, &ce) {
		msg = ce.Message()
	}
	if hr, ok := err.(*handRemote); ok {
		retryAfter = hr.metadata["retry_after"]
	}
	var occ *errorsx.Error
	if errors.As(err, &occ) {
		for _, f := range occ.Info() {
			if f.Key == "retry_after" {
				retryAfter, _ = f.Value.(string)
			}
		}
	}
	return errors.Is(err, grpcRateLimited), connect.CodeOf(err), msg, retryAfter
}

// BenchmarkConnectClientError is the calling side of the 4xx: a Connect
// client under otelconnect receives the answer connectx's server gives
// (429 rate-limited with retry_after=30: RESOURCE_EXHAUSTED, ErrorInfo,
// RetryInfo), recorded once and served by recordedTransport, and turns it
// back into the registered definition, with connectx's client interceptor
// and with the hand-written decode (handDecode). Both set error.type =
// the reason on the client span and metric, and TestConnectClientDecode
// checks both give the caller the same error. The target: otelkit at most
// 1.1x hand-written.
func BenchmarkConnectClientError(b *testing.B) {
	for _, impl := range []string{connectHandwritten, connectOtelkit} {
		b.Run("impl="+impl, func(b *testing.B) {
			tel := bench.NewTelemetry()
			b.Cleanup(func() { tel.Shutdown(context.Background()) })
			rt := recordAnswer(connectHandler(b, connectOtelkit, tel), grpc4xx)
			c := connectClient(b, impl, tel, rt)
			ctx := context.Background()
			msg := wrapperspb.String(grpc4xx)
			_, err := c.CallUnary(ctx, connect.NewRequest(msg))
			if is, _, _, ra := clientAnswer(err); !is || ra != "30" {
				b.Fatalf("%s: %v decoded to is=%v retry_after=%q", impl, err, is, ra)
			}
			run(b, func() { _, _ = c.CallUnary(ctx, connect.NewRequest(msg)) })
		})
	}
}

// TestConnectClientDecode: connectx's client interceptor and the
// hand-written decode give the caller the same error for the recorded
// answer (errors.Is the definition, the code, the message, retry_after),
// so that BenchmarkConnectClientError compares equal work.
func TestConnectClientDecode(t *testing.T) {
	tel := bench.NewTelemetry()
	defer tel.Shutdown(context.Background())
	rt := recordAnswer(connectHandler(t, connectOtelkit, tel), grpc4xx)
	if rt.status != http.StatusTooManyRequests {
		t.Fatalf("recorded status %d", rt.status)
	}
	type answer struct {
		is         bool
		code       connect.Code
		msg, retry string
	}
	var answers []answer
	for _, impl := range []string{connectHandwritten, connectOtelkit} {
		_, err := connectClient(t, impl, tel, rt).CallUnary(context.Background(), connect.NewRequest(wrapperspb.String(grpc4xx)))
		var a answer
		a.is, a.code, a.msg, a.retry = clientAnswer(err)
		answers = append(answers, a)
	}
	want := answer{true, connect.CodeResourceExhausted, bench.RateLimitedMsg, "30"}
	for i, impl := range []string{connectHandwritten, connectOtelkit} {
		if answers[i] != want {
			t.Errorf("%s: %+v, want %+v", impl, answers[i], want)
		}
	}
}

// TestConnectSuccessAllocBudget: connectx adds one allocation to a
// successful Connect call over otelconnect alone (the RPC's context, which
// carries its facts to audits and exception records inside the handler),
// and bytes within that object's size class (96 B).
func TestConnectSuccessAllocBudget(t *testing.T) {
	measure := func(impl string) (allocs, bytes float64) {
		tel := bench.NewTelemetry()
		defer tel.Shutdown(context.Background())
		h := connectHandler(t, impl, tel)
		req := newConnectRequest(grpcOK)
		rec := bench.NewRecorder()
		f := func() {
			req.reset()
			rec.Reset()
			h.ServeHTTP(rec, req.req)
		}
		const runs = 500
		defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
		f()
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		for range runs {
			f()
		}
		runtime.ReadMemStats(&after)
		return float64(after.Mallocs-before.Mallocs) / runs, float64(after.TotalAlloc-before.TotalAlloc) / runs
	}
	baseA, baseB := measure(connectOtelconnect)
	kitA, kitB := measure(connectOtelkit)
	t.Logf("connect success: otelconnect %.1f allocs %.0f B, otelkit %.1f allocs %.0f B", baseA, baseB, kitA, kitB)
	if kitA-baseA > 1.05 || kitB-baseB > 100 {
		t.Errorf("connectx adds %.1f allocations and %.0f B to a successful call, budget 1 and 96 B", kitA-baseA, kitB-baseB)
	}
}
