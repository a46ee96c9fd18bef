package otelkittest

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"go.opentelemetry.io/contrib/instrumentation/google.golang.org/grpc/otelgrpc"
	"go.opentelemetry.io/otel/propagation"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/otelkit/otelkit/errorsx"
	"github.com/otelkit/otelkit/grpcx"
)

// GRPCServerOptions returns the options that make a gRPC server record into
// the kit, as [Kit.Handler] does for HTTP: otelgrpc's server stats handler
// with the kit's tracer and meter providers (W3C trace-context
// propagation), and interceptors that give every call a context carrying
// the kit's providers. Put them before the service's own interceptors
// (grpcx's): the first chained interceptor is the outermost.
//
//	srv := grpc.NewServer(append(kit.GRPCServerOptions(),
//		grpc.ChainUnaryInterceptor(grpcx.UnaryServerInterceptor()))...)
func (k *Kit) GRPCServerOptions() []grpc.ServerOption {
	return []grpc.ServerOption{
		grpc.StatsHandler(otelgrpc.NewServerHandler(
			otelgrpc.WithTracerProvider(k.tp),
			otelgrpc.WithMeterProvider(k.mp),
			otelgrpc.WithPropagators(propagation.TraceContext{}))),
		grpc.ChainUnaryInterceptor(func(ctx context.Context, req any, _ *grpc.UnaryServerInfo, h grpc.UnaryHandler) (any, error) {
			return h(k.Context(ctx), req)
		}),
		grpc.ChainStreamInterceptor(func(srv any, ss grpc.ServerStream, _ *grpc.StreamServerInfo, h grpc.StreamHandler) error {
			return h(srv, kitStream{ServerStream: ss, ctx: k.Context(ss.Context())})
		}),
	}
}

type kitStream struct {
	grpc.ServerStream
	ctx context.Context
}

func (s kitStream) Context() context.Context { return s.ctx }

// GRPCCode expects the status code code instead of the one grpcx.Code gives
// for the definition's HTTP status (for a server configured with
// grpcx.WithCode). Only [Kit.AssertGRPCError] reads it.
func GRPCCode(code codes.Code) Check {
	return checkFunc(func(c *errorCheck) { c.code = &code })
}

// AssertGRPCError checks that err, returned by a gRPC call, is the status
// def answers through grpcx: the code grpcx.Code gives for def's HTTP
// status (or [GRPCCode]), a google.rpc.ErrorInfo detail whose reason is
// def's id, the [Info] given in its metadata (a string as it is, anything
// else as JSON, as grpcx writes them), no Go stack trace, and nothing of
// the [NoLeak] causes in the message or the details. err may also be what
// grpcx's client interceptor made of the status.
func (k *Kit) AssertGRPCError(err error, def *errorsx.Def, checks ...Check) bool {
	k.t.Helper()
	var c errorCheck
	for _, ch := range checks {
		ch.check(&c)
	}
	var d diff
	st, ok := status.FromError(err)
	if err == nil || !ok {
		d.add("got %v, want a gRPC status", err)
		return d.report(k.t, "gRPC error is not "+def.ID(), "")
	}
	want := grpcx.Code(def.Status())
	if c.code != nil {
		want = *c.code
	}
	d.field("code", st.Code(), want)
	var info *errdetails.ErrorInfo
	var text strings.Builder
	text.WriteString(st.Message())
	for _, det := range st.Details() {
		fmt.Fprintf(&text, "\n%v", det)
		if ei, ok := det.(*errdetails.ErrorInfo); ok && info == nil {
			info = ei
		}
	}
	if info == nil {
		d.add("details: no google.rpc.ErrorInfo")
	} else {
		d.field("ErrorInfo.reason", info.GetReason(), def.ID())
		for _, w := range c.info {
			got, ok := info.GetMetadata()[w.key]
			wantText, err := metadataText(w.value)
			switch {
			case err != nil:
				d.add("metadata %s: want value %#v cannot be encoded: %v", w.key, w.value, err)
			case !ok:
				d.add("metadata %s: missing, want %q", w.key, wantText)
			case got != wantText:
				d.add("metadata %s: got %q, want %q", w.key, got, wantText)
			}
		}
	}
	s := text.String()
	if m := stackRe.FindString(s); m != "" {
		d.add("leak: a Go stack trace (%q)", m)
	}
	for _, leak := range leaks(c.causes, def) {
		if strings.Contains(s, leak) {
			d.add("leak: %q", leak)
		}
	}
	return d.report(k.t, "gRPC error is not "+def.ID(), "status: "+st.Code().String()+" "+s)
}

func metadataText(v any) (string, error) {
	if s, ok := v.(string); ok {
		return s, nil
	}
	b, err := json.Marshal(v)
	return string(b), err
}

// RPCSpan returns the most recent server span (the last started) of the
// RPC fullMethod ("/pkg.Service/Method" or "pkg.Service/Method"), or nil.
// Server spans of that method that have started and not yet ended are
// waited for (up to 10 seconds): otelgrpc ends its span after the status
// went out, so a client may hold the answer before the span is recorded.
func (k *Kit) RPCSpan(fullMethod string) sdktrace.ReadOnlySpan {
	name := strings.TrimPrefix(fullMethod, "/")
	if !k.open.wait(name, rpcSpanWait) {
		k.t.Logf("otelkittest: a server span of %s is still open after %v", fullMethod, rpcSpanWait)
	}
	// Most recent by start: spans of calls made one after the other may
	// end in another order (each ends after its answer went out).
	var latest sdktrace.ReadOnlySpan
	for _, s := range slices.Backward(k.Spans()) {
		if s.SpanKind() == trace.SpanKindServer && s.Name() == name &&
			(latest == nil || s.StartTime().After(latest.StartTime())) {
			latest = s
		}
	}
	return latest
}

// AssertRPCSpan checks the most recent server span of the RPC fullMethod
// against otelkit's conventions for def (nil for a success), as
// [Kit.AssertRequestSpan] does for HTTP.
func (k *Kit) AssertRPCSpan(fullMethod string, def *errorsx.Def) bool {
	k.t.Helper()
	s := k.RPCSpan(fullMethod)
	if s == nil {
		k.t.Errorf("otelkittest: no server span for %s; spans: %s", fullMethod, spanNames(k.Spans()))
		return false
	}
	return k.checkSpan(s, def)
}
