package bench_test

import (
	"context"
	"errors"
	"runtime/pprof"
	"testing"

	"go.opentelemetry.io/contrib/instrumentation/google.golang.org/grpc/otelgrpc"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	grpccodes "google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/stats"
	"google.golang.org/grpc/status"

	"github.com/otelkit/otelkit/bench"
	"github.com/otelkit/otelkit/errorsx"
	"github.com/otelkit/otelkit/grpcx"
)

// This file's name puts BenchmarkGRPCClient after the HTTP benchmarks of
// http_test.go (go test runs benchmarks file by file, in name order): the
// four connections it makes and closes stay reachable for up to ~15 s
// (see TestGRPCLeavesNoHeap) and held ~2 MB of live heap at the start of
// BenchmarkSuccess when it ran before it (GODEBUG=gctrace=1: 4 MB live
// instead of 2), the regime the success and render rows are sensitive to.

// Implementations of the calling side of gRPC (BenchmarkGRPCClient).
const (
	// grpcClientOtelgrpc is otelgrpc's client stats handler alone: the
	// success case's base.
	grpcClientOtelgrpc = "otelgrpc"
	// grpcClientOtelkit is otelgrpc's client stats handler wrapped by
	// grpcx.ClientHandler (error.type on the client span) and
	// grpcx.UnaryClientInterceptor (the status back to its definition).
	grpcClientOtelkit = "otelkit"
	// grpcClientHandwritten is otelgrpc's client stats handler wrapped by
	// handClientStats and the handClientDecode interceptor: the same two
	// jobs written by hand (the error case's base).
	grpcClientHandwritten = "handwritten"
)

// grpcClientCases are BenchmarkGRPCClient's cases: the call answered OK,
// and answered by grpcx with the registered 429 (RESOURCE_EXHAUSTED with
// ErrorInfo{reason, metadata retry_after=30} and RetryInfo).
var grpcClientCases = []struct {
	name, service string
	impls         []string
}{
	{"success", grpcOK, []string{grpcClientOtelgrpc, grpcClientOtelkit}},
	{"error", grpc4xx, []string{grpcClientHandwritten, grpcClientOtelkit}},
}

// grpcClientServer starts the server every client implementation calls:
// otelgrpc's server handler and grpcx.UnaryServerInterceptor around
// otelkitHealth (the otelkit server of BenchmarkGRPCError), and returns
// the listener's dial option and target.
func grpcClientServer(tb testing.TB, tel *bench.Telemetry) (grpc.DialOption, string) {
	srv := grpc.NewServer(
		grpc.StatsHandler(otelgrpc.NewServerHandler(
			otelgrpc.WithTracerProvider(tel.Tracer), otelgrpc.WithMeterProvider(tel.Meter))),
		grpc.ChainUnaryInterceptor(grpcx.UnaryServerInterceptor(
			grpcx.WithRegistry(grpcReg), grpcx.WithLoggerProvider(tel.Logger))))
	grpc_health_v1.RegisterHealthServer(srv, otelkitHealth{})
	lis, dial, target := grpcListener(tb)
	// The server's goroutines (its transport's, the handlers') carry the
	// label side=server, so that a CPU profile tells the server's share
	// of a call from the client's: go test -bench GRPCClient -cpuprofile
	// cpu.out, then go tool pprof -tags cpu.out.
	go pprof.Do(context.Background(), pprof.Labels("side", "server"), func(context.Context) { _ = srv.Serve(lis) })
	tb.Cleanup(srv.Stop)
	return dial, target
}

