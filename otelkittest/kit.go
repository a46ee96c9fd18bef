package otelkittest

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"

	"go.opentelemetry.io/contrib/bridges/otelslog"
	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	otellog "go.opentelemetry.io/otel/log"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/propagation"
	sdklog "go.opentelemetry.io/otel/sdk/log"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/otelkit/otelkit/auditx"
	"github.com/otelkit/otelkit/internal/telctx"
	"github.com/otelkit/otelkit/otelbridge"
)

// Kit is one test's telemetry: SDK tracer, meter and logger providers that
// keep everything in memory, and the assertions that read it. Make one per
// test with [New]; its methods are safe for concurrent use.
type Kit struct {
	t testing.TB

	spans  *tracetest.SpanRecorder
	open   *openSpans
	tp     *sdktrace.TracerProvider
	reader *sdkmetric.ManualReader
	mp     *sdkmetric.MeterProvider
	logs   *logRecorder
	lp     *sdklog.LoggerProvider
	prov   *telctx.Providers

	mu        sync.Mutex
	responses []*Response
}

// New returns a Kit for t whose providers are shut down by t.Cleanup. It
// replaces no global provider, so tests that each have their own Kit may
// call t.Parallel.
//
// The tracer provider's spans go through [otelbridge.ErrorStatusProcessor],
// as with [otelbridge.Setup], so a 5xx span's status description is the
// error id.
func New(t testing.TB) *Kit {
	t.Helper()
	k := &Kit{t: t, spans: tracetest.NewSpanRecorder(), open: newOpenSpans(), reader: sdkmetric.NewManualReader(), logs: &logRecorder{}}
	// The SDK calls processors in registration order: k.open sees a span
	// end after k.spans has it.
	k.tp = sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(otelbridge.ErrorStatusProcessor(k.spans)),
		sdktrace.WithSpanProcessor(k.open))
	k.mp = sdkmetric.NewMeterProvider(sdkmetric.WithReader(k.reader))
	k.lp = sdklog.NewLoggerProvider(sdklog.WithProcessor(k.logs))
	k.prov = &telctx.Providers{Tracer: k.tp, Logger: k.lp}
	t.Cleanup(func() {
		ctx := context.Background()
		_ = k.tp.Shutdown(ctx)
		_ = k.mp.Shutdown(ctx)
		_ = k.lp.Shutdown(ctx)
	})
	return k
}

// TracerProvider returns the kit's tracer provider, for instrumentation
// that takes one as an option (otelhttp.WithTracerProvider, …).
func (k *Kit) TracerProvider() trace.TracerProvider { return k.tp }

// MeterProvider returns the kit's meter provider.
func (k *Kit) MeterProvider() metric.MeterProvider { return k.mp }

// LoggerProvider returns the kit's logger provider, for
// httpx.WithLoggerProvider, auditx.WithLoggerProvider and the like.
func (k *Kit) LoggerProvider() otellog.LoggerProvider { return k.lp }

// Slog returns a slog.Logger that writes to the kit's logger provider
// through contrib's otelslog bridge, as slog.Default() does after
// [otelbridge.Setup].
func (k *Kit) Slog() *slog.Logger {
	return otelslog.NewLogger("otelkittest", otelslog.WithLoggerProvider(k.lp))
}

// Context returns ctx carrying the kit's providers: otelkit's records made
// under it (exception records of httpx and otelbridge, audits of auditx,
// even through the default registry, spans of otelbridge.Track) go to the
// kit, whatever provider they were configured with. [Kit.Handler] and
// [Kit.Do] give every request such a context; use Context for code that
// runs outside a request, such as a job.
func (k *Kit) Context(ctx context.Context) context.Context {
	return telctx.NewContext(ctx, k.prov)
}

// spanSlot receives the server span of a request served by [Kit.Do].
type spanSlot struct{}

// Handler wraps h as a service does: otelhttp (with the kit's tracer and
// meter providers and W3C trace-context propagation) around h, and every
// request's context carrying the kit's providers (see [Kit.Context]). Pass
// the handler without the service's own otelhttp wrapper.
func (k *Kit) Handler(h http.Handler) http.Handler {
	inner := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if slot, ok := r.Context().Value(spanSlot{}).(*trace.SpanContext); ok {
			*slot = trace.SpanContextFromContext(r.Context())
		}
		r2 := r.WithContext(k.Context(r.Context()))
		h.ServeHTTP(w, r2)
		// otelhttp names the span and labels the metric with the route
		// pattern the ServeMux set on the request it was given.
		r.Pattern = r2.Pattern
	})
	return otelhttp.NewHandler(inner, "otelkittest",
		otelhttp.WithTracerProvider(k.tp),
		otelhttp.WithMeterProvider(k.mp),
		otelhttp.WithPropagators(propagation.TraceContext{}))
}

// Do serves req with h wrapped by [Kit.Handler] and returns the recorded
// response with the request's server span. A panic that escapes h (httpx
// re-panics http.ErrAbortHandler) reaches the caller.
func (k *Kit) Do(h http.Handler, req *http.Request) *Response {
	k.t.Helper()
	var sc trace.SpanContext
	req = req.WithContext(context.WithValue(req.Context(), spanSlot{}, &sc))
	rec := httptest.NewRecorder()
	k.Handler(h).ServeHTTP(rec, req)
	return k.keep(rec.Result(), sc)
}

