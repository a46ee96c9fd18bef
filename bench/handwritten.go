package bench

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"reflect"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	otellog "go.opentelemetry.io/otel/log"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"

	"github.com/otelkit/otelkit/mask"
)

// HandProblem is the RFC 9457 body the hand-written error path encodes with
// encoding/json: the same fields otelkit's ProblemJSON writes.
type HandProblem struct {
	Type     string         `json:"type"`
	Title    string         `json:"title"`
	Status   int            `json:"status"`
	ID       string         `json:"id"`
	Instance string         `json:"instance,omitempty"`
	Info     map[string]any `json:"info,omitempty"`
	TraceID  string         `json:"trace_id,omitempty"`
}

// HandError is what a team writes without otelkit to answer an error and
// record it the way otelkit does (semantic conventions v1.43.0): the
// problem+json body through encoding/json; for a 4xx otelkit.error.id on the
// span and on otelhttp's metrics through the labeler, nothing else; for a
// 5xx error.type on both, status Error and an http.server.request.exception
// record with exception.type, exception.message, exception.stacktrace and
// otelkit's keys, as a span event and/or a log record as
// OTEL_SEMCONV_EXCEPTION_SIGNAL_OPT_IN says. stack is the stack text of a
// 5xx ("" for 4xx).
func HandError(w http.ResponseWriter, r *http.Request, logger otellog.Logger,
	status int, id, title string, info map[string]any, err error, stack string,
) {
	HandRecord(r, logger, status, id, err, stack)
	if status >= 500 {
		info = nil // never shown for 5xx
	}
	p := HandProblem{
		Type:     "urn:otelkit:error:" + id,
		Title:    title,
		Status:   status,
		ID:       id,
		Instance: r.URL.Path,
		Info:     info,
	}
	if sc := trace.SpanContextFromContext(r.Context()); sc.IsValid() {
		p.TraceID = sc.TraceID().String()
	}
	h := w.Header()
	h.Set("Content-Type", "application/problem+json")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(&p)
}

// HandRecord is the recording half of [HandError]: the span, the labeler
// and, for 5xx, the exception record.
func HandRecord(r *http.Request, logger otellog.Logger, status int, id string, err error, stack string) {
	ctx := r.Context()
	span := trace.SpanFromContext(ctx)
	if status < 500 {
		kv := attribute.String("otelkit.error.id", id)
		if l, ok := otelhttp.LabelerFromContext(ctx); ok {
			l.Add(kv)
		}
		if span.IsRecording() {
			span.SetAttributes(kv)
		}
		return
	}
	if l, ok := otelhttp.LabelerFromContext(ctx); ok {
		l.Add(semconv.ErrorTypeKey.String(id))
	}
	msg := err.Error()
	typ := reflect.TypeOf(innermost(err)).String()
	now := time.Now()
	signal := os.Getenv("OTEL_SEMCONV_EXCEPTION_SIGNAL_OPT_IN")
	logs := signal == "logs" || signal == "logs/dup"
	events := signal != "logs"
	if span.IsRecording() {
		span.SetAttributes(semconv.ErrorTypeKey.String(id))
		span.SetStatus(codes.Error, id)
		if events {
			span.AddEvent("http.server.request.exception", trace.WithTimestamp(now), trace.WithAttributes(
				semconv.ExceptionType(typ),
				semconv.ExceptionMessage(msg),
				semconv.ExceptionStacktrace(stack),
				attribute.String("otelkit.error.id", id),
				attribute.String("otelkit.error.fingerprint", id),
				attribute.String("otelkit.capture.kind", "error"),
			))
		}
	} else {
		logs = true
	}
	if !logs {
		return
	}
	var rec otellog.Record
	rec.SetEventName("http.server.request.exception")
	rec.SetTimestamp(now)
	rec.SetObservedTimestamp(now)
	rec.SetSeverity(otellog.SeverityError)
	rec.SetSeverityText("ERROR")
	rec.SetBody(attribute.StringValue(msg))
	rec.AddAttributes(
		semconv.ExceptionType(typ),
		semconv.ExceptionMessage(msg),
		semconv.ExceptionStacktrace(stack),
		attribute.String("otelkit.error.id", id),
		attribute.String("otelkit.error.fingerprint", id),
		attribute.String("otelkit.capture.kind", "error"),
		semconv.HTTPResponseStatusCode(status),
		semconv.HTTPRoute(routeOf(r.Pattern)),
		semconv.HTTPRequestMethodKey.String(r.Method),
	)
	logger.Emit(ctx, rec)
}

