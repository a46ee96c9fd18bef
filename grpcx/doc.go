// Package grpcx carries otelkit's registered errors over gRPC: the same
// [errorsx.Def] that gives an HTTP problem body through httpx gives a gRPC
// status on the server and turns back into the same definition on the
// client.
//
// # Server
//
// [UnaryServerInterceptor] and [StreamServerInterceptor] resolve a returned
// error through the registry and answer a status whose code comes from the
// definition's HTTP status ([Code], overridable per definition with
// [WithCode]), whose message is the registered message (localized from the
// caller's accept-language metadata), and whose details carry
// google.rpc.ErrorInfo{reason: id, domain, metadata: public info, masked},
// BadRequest field violations for a joined error, RetryInfo when the info
// has retry_after (seconds), and LocalizedMessage when the message was
// translated. A 5xx or unregistered error never carries its cause, type,
// detail or info. A panic is recovered and answered INTERNAL. An error that
// is already a gRPC status (status.Error) and resolves to nothing passes
// through unchanged.
//
// # Telemetry
//
// The interceptors make no span: otelgrpc's stats handler does
// (grpc.StatsHandler(otelgrpc.NewServerHandler())), and otelkit records on
// it through the same rules as httpx: a failure (5xx, unregistered, panic)
// sets status Error, error.type = id and writes an exception record named
// rpc.server.call.exception (semconv rpc-exceptions, severity ERROR); a 4xx
// leaves the status Unset and sets otelkit.error.id. otelgrpc's own status
// rule for servers (Error only for UNKNOWN, DEADLINE_EXCEEDED,
// UNIMPLEMENTED, INTERNAL, UNAVAILABLE, DATA_LOSS) agrees with it for every
// code of the default table.
//
// otelgrpc's metrics do not get otelkit.error.id: otelgrpc (v0.71, v0.72)
// has no labeler, and its WithMetricAttributesFn runs when the RPC begins,
// before the handler has returned an error. The id is on the span and the
// exception record; the metrics carry rpc.response.status_code (and
// error.type = the code name for a server failure).
//
// The handler's context carries the RPC's facts, as httpx's request
// context carries the request's: audits emitted inside the handler
// (package auditx) get rpc.system.name, rpc.method, client.address and
// user.id ([WithUser]), and errors captured there with otelbridge are
// named rpc.server.call.exception and resolve through [WithRegistry]'s
// registry.
//
// # Client
//
// [UnaryClientInterceptor] and [StreamClientInterceptor] turn a status whose
// ErrorInfo reason is registered in the client's registry into an
// *errorsx.Error of that definition ([FromError]): errors.Is(err, def) and
// errorsx.Resolve(err) == def hold, and the public info is readable. An
// unknown reason, or a status without (or with malformed) details, is
// returned unchanged. [ClientHandler] wraps otelgrpc's client stats handler
// so that the client span gets error.type.
package grpcx
