package connectx

import (
	"context"
	"errors"
	"io"
	"sync"

	"connectrpc.com/connect"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"

	"github.com/otelkit/otelkit/errorsx"
	"github.com/otelkit/otelkit/internal/rpcstatus"
)

// FromError turns err, as returned by a Connect client, into the
// registered error it stands for: when err is a *connect.Error whose
// details carry a google.rpc.ErrorInfo whose reason is registered in reg
// (errorsx.Default() when nil), an error that is still the *connect.Error
// for errors.As (connect.CodeOf, Details and Meta work as before) and that
// unwraps to the definition, or to an *errorsx.Error of it when the
// details carried more than the reason: the ErrorInfo metadata as public
// info (values as strings), the detail under [MetadataDetail], and the
// BadRequest field violations whose reasons are registered as joined
// entries. Otherwise (not a *connect.Error, no ErrorInfo, an unknown
// reason, malformed details) it returns err unchanged. It never panics and
// reads a bounded number of details and metadata entries.
func FromError(err error, reg *errorsx.Registry) error {
	if err == nil {
		return nil
	}
	ce, ok := err.(*connect.Error)
	if !ok || ce == nil {
		return err
	}
	if reg == nil {
		reg = errorsx.Default()
	}
	details := ce.Details()
	def, occ := rpcstatus.Parse(reg, len(details), func(i int) rpcstatus.Detail {
		return rpcstatus.Detail{Type: details[i].Type(), Value: details[i].Bytes()}
	})
	if def == nil {
		return err
	}
	return &remoteError{ce: ce, def: def, occ: occ}
}

// remoteError is a *connect.Error answered by a server for a registered
// definition. It is the *connect.Error for errors.As (and so for connect)
// and the definition (or its occurrence, with the public info) for
// errors.Is, As and the registry.
type remoteError struct {
	ce  *connect.Error
	def *errorsx.Def
	occ *errorsx.Error
}

func (e *remoteError) Error() string { return e.ce.Error() }

// Unwrap returns the occurrence, or the definition when the error carried
// nothing more than the reason.
func (e *remoteError) Unwrap() error {
	if e.occ != nil {
		return e.occ
	}
	return e.def
}

// As gives the *connect.Error as the server sent it.
func (e *remoteError) As(target any) bool {
	if p, ok := target.(**connect.Error); ok {
		*p = e.ce
		return true
	}
	return false
}

// clientError converts err and sets error.type on the client span (in
// ctx, made by otelconnect): the registered reason, else the code name
// (semconv rpc-spans: error.type "SHOULD be the status code" when nothing
// better is known).
func (c *config) clientError(ctx context.Context, err error) error {
	out := FromError(err, c.registry)
	if re, ok := out.(*remoteError); ok {
		errorType(ctx, semconv.ErrorTypeKey.String(re.def.ID()))
	} else {
		errorType(ctx, semconv.ErrorTypeKey.String(CodeName(connect.CodeOf(err))))
	}
	return out
}

// clientConn converts a streaming client's errors; error.type is set once,
// from the first error that is not io.EOF.
type clientConn struct {
	connect.StreamingClientConn
	ctx  context.Context
	cfg  *config
	once sync.Once
}

func (s *clientConn) convert(err error) error {
	if err == nil || errors.Is(err, io.EOF) {
		return err
	}
	var out error
	s.once.Do(func() { out = s.cfg.clientError(s.ctx, err) })
	if out == nil {
		out = FromError(err, s.cfg.registry)
	}
	return out
}

func (s *clientConn) Send(msg any) error    { return s.convert(s.StreamingClientConn.Send(msg)) }
func (s *clientConn) Receive(msg any) error { return s.convert(s.StreamingClientConn.Receive(msg)) }
func (s *clientConn) CloseRequest() error   { return s.convert(s.StreamingClientConn.CloseRequest()) }
func (s *clientConn) CloseResponse() error  { return s.convert(s.StreamingClientConn.CloseResponse()) }