func innermost(err error) error {
	for {
		next := errors.Unwrap(err)
		if next == nil {
			return err
		}
		err = next
	}
}

func routeOf(pattern string) string {
	if i := strings.IndexByte(pattern, ' '); i >= 0 {
		return pattern[i+1:]
	}
	return pattern
}

// HandStack returns the caller's stack in the format of a Go panic, as a
// hand-written 5xx path would record it.
func HandStack(skip int) string {
	var pcs [32]uintptr
	n := runtime.Callers(skip+2, pcs[:])
	var b strings.Builder
	frames := runtime.CallersFrames(pcs[:n])
	for {
		fr, more := frames.Next()
		b.WriteString(fr.Function)
		b.WriteString("()\n\t")
		b.WriteString(fr.File)
		b.WriteByte(':')
		b.WriteString(strconv.Itoa(fr.Line))
		b.WriteByte('\n')
		if !more {
			return b.String()
		}
	}
}

// HandRecover is the hand-written equivalent of httpx's panic recovery: it
// recovers, answers 500 with the problem body and records the panic like a
// 5xx (span status and event with the stack, an exception log record).
func HandRecover(next http.Handler, logger otellog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			v := recover()
			if v == nil {
				return
			}
			if v == http.ErrAbortHandler {
				panic(v)
			}
			err, ok := v.(error)
			if !ok {
				err = errors.New("panic: " + toString(v))
			}
			HandError(w, r, logger, http.StatusInternalServerError, "internal", "Internal server error", nil, err, HandStack(1))
		}()
		next.ServeHTTP(w, r)
	})
}

func toString(v any) string {
	if s, ok := v.(string); ok {
		return s
	}
	return "non-string panic value"
}

// HandAuditPrefix is the per-process prefix of hand-written record ids.
const HandAuditPrefix = "0123456789abcdef-"

// The audit the audit benchmarks emit.
const (
	AuditType     = "auth.login_failed"
	AuditTemplate = "User '{user}' failed to log in from {client_ip}"
	AuditUser     = "mallory"
	AuditIP       = "203.0.113.7"
	AuditPassword = "hunter2"
)

// AuditCtx returns a context with a sampled span context, as inside a
// traced request, so every implementation copies trace and span ids.
func AuditCtx() context.Context {
	sc := trace.NewSpanContext(trace.SpanContextConfig{
		TraceID:    trace.TraceID{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16},
		SpanID:     trace.SpanID{1, 2, 3, 4, 5, 6, 7, 8},
		TraceFlags: trace.FlagsSampled,
	})
	return trace.ContextWithSpanContext(context.Background(), sc)
}

var handSeq atomic.Uint64

// HandAudit is the hand-written log.Logger.Emit of the record auditx
// produces for the benchmarks' audit: event name, severity 13 "WARN", the
// rendered body, user, client_ip, the masked password,
// otelkit.audit.template and a unique otelkit.audit.record_id. It knows at
// compile time which key is sensitive and renders by concatenation (no
// escaping).
func HandAudit(ctx context.Context, logger otellog.Logger, user, ip, password string) {
	_ = password // masked: the value never leaves
	var idBuf [40]byte
	id := string(strconv.AppendUint(append(idBuf[:0], HandAuditPrefix...), handSeq.Add(1), 16))
	var rec otellog.Record
	rec.SetEventName(AuditType)
	rec.SetTimestamp(time.Now())
	rec.SetSeverity(otellog.SeverityWarn)
	rec.SetSeverityText("WARN")
	rec.SetBody(attribute.StringValue("User '" + user + "' failed to log in from " + ip))
	rec.AddAttributes(
		attribute.String("user", user),
		attribute.String("client_ip", ip),
		attribute.String("password", mask.Mask),
		attribute.String("otelkit.audit.template", AuditTemplate),
		attribute.String("otelkit.audit.record_id", id),
	)
	logger.Emit(ctx, rec)
}
