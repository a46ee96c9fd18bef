package record

import (
	"context"
	"slices"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	otellog "go.opentelemetry.io/otel/log"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"

	"github.com/otelkit/otelkit/internal/reqctx"
	"github.com/otelkit/otelkit/mask"
)

// Record records f: the span status, attributes and metric labels
// ([Span]) and the exception record ([Exception]). logger receives log
// records; p masks info, extras and extra (nil: mask.Default()).
func Record(ctx context.Context, logger otellog.Logger, p *mask.Policy, f *Failure, extra []attribute.KeyValue) {
	s := trace.SpanFromContext(ctx)
	if !f.hasException() {
		span(ctx, s, f) // a rendered 4xx: nothing more to write
		return
	}
	f.takeStack()
	span(ctx, s, f)
	exception(ctx, s, logger, p, f, extra)
}

// Span records f on the span in ctx and labels otelhttp's request metrics,
// without an exception record:
//
//   - a failure ([Failure.Failed]): status Error with the id as its
//     description, error.type = id on the span and the metrics;
//   - otherwise: otelkit.error.id = id on the span and the metrics, status
//     left Unset and no error.type (model/http/common.yaml: a request that
//     completed successfully SHOULD NOT carry error.type, and a 4xx is not
//     an error of the server by the span-status rules).
//
// The id is a bounded label: it comes from the registry, and every
// unregistered error resolves to "internal". A captured error labels no
// metric, since the request may well succeed.
//
// The status description repeats the id although the conventions
// discourage a description that only restates the status code: the id is
// not inferable from the code (many ids share 500), and it is what the
// trace views show without opening the span.
func Span(ctx context.Context, f *Failure) {
	span(ctx, trace.SpanFromContext(ctx), f)
}

// span records f on s, the span in ctx. SetAttributes and SetStatus do
// nothing on a span that is not recording; asking IsRecording first would
// cost the SDK's recording span a lock and an unlock more.
func span(ctx context.Context, s trace.Span, f *Failure) {
	if f.Kind == KindMessage {
		return
	}
	failed := f.Failed()
	kv := idAttr(f.Match.Def, failed)
	if l := labeler(ctx); l != nil && !f.Captured {
		l.Add(kv...)
	}
	if !failed && f.Captured {
		return // a 4xx captured on purpose says nothing about this span
	}
	s.SetAttributes(kv...)
	if failed {
		s.SetStatus(codes.Error, f.Match.Def.ID())
	}
}

// Exception writes f's exception record where f.Signal (or the process
// default) says: a span event on the span in ctx, a log record through
// logger, or both. Only failures and captured errors have one; a 4xx
// marked Report gets a log record at severity WARN and never a span event
// (it is not an exception of the span). Captured non-failures, messages and
// records where no span is recording always go out as log records.
func Exception(ctx context.Context, logger otellog.Logger, p *mask.Policy, f *Failure, extra []attribute.KeyValue) {
	f.takeStack()
	exception(ctx, trace.SpanFromContext(ctx), logger, p, f, extra)
}

// hasException reports whether f gets an exception record.
func (f *Failure) hasException() bool { return f.Failed() || f.Captured || f.Report }

func exception(ctx context.Context, s trace.Span, logger otellog.Logger, p *mask.Policy, f *Failure, extra []attribute.KeyValue) {
	if !f.hasException() {
		return
	}
	failed := f.Failed()
	if p == nil {
		p = mask.Default()
	}
	if f.when.IsZero() {
		f.when = time.Now()
	}
	sig := f.Signal.Resolve()
	recording := s.IsRecording()
	asEvent := failed && sig.spans() && recording && f.Kind != KindMessage
	asLog := sig.logs() || !asEvent
	if asEvent {
		spanEvent(ctx, s, p, f, extra)
	}
	if asLog && logger != nil {
		Log(ctx, logger, p, f, extra)
	}
}

// Name returns the event name of f's exception record.
func (f *Failure) Name(ctx context.Context) string {
	if f.EventName != "" {
		return f.EventName
	}
	if info, ok := reqctx.FromContext(ctx); ok {
		if info.RPC() {
			return EventRPCServerException
		}
		return EventHTTPServerException
	}
	return EventException
}

// commonAttrs appends the attributes a span event and a log record of f
// share: the exception.* of the conventions, then otelkit's.
func commonAttrs(kv []attribute.KeyValue, p *mask.Policy, f *Failure) []attribute.KeyValue {
	kv = append(kv,
		semconv.ExceptionType(f.typeName()),
		semconv.ExceptionMessage(f.message(p)),
	)
	if st := f.stackText(); st != "" {
		kv = append(kv, semconv.ExceptionStacktrace(st))
	}
	if f.Kind == KindMessage {
		// A message is not an error of the registry: no id, no status.
		kv = append(kv, KeyErrorID.String(KindMessage))
	} else {
		kv = append(kv, KeyErrorID.String(f.Match.Def.ID()))
	}
	kv = append(kv,
		KeyFingerprint.String(f.Fingerprint()),
		KeyCaptureKind.String(f.Kind),
	)
	return kv
}

