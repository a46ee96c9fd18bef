// Package otelbridge connects otelkit to the OpenTelemetry SDK and records
// errors outside HTTP requests.
//
// # Setup
//
// [Setup] builds and installs the tracer, meter and logger providers from
// the standard OTEL_* environment variables (through contrib's autoexport),
// with resource detection and W3C trace-context and baggage propagation,
// and makes log/slog write OpenTelemetry log records (through contrib's
// otelslog bridge). With no endpoint configured it writes telemetry to
// stderr, one line per span, log record and metric ([WithConsole] and
// OTELKIT_CONSOLE=json give the SDK's full JSON instead). Go's log package
// keeps writing to stderr. It returns a function that flushes and shuts
// everything down and puts back what Setup replaced.
//
// Audit records (scope github.com/otelkit/otelkit/auditx) go through a
// pipeline of their own, apart from application logs: their own exporter
// behind the lossless processor of package auditx/delivery, which retries
// until the collector accepts them and, with [WithAuditSpool] or
// OTELKIT_AUDIT_SPOOL_DIR, writes them ahead to disk so that they survive an
// outage or a crash. The shutdown function reports the audits it could not
// deliver (a *delivery.UndeliveredError).
//
// # Recording and capturing errors
//
// [RecordError] records an error on the current span and metrics exactly as
// httpx does for a rendered error: a failure (5xx, unregistered) gets status
// Error, error.type and an exception record; a 4xx gets otelkit.error.id
// only. [Capture] reports an error on purpose (a 4xx as a log record at
// WARN), [CaptureMessage] a message, so that they reach errtrack's
// /dev/errors page and a backend. Exception records are span events, log
// records or both, as OTEL_SEMCONV_EXCEPTION_SIGNAL_OPT_IN or
// [WithExceptionSignal] says, named exception (http.server.request.exception
// inside an HTTP request); their exception.stacktrace is whole unless
// [WithStackFrames] (or a Recorder's [RecordWithStackFrames]) bounds or
// drops it. [WithExtras] attaches
// attributes to everything captured or audited under a context, and
// [Track] runs a job and captures its error or panic.
//
// Everything written is masked with the masking policy of package mask.
package otelbridge