// Response reads res, a response of a server running [Kit.Handler] (an
// httptest.Server, say), so the assertions can check it. Its span is found
// by the trace id of the request's traceparent header or, failing that,
// of the body's trace_id. Response reads the whole body first: the server
// ends the span when the handler returns, before it completes the
// response.
func (k *Kit) Response(res *http.Response) *Response {
	k.t.Helper()
	return k.keep(res, trace.SpanContext{})
}

func (k *Kit) keep(res *http.Response, sc trace.SpanContext) *Response {
	k.t.Helper()
	body, err := io.ReadAll(res.Body)
	_ = res.Body.Close()
	if err != nil {
		k.t.Fatalf("otelkittest: reading the response body: %v", err)
	}
	res.Body = io.NopCloser(bytes.NewReader(body))
	r := &Response{Response: res, body: body, span: sc}
	k.mu.Lock()
	k.responses = append(k.responses, r)
	k.mu.Unlock()
	return r
}

// Response is a response served through the kit, with its body kept.
type Response struct {
	*http.Response // Body reads the kept bytes once more

	body []byte
	span trace.SpanContext
}

// Text returns the body.
func (r *Response) Text() string { return string(r.body) }

// Spans returns the ended spans, oldest first.
func (k *Kit) Spans() []sdktrace.ReadOnlySpan { return k.spans.Ended() }

// SpanOf returns the server span of the request r answers, or nil when
// there is none (the span has not ended, or r came from elsewhere).
func (k *Kit) SpanOf(r *Response) sdktrace.ReadOnlySpan {
	want := r.span
	var traceID trace.TraceID
	if want.IsValid() {
		traceID = want.TraceID()
	} else {
		traceID = r.traceID()
	}
	if !traceID.IsValid() {
		return nil
	}
	for _, s := range slices.Backward(k.Spans()) {
		sc := s.SpanContext()
		if want.IsValid() && sc.SpanID() == want.SpanID() && sc.TraceID() == want.TraceID() {
			return s
		}
		if !want.IsValid() && sc.TraceID() == traceID && s.SpanKind() == trace.SpanKindServer {
			return s
		}
	}
	return nil
}

// traceID returns the trace id of the request's traceparent or of the
// body's trace_id.
func (r *Response) traceID() trace.TraceID {
	if r.Request != nil {
		sc := trace.SpanContextFromContext(propagation.TraceContext{}.Extract(context.Background(),
			propagation.HeaderCarrier(r.Request.Header)))
		if sc.IsValid() {
			return sc.TraceID()
		}
	}
	if b, err := decodeBody(r.body); err == nil && b.traceID != "" {
		if id, err := trace.TraceIDFromHex(b.traceID); err == nil {
			return id
		}
	}
	return trace.TraceID{}
}

// Logs returns every log record emitted through the kit's provider
// (application logs, exception records, audits), oldest first.
func (k *Kit) Logs() []sdklog.Record { return k.logs.records() }

// Audits returns the audit records (scope auditx.ScopeName), oldest first;
// given event types, only records of those types.
func (k *Kit) Audits(types ...string) []sdklog.Record {
	var out []sdklog.Record
	for _, r := range k.Logs() {
		if r.InstrumentationScope().Name != auditx.ScopeName {
			continue
		}
		if len(types) > 0 && !slices.Contains(types, r.EventName()) {
			continue
		}
		out = append(out, r)
	}
	return out
}

// Exceptions returns the exception log records (event name exception, or
// a convention's <operation>.exception such as
// http.server.request.exception), oldest first.
func (k *Kit) Exceptions() []sdklog.Record {
	var out []sdklog.Record
	for _, r := range k.Logs() {
		if isException(r.EventName()) {
			out = append(out, r)
		}
	}
	return out
}

func isException(name string) bool {
	return name == "exception" || strings.HasSuffix(name, ".exception")
}

// Metrics collects the kit's metrics: everything recorded so far
// (cumulative).
func (k *Kit) Metrics() metricdata.ResourceMetrics {
	k.t.Helper()
	var rm metricdata.ResourceMetrics
	if err := k.reader.Collect(context.Background(), &rm); err != nil {
		k.t.Fatalf("otelkittest: collecting metrics: %v", err)
	}
	return rm
}

// logRecorder is an in-memory sdklog.Processor keeping a clone of every
// record.
type logRecorder struct {
	mu   sync.Mutex
	recs []sdklog.Record
}

func (l *logRecorder) OnEmit(_ context.Context, r *sdklog.Record) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.recs = append(l.recs, r.Clone())
	return nil
}

func (l *logRecorder) Enabled(context.Context, sdklog.EnabledParameters) bool { return true }
func (l *logRecorder) Shutdown(context.Context) error                         { return nil }
func (l *logRecorder) ForceFlush(context.Context) error                       { return nil }

func (l *logRecorder) records() []sdklog.Record {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.recs)
}