// spanEvent adds f as an exception span event (exceptions-spans.md). It
// carries what the log record carries beyond the span's own attributes
// (fingerprint, info, extras), so that a reader of span events alone
// (errtrack's span processor) sees the same failure.
func spanEvent(ctx context.Context, s trace.Span, p *mask.Policy, f *Failure, extra []attribute.KeyValue) {
	var buf [16]attribute.KeyValue
	kv := commonAttrs(buf[:0], p, f)
	kv = appendDetail(ctx, kv, p, f, extra)
	// The option boxes the slice it is given, which therefore escapes: it
	// gets a copy the size of the attributes, and buf stays on the stack.
	s.AddEvent(f.Name(ctx), trace.WithAttributes(slices.Clone(kv)...), trace.WithTimestamp(f.when))
}

// appendDetail appends f's info, the context's extras and extra, masked.
func appendDetail(ctx context.Context, kv []attribute.KeyValue, p *mask.Policy, f *Failure, extra []attribute.KeyValue) []attribute.KeyValue {
	if occ := f.Match.Occurrence; occ != nil {
		for _, fld := range occ.Info() {
			kv = append(kv, InfoAttr(p, fld))
		}
	}
	for _, a := range reqctx.Extras(ctx) {
		kv = append(kv, p.Attr(a))
	}
	for _, a := range extra {
		kv = append(kv, p.Attr(a))
	}
	return kv
}

// Severity returns the severity of f's log record: ERROR for a failure
// (http.server.request.exception: "SHOULD set the severity to ERROR"), and
// for a captured message; WARN for anything else reported on purpose (a
// 4xx is never above WARN).
func (f *Failure) Severity() (otellog.Severity, string) {
	if f.Failed() || f.Kind == KindMessage {
		return otellog.SeverityError, "ERROR"
	}
	return otellog.SeverityWarn, "WARN"
}

// Log emits f as an exception log record through logger, whatever the
// signal (use [Record] or [Exception] to honour it): event name by
// [Failure.Name], severity by [Failure.Severity], trace-correlated through
// ctx. extra are added after the standard attributes; info, extras and
// extra are masked with p.
func Log(ctx context.Context, logger otellog.Logger, p *mask.Policy, f *Failure, extra []attribute.KeyValue) {
	f.takeStack() // a no-op when called through Record or Exception
	name := f.Name(ctx)
	sev, sevText := f.Severity()
	if !logger.Enabled(ctx, otellog.EnabledParameters{Severity: sev, EventName: name}) {
		return
	}
	if p == nil {
		p = mask.Default()
	}
	var rec otellog.Record
	rec.SetEventName(name)
	rec.SetSeverity(sev)
	rec.SetSeverityText(sevText)
	if f.when.IsZero() {
		f.when = time.Now()
	}
	rec.SetTimestamp(f.when)
	rec.SetObservedTimestamp(f.when)
	rec.SetBody(attribute.StringValue(f.message(p)))
	// One AddAttributes call: past its five inline attributes, a record
	// grows its overflow slice on every call.
	var buf [16]attribute.KeyValue
	kv := commonAttrs(buf[:0], p, f)
	if info, ok := reqctx.FromContext(ctx); ok {
		kv = appendRequest(kv, f, name, info)
	}
	kv = appendDetail(ctx, kv, p, f, extra)
	rec.AddAttributes(kv...)
	logger.Emit(ctx, rec)
}

// appendRequest appends what an exception log record says of the request
// or call it happened in.
func appendRequest(kv []attribute.KeyValue, f *Failure, name string, info reqctx.Info) []attribute.KeyValue {
	if f.Kind != KindMessage && name == EventHTTPServerException {
		// The status the request was (or would have been) answered with;
		// outside an HTTP request there is no response.
		kv = append(kv, semconv.HTTPResponseStatusCode(f.Match.Def.Status()))
	}
	if info.Route != "" {
		kv = append(kv, semconv.HTTPRoute(info.Route))
	}
	if info.Method != "" {
		kv = append(kv, semconv.HTTPRequestMethodKey.String(info.Method))
	}
	if info.RPC() {
		// rpc-exceptions.md: the call's rpc.system.name and rpc.method, and
		// the caller's client.address. rpc.response.status_code depends on
		// the transport's code table: the transport passes it in extra.
		kv = append(kv, semconv.RPCSystemNameKey.String(info.RPCSystem))
		if info.RPCMethod != "" {
			kv = append(kv, semconv.RPCMethod(info.RPCMethod))
		}
		if info.ClientAddress != "" {
			kv = append(kv, semconv.ClientAddress(info.ClientAddress))
		}
	}
	if info.UserID != "" {
		kv = append(kv, semconv.UserID(info.UserID))
	}
	return kv
}