// grpcClient dials target as impl does, its client telemetry from tp and
// mp.
func grpcClient(tb testing.TB, impl string, dial grpc.DialOption, target string, tp trace.TracerProvider, mp metric.MeterProvider) grpc_health_v1.HealthClient {
	var sh stats.Handler = otelgrpc.NewClientHandler(otelgrpc.WithTracerProvider(tp), otelgrpc.WithMeterProvider(mp))
	opts := []grpc.DialOption{dial, grpc.WithTransportCredentials(insecure.NewCredentials())}
	switch impl {
	case grpcClientOtelkit:
		sh = grpcx.ClientHandler(sh, grpcx.WithRegistry(grpcReg))
		opts = append(opts, grpc.WithChainUnaryInterceptor(grpcx.UnaryClientInterceptor(grpcx.WithRegistry(grpcReg))))
	case grpcClientHandwritten:
		sh = handClientStats{Handler: sh, reg: grpcReg}
		opts = append(opts, grpc.WithChainUnaryInterceptor(handClientDecode(grpcReg)))
	}
	cc, err := grpc.NewClient(target, append(opts, grpc.WithStatsHandler(sh))...)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { cc.Close() })
	return grpc_health_v1.NewHealthClient(cc)
}

// BenchmarkGRPCClient is a unary call through grpc-go's client under
// otelgrpc's client stats handler, to the otelkit server of
// BenchmarkGRPCError over bufconn: the success case with otelgrpc alone and
// with otelkit's client side (grpcx.ClientHandler +
// grpcx.UnaryClientInterceptor), and the error case (a registered 429
// answered with ErrorInfo) with otelkit's client side and the hand-written
// one (status.FromError, ErrorInfo reason -> definition, error.type on the
// client span). The server's work is in every side. Targets: success at
// most 1.03x otelgrpc, error at most 1.10x hand-written.
func BenchmarkGRPCClient(b *testing.B) {
	for _, c := range grpcClientCases {
		for _, impl := range c.impls {
			b.Run("case="+c.name+"/impl="+impl, func(b *testing.B) {
				tel := bench.NewTelemetry()
				b.Cleanup(func() { tel.Shutdown(context.Background()) })
				dial, target := grpcClientServer(b, tel)
				client := grpcClient(b, impl, dial, target, tel.Tracer, tel.Meter)
				req := &grpc_health_v1.HealthCheckRequest{Service: c.service}
				ctx := context.Background()
				_, err := client.Check(ctx, req)
				if c.service == grpcOK && err != nil || c.service != grpcOK && !errors.Is(err, grpcRateLimited) {
					b.Fatalf("%s %s: %v", impl, c.name, err)
				}
				run(b, func() { _, _ = client.Check(ctx, req) })
			})
		}
	}
}

// handClientStats is what a service writes by hand for error.type on the
// client span: around otelgrpc's client handler, when a call ends with an
// error, the ErrorInfo reason if it is registered, else the status code's
// name.
type handClientStats struct {
	stats.Handler
	reg *errorsx.Registry
}

func (h handClientStats) HandleRPC(ctx context.Context, rs stats.RPCStats) {
	if end, ok := rs.(*stats.End); ok && end.Client && end.Error != nil {
		if span := trace.SpanFromContext(ctx); span.IsRecording() {
			st, _ := status.FromError(end.Error)
			typ := grpcx.CodeName(st.Code())
			if def := handDefOf(st, h.reg); def != nil {
				typ = def.ID()
			}
			span.SetAttributes(semconv.ErrorTypeKey.String(typ))
		}
	}
	h.Handler.HandleRPC(ctx, rs)
}

// handDefOf returns the registered definition of a status's ErrorInfo
// reason, or nil.
func handDefOf(st *status.Status, reg *errorsx.Registry) *errorsx.Def {
	info := handErrorInfo(st)
	if info == nil {
		return nil
	}
	def, _ := reg.Lookup(info.GetReason())
	return def
}

func handErrorInfo(st *status.Status) *errdetails.ErrorInfo {
	for _, d := range st.Details() {
		if info, ok := d.(*errdetails.ErrorInfo); ok {
			return info
		}
	}
	return nil
}

// handClientDecode is the hand-written interceptor that turns a status
// whose ErrorInfo reason is registered into an error of that definition
// (errors.Is(err, def)), the ErrorInfo metadata readable as its public
// info, the status kept for grpc-go.
func handClientDecode(reg *errorsx.Registry) grpc.UnaryClientInterceptor {
	return func(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn, invoker grpc.UnaryInvoker, opts ...grpc.CallOption) error {
		err := invoker(ctx, method, req, reply, cc, opts...)
		if err == nil {
			return nil
		}
		st, ok := status.FromError(err)
		if !ok {
			return err
		}
		info := handErrorInfo(st)
		if info == nil {
			return err
		}
		def, ok := reg.Lookup(info.GetReason())
		if !ok {
			return err
		}
		return &handRemoteError{st: st, def: def, Info: info.GetMetadata()}
	}
}

