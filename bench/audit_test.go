package bench_test

import (
	"context"
	"log/slog"
	"strconv"
	"sync/atomic"
	"testing"

	"go.opentelemetry.io/contrib/bridges/otelslog"
	"go.opentelemetry.io/otel/attribute"
	otellog "go.opentelemetry.io/otel/log"

	"github.com/otelkit/otelkit/auditx"
	"github.com/otelkit/otelkit/bench"
	"github.com/otelkit/otelkit/mask"
)

const (
	auditType     = bench.AuditType
	auditTemplate = bench.AuditTemplate
	auditUser     = bench.AuditUser
	auditIP       = bench.AuditIP
	auditPassword = bench.AuditPassword
)

func auditCtx() context.Context { return bench.AuditCtx() }

var handSeq atomic.Uint64

func handAudit(ctx context.Context, logger otellog.Logger, user, ip, password string) {
	bench.HandAudit(ctx, logger, user, ip, password)
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
