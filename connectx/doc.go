// Package connectx carries otelkit's registered errors over Connect
// (connectrpc.com/connect): the same [errorsx.Def] that gives an HTTP
// problem body through httpx and a gRPC status through grpcx gives a
// *connect.Error on the server and turns back into the same definition on
// the client, over all three protocols connect-go speaks (Connect, gRPC,
// gRPC-Web). It is a module of its own, so that a service without Connect
// does not get connect-go in its go.mod.
//
// # Server
//
// [NewInterceptor] gives a connect.Interceptor for handlers and clients. On
// a handler it resolves a returned error through the registry and answers
// a *connect.Error whose code comes from the definition's HTTP status
// ([Code], the table of grpcx.Code, overridable per definition with
// [WithCode]), whose message is the registered message (localized from the
// caller's Accept-Language header), and whose details carry
// google.rpc.ErrorInfo{reason: id, domain, metadata: public info, masked},
// BadRequest field violations for a joined error, RetryInfo when the info
// has retry_after (seconds), and LocalizedMessage when the message was
// translated: the same details as grpcx, built by the same code. A 5xx or
// unregistered error never carries its cause, type, detail or info. A panic
// is recovered and answered INTERNAL. An error that already is a
// *connect.Error and resolves to nothing passes through unchanged.
//
// # Telemetry
//
// The interceptor makes no span: otelconnect does. Give otelconnect's
// interceptor first (outermost) and this one after it, and give otelconnect
// [AttributeFilter] so that error.type follows otelkit's rules rather than
// being the code name of every error:
//
//	otel, _ := otelconnect.NewInterceptor(otelconnect.WithAttributeFilter(connectx.AttributeFilter))
//	connect.WithInterceptors(otel, connectx.NewInterceptor(connectx.WithRegistry(reg)))
//
// On a handler, a failure (5xx, unregistered, panic) sets status Error,
// error.type = id and writes an exception record named
// rpc.server.call.exception (semconv rpc-exceptions, severity ERROR); a
// 4xx leaves the status Unset and sets otelkit.error.id. The same keys go
// on otelconnect's duration metric through its Labeler. A *connect.Error
// passed through gets error.type = its code name ("ABORTED"). otelconnect
// marks server spans Error for UNKNOWN, DEADLINE_EXCEEDED, UNIMPLEMENTED,
// INTERNAL, UNAVAILABLE and DATA_LOSS, which agrees with otelkit's rule
// for every status of the table but 405 and 408 (UNIMPLEMENTED and
// DEADLINE_EXCEEDED, 4xx that otelconnect marks Error).
//
// # Client
//
// On a client, the interceptor turns a *connect.Error whose ErrorInfo reason
// is registered in the client's registry into an error of that definition
// ([FromError]): errors.Is(err, def) and errorsx.Resolve(err) == def hold,
// the public info is readable, and errors.As still finds the
// *connect.Error (connect.CodeOf works). An unknown reason, or an error
// without (or with malformed) details, is returned unchanged. The client
// span gets error.type: the registered reason, else the code name.
package connectx
