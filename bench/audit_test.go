package bench_test

import (
	"context"
	"log/slog"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"go.opentelemetry.io/contrib/bridges/otelslog"
	"go.opentelemetry.io/otel/attribute"
	otellog "go.opentelemetry.io/otel/log"
	"go.opentelemetry.io/otel/trace"

	"github.com/otelkit/otelkit/auditx"
	"github.com/otelkit/otelkit/bench"
	"github.com/otelkit/otelkit/mask"
)

const (
	auditType     = "auth.login_failed"
	auditTemplate = "User '{user}' failed to log in from {client_ip}"
	auditUser     = "mallory"
	auditIP       = "203.0.113.7"
	auditPassword = "hunter2"
)

// auditCtx is a context with a sampled span context, as inside a traced
// request, so every implementation copies trace and span ids.
func auditCtx() context.Context {
	sc := trace.NewSpanContext(trace.SpanContextConfig{
		TraceID:    trace.TraceID{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16},
		SpanID:     trace.SpanID{1, 2, 3, 4, 5, 6, 7, 8},
		TraceFlags: trace.FlagsSampled,
	})
	return trace.ContextWithSpanContext(context.Background(), sc)
}

var handSeq atomic.Uint64

// handAudit is the hand-written log.Logger.Emit of the record auditx
// produces for LoginFailed: event name, severity 13 "WARN", the rendered
// body, user, client_ip, the masked password, otelkit.audit.template and a unique
// otelkit.audit.record_id. It knows at compile time which key is sensitive and
// renders by concatenation (no escaping).
func handAudit(ctx context.Context, logger otellog.Logger, user, ip, password string) {
	_ = password // masked: the value never leaves
	var idBuf [40]byte
	id := string(strconv.AppendUint(append(idBuf[:0], bench.HandAuditPrefix...), handSeq.Add(1), 16))
	var rec otellog.Record
	rec.SetEventName(auditType)
	rec.SetTimestamp(time.Now())
	rec.SetSeverity(otellog.SeverityWarn)
	rec.SetSeverityText("WARN")
	rec.SetBody(attribute.StringValue("User '" + user + "' failed to log in from " + ip))
	rec.AddAttributes(
		attribute.String("user", user),
		attribute.String("client_ip", ip),
		attribute.String("password", mask.Mask),
		attribute.String("otelkit.audit.template", auditTemplate),
		attribute.String("otelkit.audit.record_id", id),
	)
	logger.Emit(ctx, rec)
}

// slogAudit is the same record through log/slog and the otelslog bridge:
// the same body and attributes (slog has no event name).
func slogAudit(ctx context.Context, logger *slog.Logger, user, ip, password string) {
	_ = password
	var idBuf [40]byte
	id := string(strconv.AppendUint(append(idBuf[:0], bench.HandAuditPrefix...), handSeq.Add(1), 16))
	logger.LogAttrs(ctx, slog.LevelWarn, "User '"+user+"' failed to log in from "+ip,
		slog.String("user", user),
		slog.String("client_ip", ip),
		slog.String("password", mask.Mask),
		slog.String("otelkit.audit.template", auditTemplate),
		slog.String("otelkit.audit.record_id", id),
	)
}

// BenchmarkAuditEmit emits one LoginFailed record into an SDK logger
// provider whose processor drops: auditx's Event.Emit, the hand-written
// log.Logger.Emit of the same record, and slog through otelslog. The
// target: auditx at most 1.15x hand-written and faster than otelslog.
func BenchmarkAuditEmit(b *testing.B) {
	ctx := auditCtx()
	for _, impl := range []string{bench.ImplHandwritten, bench.ImplOtelkit, "otelslog"} {
		b.Run("impl="+impl, func(b *testing.B) {
			tel := bench.NewTelemetry()
			b.Cleanup(func() { tel.Shutdown(context.Background()) })
			var emit func()
			switch impl {
			case bench.ImplHandwritten:
				logger := tel.Logger.Logger(auditx.ScopeName)
				emit = func() { handAudit(ctx, logger, auditUser, auditIP, auditPassword) }
			case bench.ImplOtelkit:
				reg := auditx.NewRegistry(auditx.WithLoggerProvider(tel.Logger))
				ev := reg.Define(auditType, auditx.LevelWarn, auditTemplate)
				emit = func() {
					ev.Emit(ctx,
						attribute.String("user", auditUser),
						attribute.String("client_ip", auditIP),
						attribute.String("password", auditPassword))
				}
			default:
				logger := slog.New(otelslog.NewHandler(auditx.ScopeName, otelslog.WithLoggerProvider(tel.Logger)))
				emit = func() { slogAudit(ctx, logger, auditUser, auditIP, auditPassword) }
			}
			run(b, emit)
		})
	}
}
