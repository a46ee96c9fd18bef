package grpcx

import (
	"context"

	"go.opentelemetry.io/otel/attribute"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"
	"google.golang.org/grpc"
	"google.golang.org/grpc/stats"
	"google.golang.org/grpc/status"

	"github.com/otelkit/otelkit/errorsx"
)

// UnaryClientInterceptor turns the error of a unary call into the
// registered error it stands for ([FromError] with the client's registry).
func UnaryClientInterceptor(opts ...Option) grpc.UnaryClientInterceptor {
	c := newConfig(opts)
	return func(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn, invoker grpc.UnaryInvoker, callOpts ...grpc.CallOption) error {
		return FromError(invoker(ctx, method, req, reply, cc, callOpts...), c.registry)
	}
}

// StreamClientInterceptor turns the errors of a stream (from creating it
// and from RecvMsg, SendMsg and CloseSend) into the registered errors they
// stand for; io.EOF is left alone.
func StreamClientInterceptor(opts ...Option) grpc.StreamClientInterceptor {
	c := newConfig(opts)
	return func(ctx context.Context, desc *grpc.StreamDesc, cc *grpc.ClientConn, method string, streamer grpc.Streamer, callOpts ...grpc.CallOption) (grpc.ClientStream, error) {
		s, err := streamer(ctx, desc, cc, method, callOpts...)
		if err != nil {
			return nil, FromError(err, c.registry)
		}
		return &clientStream{ClientStream: s, reg: c.registry}, nil
	}
}

type clientStream struct {
	grpc.ClientStream
	reg *errorsx.Registry
}

func (s *clientStream) RecvMsg(m any) error { return FromError(s.ClientStream.RecvMsg(m), s.reg) }
func (s *clientStream) SendMsg(m any) error { return FromError(s.ClientStream.SendMsg(m), s.reg) }
func (s *clientStream) CloseSend() error    { return FromError(s.ClientStream.CloseSend(), s.reg) }

// ClientHandler wraps a client stats handler (otelgrpc.NewClientHandler())
// so that the span it makes gets error.type when the call fails: the
// ErrorInfo reason when it is registered in the client's registry, else
// the canonical status code name (semconv rpc-spans: error.type "SHOULD be
// the status code" when nothing better is known).
func ClientHandler(next stats.Handler, opts ...Option) stats.Handler {
	return &clientHandler{Handler: next, cfg: newConfig(opts)}
}

type clientHandler struct {
	stats.Handler
	cfg *config
}

func (h *clientHandler) HandleRPC(ctx context.Context, rs stats.RPCStats) {
	if end, ok := rs.(*stats.End); ok && end.Client && end.Error != nil {
		if span := trace.SpanFromContext(ctx); span.IsRecording() {
			span.SetAttributes(errorType(end.Error, h.cfg.registry))
		}
	}
	h.Handler.HandleRPC(ctx, rs)
}

// errorType returns error.type for a failed call: the definition
// FromError would give (rpcstatus.Def reads the same ErrorInfo without
// making the occurrence), else the code's name.
func errorType(err error, reg *errorsx.Registry) attribute.KeyValue {
	if def := remoteDef(err, reg); def != nil {
		return semconv.ErrorTypeKey.String(def.ID())
	}
	st, _ := status.FromError(err)
	return semconv.ErrorTypeKey.String(CodeName(st.Code()))
}
