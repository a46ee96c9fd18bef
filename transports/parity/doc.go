// Package parity proves that one registered error answers the same over
// every transport otelkit serves: one table of errors ([Cases]) is served
// by real servers on 127.0.0.1 over net/http, chi, gin (ginx under
// otelgin), echo (echox under otelecho), gRPC (grpc-go under otelgrpc) and
// Connect (connectx under otelconnect; the Connect, gRPC and gRPC-Web
// protocols), and each answer is checked against the same rules: the id,
// the HTTP status or the gRPC code of the definition, the registered
// message, the public info masked, never the cause; the server span's
// status by otelkit's rule; under each exception signal
// (OTEL_SEMCONV_EXCEPTION_SIGNAL_OPT_IN unset, "logs", "logs/dup"), exactly
// one exception span event and/or SDK log record named for the transport
// for a failure and none for a 4xx; the server duration metric's
// error.type (failure) or otelkit.error.id (4xx) where the instrumentation
// lets otelkit label it (otelhttp, otelgin, otelconnect; not otelgrpc,
// not otelecho); and the client side of each transport
// (httpx.ResponseErr, grpcx.FromError, connectx.FromError) turning the answer back into the
// same definition (errors.Is).
//
// It is a module of its own so that the frameworks it serves through stay
// out of otelkit's go.mod. The package holds only the table; the servers
// and the checks are its tests.
package parity
