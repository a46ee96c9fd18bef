package grpcx

import (
	"context"
	"strings"

	"go.opentelemetry.io/otel/attribute"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/peer"
	"google.golang.org/grpc/status"

	"github.com/otelkit/otelkit/errorsx"
	"github.com/otelkit/otelkit/internal/byid"
	"github.com/otelkit/otelkit/internal/record"
	"github.com/otelkit/otelkit/internal/reqctx"
	"github.com/otelkit/otelkit/internal/rpcstatus"
	"github.com/otelkit/otelkit/internal/telctx"
)

// Event names of exception records in RPCs (semconv rpc/rpc-exceptions.md:
// "The event name MUST be rpc.server.call.exception", severity ERROR; the
// client's is rpc.client.call.exception).
const (
	EventServerException = rpcstatus.EventServerException
	EventClientException = rpcstatus.EventClientException
)

// UnaryServerInterceptor answers the errors of unary handlers with the
// status of their registered definition and records them on the RPC's span
// (made by otelgrpc's stats handler); see the package documentation.
func UnaryServerInterceptor(opts ...Option) grpc.UnaryServerInterceptor {
	c := newConfig(opts)
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (resp any, err error) {
		ctx = c.rpcContext(ctx, info.FullMethod)
		defer func() {
			if v := recover(); v != nil {
				resp, err = nil, c.panicked(ctx, v, record.PanicStack())
			}
		}()
		resp, err = handler(ctx, req)
		if err != nil {
			return nil, c.serverError(ctx, err)
		}
		return resp, nil
	}
}

// StreamServerInterceptor is [UnaryServerInterceptor] for streaming RPCs:
// the error the handler returns ends the stream with its status.
func StreamServerInterceptor(opts ...Option) grpc.StreamServerInterceptor {
	c := newConfig(opts)
	return func(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) (err error) {
		ctx := c.rpcContext(ss.Context(), info.FullMethod)
		defer func() {
			if v := recover(); v != nil {
				err = c.panicked(ctx, v, record.PanicStack())
			}
		}()
		if err = handler(srv, &serverStream{ServerStream: ss, ctx: ctx}); err != nil {
			return c.serverError(ctx, err)
		}
		return nil
	}
}

// serverError records err and returns the status it is answered with. An
// error that already is a gRPC status and resolves to nothing passes
// through unchanged (otelgrpc records its code).
func (c *config) serverError(ctx context.Context, err error) error {
	m, why := byid.Match(c.registry, err) // httpx.ErrorByID resolves as in httpx
	if !m.Registered() && why == nil {
		if _, ok := err.(interface{ GRPCStatus() *status.Status }); ok {
			return err
		}
	}
	if why != nil {
		err = why // telemetry says why the internal error was answered
	}
	f := record.Failure{Err: err, Match: m, Kind: record.KindError, Skip: 2}
	return c.fail(ctx, &f)
}

func (c *config) panicked(ctx context.Context, v any, stack string) error {
	f := record.Failure{
		Err:   &record.PanicError{Value: v},
		Match: errorsx.Match{Def: errorsx.Internal},
		Kind:  record.KindPanic,
		Stack: stack,
	}
	return c.fail(ctx, &f)
}

func (c *config) fail(ctx context.Context, f *record.Failure) error {
	f.Mask = c.mask
	f.Signal = c.signal
	f.Frames = c.frames
	f.EventName = EventServerException
	extra := c.rpcAttrs(c.code(f.Match.Def))
	record.Record(ctx, telctx.Logger(ctx, record.ScopeName, c.logger), c.mask, f, extra)
	return c.status(f.Match, acceptLanguage(ctx)).Err()
}

// rpcContext returns the handler's context: ctx carrying the RPC's facts
// (rpc.system.name, rpc.method, client.address, user.id) for the audits
// and exception records written inside it, as httpx does for HTTP.
func (c *config) rpcContext(ctx context.Context, method string) context.Context {
	return &reqctx.RPC{
		Context:  ctx,
		System:   systemGRPC,
		Method:   strings.TrimPrefix(method, "/"),
		PeerFunc: peerAddr,
		User:     c.user,
		Reg:      c.registry,
	}
}

// systemGRPC is rpc.system.name for gRPC (semconv v1.43.0).
var systemGRPC = semconv.RPCSystemNameGRPC.Value.AsString()

// peerAddr returns the caller's address as grpc-go records it.
func peerAddr(ctx context.Context) string {
	if p, ok := peer.FromContext(ctx); ok && p.Addr != nil {
		return p.Addr.String()
	}
	return ""
}

// serverStream is a stream whose context is the RPC's.
type serverStream struct {
	grpc.ServerStream
	ctx context.Context
}

func (s *serverStream) Context() context.Context { return s.ctx }

// rpcAttrs are what the exception log record carries beyond the RPC's
// facts from the context (internal/record adds rpc.system.name, rpc.method,
// client.address and user.id): rpc.response.status_code, by this
// interceptor's code table.
func (c *config) rpcAttrs(code codes.Code) []attribute.KeyValue {
	return []attribute.KeyValue{semconv.RPCResponseStatusCode(CodeName(code))}
}
