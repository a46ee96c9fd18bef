package connectx

import (
	"context"
	"net/http"

	"connectrpc.com/connect"

	"github.com/otelkit/otelkit/internal/record"
)

// Interceptor is a connect.Interceptor for handlers and clients; see the
// package documentation. Make it with [NewInterceptor].
type Interceptor struct {
	cfg *config
}

var _ connect.Interceptor = (*Interceptor)(nil)

// NewInterceptor returns an interceptor that answers handlers' errors with
// the *connect.Error of their registered definition and records them on
// otelconnect's span, and that turns the errors a client receives back
// into their definitions. Give it after otelconnect's interceptor in
// connect.WithInterceptors. It panics on an invalid [WithCode].
func NewInterceptor(opts ...Option) *Interceptor {
	return &Interceptor{cfg: newConfig(opts)}
}

// WrapUnary handles unary calls: on a handler, the returned error or a
// panic; on a client, the error received.
func (i *Interceptor) WrapUnary(next connect.UnaryFunc) connect.UnaryFunc {
	c := i.cfg
	return func(ctx context.Context, req connect.AnyRequest) (resp connect.AnyResponse, err error) {
		spec := req.Spec()
		if spec.IsClient {
			resp, err = next(ctx, req)
			if err != nil {
				return resp, c.clientError(ctx, err)
			}
			return resp, nil
		}
		ctx = c.rpcContext(ctx, spec.Procedure, req.Peer())
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				resp, err = nil, c.panicked(ctx, req.Header(), v, record.PanicStack())
			}
		}()
		resp, err = next(ctx, req)
		if err != nil {
			return nil, c.serverError(ctx, req.Header(), err)
		}
		return resp, nil
	}
}

// WrapStreamingHandler handles streaming handlers: the error they return
// (or a panic) ends the stream with its *connect.Error.
func (i *Interceptor) WrapStreamingHandler(next connect.StreamingHandlerFunc) connect.StreamingHandlerFunc {
	c := i.cfg
	return func(ctx context.Context, conn connect.StreamingHandlerConn) (err error) {
		ctx = c.rpcContext(ctx, conn.Spec().Procedure, conn.Peer())
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				err = c.panicked(ctx, conn.RequestHeader(), v, record.PanicStack())
			}
		}()
		if err = next(ctx, conn); err != nil {
			return c.serverError(ctx, conn.RequestHeader(), err)
		}
		return nil
	}
}

// WrapStreamingClient handles streaming clients: the errors of Send,
// Receive, CloseRequest and CloseResponse (io.EOF is left alone).
func (i *Interceptor) WrapStreamingClient(next connect.StreamingClientFunc) connect.StreamingClientFunc {
	c := i.cfg
	return func(ctx context.Context, spec connect.Spec) connect.StreamingClientConn {
		return &clientConn{StreamingClientConn: next(ctx, spec), ctx: ctx, cfg: c}
	}
}
