package grpcx

import (
	"context"
	"net"
	"strings"

	"go.opentelemetry.io/otel/attribute"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/peer"
	"google.golang.org/grpc/status"

	"github.com/otelkit/otelkit/errorsx"
	"github.com/otelkit/otelkit/internal/record"
	"github.com/otelkit/otelkit/internal/telctx"
)

// Event names of exception records in RPCs (semconv rpc/rpc-exceptions.md:
// "The event name MUST be rpc.server.call.exception", severity ERROR; the
// client's is rpc.client.call.exception).
const (
	EventServerException = "rpc.server.call.exception"
	EventClientException = "rpc.client.call.exception"
)

// UnaryServerInterceptor answers the errors of unary handlers with the
// status of their registered definition and records them on the RPC's span
// (made by otelgrpc's stats handler); see the package documentation.
func UnaryServerInterceptor(opts ...Option) grpc.UnaryServerInterceptor {
	c := newConfig(opts)
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (resp any, err error) {
		defer func() {
			if v := recover(); v != nil {
				resp, err = nil, c.panicked(ctx, info.FullMethod, v, record.PanicStack())
			}
		}()
		resp, err = handler(ctx, req)
		if err != nil {
			return nil, c.serverError(ctx, info.FullMethod, err)
		}
		return resp, nil
	}
}

// StreamServerInterceptor is [UnaryServerInterceptor] for streaming RPCs:
// the error the handler returns ends the stream with its status.
func StreamServerInterceptor(opts ...Option) grpc.StreamServerInterceptor {
	c := newConfig(opts)
	return func(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) (err error) {
		ctx := ss.Context()
		defer func() {
			if v := recover(); v != nil {
				err = c.panicked(ctx, info.FullMethod, v, record.PanicStack())
			}
		}()
		if err = handler(srv, ss); err != nil {
			return c.serverError(ctx, info.FullMethod, err)
		}
		return nil
	}
}

// serverError records err and returns the status it is answered with. An
// error that already is a gRPC status and resolves to nothing passes
// through unchanged (otelgrpc records its code).
func (c *config) serverError(ctx context.Context, method string, err error) error {
	m := c.registry.Match(err)
	if !m.Registered() {
		if _, ok := err.(interface{ GRPCStatus() *status.Status }); ok {
			return err
		}
	}
	f := record.Failure{Err: err, Match: m, Kind: record.KindError, Skip: 2}
	return c.fail(ctx, method, &f)
}

func (c *config) panicked(ctx context.Context, method string, v any, stack string) error {
	f := record.Failure{
		Err:   &record.PanicError{Value: v},
		Match: errorsx.Match{Def: errorsx.Internal},
		Kind:  record.KindPanic,
		Stack: stack,
	}
	return c.fail(ctx, method, &f)
}

func (c *config) fail(ctx context.Context, method string, f *record.Failure) error {
	f.Mask = c.mask
	f.Signal = c.signal
	f.EventName = EventServerException
	extra := c.rpcAttrs(ctx, method, c.code(f.Match.Def))
	record.Record(ctx, telctx.Logger(ctx, record.ScopeName, c.logger), c.mask, f, extra)
	return c.status(f.Match, acceptLanguage(ctx)).Err()
}

// rpcAttrs are the RPC's facts on the exception log record: rpc.method,
// rpc.response.status_code, client.address and user.id.
func (c *config) rpcAttrs(ctx context.Context, method string, code codes.Code) []attribute.KeyValue {
	kv := make([]attribute.KeyValue, 0, 5)
	kv = append(kv, semconv.RPCSystemNameGRPC, semconv.RPCMethod(strings.TrimPrefix(method, "/")),
		semconv.RPCResponseStatusCode(CodeName(code)))
	if p, ok := peer.FromContext(ctx); ok && p.Addr != nil {
		addr := p.Addr.String()
		if host, _, err := net.SplitHostPort(addr); err == nil {
			addr = host
		}
		kv = append(kv, semconv.ClientAddress(addr))
	}
	if c.user != nil {
		if u := c.user(ctx); u != "" {
			kv = append(kv, semconv.UserID(u))
		}
	}
	return kv
}