// handRemoteError is a registered error answered by a server, as the
// hand-written client decodes it.
type handRemoteError struct {
	st   *status.Status
	def  *errorsx.Def
	Info map[string]string // the ErrorInfo metadata
}

func (e *handRemoteError) Error() string              { return e.st.Err().Error() }
func (e *handRemoteError) GRPCStatus() *status.Status { return e.st }
func (e *handRemoteError) Unwrap() error              { return e.def }

// publicInfo returns the public info a client reads from a decoded error:
// the hand-written one's metadata, or the *errorsx.Error's info.
func publicInfo(err error) map[string]any {
	got := map[string]any{}
	var he *handRemoteError
	if errors.As(err, &he) {
		for k, v := range he.Info {
			got[k] = v
		}
		return got
	}
	var oe *errorsx.Error
	if errors.As(err, &oe) {
		for _, f := range oe.Info() {
			got[f.Key] = f.Value
		}
	}
	return got
}

// TestGRPCClientSameWork: on each case of BenchmarkGRPCClient, every
// implementation ends the call with the same answer (nil, or an error for
// which errors.Is(err, def) holds, with the same code and public info) and
// the same client span (name, status, attributes).
func TestGRPCClientSameWork(t *testing.T) {
	for _, c := range grpcClientCases {
		t.Run(c.name, func(t *testing.T) {
			tel := bench.NewTelemetry()
			defer tel.Shutdown(context.Background())
			dial, target := grpcClientServer(t, tel)
			type result struct {
				code  grpccodes.Code
				info  map[string]any
				name  string
				state string
				attrs []attribute.KeyValue
			}
			var results []result
			for _, impl := range c.impls {
				spans := tracetestRecorder()
				client := grpcClient(t, impl, dial, target, spans.provider, tel.Meter)
				_, err := client.Check(context.Background(), &grpc_health_v1.HealthCheckRequest{Service: c.service})
				if c.service == grpcOK {
					if err != nil {
						t.Fatalf("%s: %v", impl, err)
					}
				} else if !errors.Is(err, grpcRateLimited) {
					t.Fatalf("%s: %v is not %v", impl, err, grpcRateLimited)
				}
				s := spans.only(t)
				results = append(results, result{status.Code(err), publicInfo(err), s.Name(), s.Status().Code.String() + " " + s.Status().Description, sortedAttrs(s.Attributes())})
			}
			t.Logf("%s: %v %v %q %q %v", c.impls[0], results[0].code, results[0].info, results[0].name, results[0].state, results[0].attrs)
			for i, r := range results[1:] {
				if r.code != results[0].code || r.name != results[0].name || r.state != results[0].state {
					t.Errorf("%s: %v %q %q, %s: %v %q %q", c.impls[0], results[0].code, results[0].name, results[0].state, c.impls[i+1], r.code, r.name, r.state)
				}
				if !equalAny(r.info, results[0].info) {
					t.Errorf("public info: %s %v, %s %v", c.impls[0], results[0].info, c.impls[i+1], r.info)
				}
				if !equalAttrs(r.attrs, results[0].attrs) {
					t.Errorf("client span attributes:\n%s: %v\n%s: %v", c.impls[0], results[0].attrs, c.impls[i+1], r.attrs)
				}
			}
			if c.service != grpcOK {
				if got := results[0].info["retry_after"]; got != "30" {
					t.Errorf("public info retry_after = %v, want \"30\"", got)
				}
				if !hasAttr(results[0].attrs, semconv.ErrorTypeKey.String(bench.RateLimitedID)) {
					t.Errorf("client span has no error.type %s: %v", bench.RateLimitedID, results[0].attrs)
				}
			}
		})
	}
}
