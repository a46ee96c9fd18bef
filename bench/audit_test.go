package bench_test

import (
	"context"
	"log/slog"
	"strconv"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/contrib/bridges/otelslog"
	"go.opentelemetry.io/otel/attribute"
	otellog "go.opentelemetry.io/otel/log"
	sdklog "go.opentelemetry.io/otel/sdk/log"

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
// target: auditx at most 1.10x hand-written (issue 16) and faster than
// otelslog.
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

// keepLogs is a log processor that keeps a clone of every record.
type keepLogs struct{ recs []sdklog.Record }

func (k *keepLogs) OnEmit(_ context.Context, r *sdklog.Record) error {
	k.recs = append(k.recs, r.Clone())
	return nil
}
func (*keepLogs) Enabled(context.Context, sdklog.EnabledParameters) bool { return true }
func (*keepLogs) Shutdown(context.Context) error                         { return nil }
func (*keepLogs) ForceFlush(context.Context) error                       { return nil }

// auditRecord is what a test compares of an audit record: everything the
// SDK record holds but the timestamps and the record id's value.
type auditRecord struct {
	Scope, EventName, SeverityText, Body string
	Severity                             otellog.Severity
	TraceID, SpanID                      string
	Attrs                                []attribute.KeyValue
	Dropped                              int
}

func keptAudit(t *testing.T, emit func(ctx context.Context, p *sdklog.LoggerProvider)) (auditRecord, string) {
	t.Helper()
	keep := &keepLogs{}
	p := sdklog.NewLoggerProvider(sdklog.WithProcessor(keep))
	t.Cleanup(func() { _ = p.Shutdown(context.Background()) })
	emit(auditCtx(), p)
	require.Len(t, keep.recs, 1)
	r := keep.recs[0]
	got := auditRecord{
		Scope: r.InstrumentationScope().Name, EventName: r.EventName(), SeverityText: r.SeverityText(),
		Body: r.Body().AsString(), Severity: r.Severity(),
		TraceID: r.TraceID().String(), SpanID: r.SpanID().String(), Dropped: r.DroppedAttributes(),
	}
	assert.False(t, r.Timestamp().IsZero(), "timestamp")
	var id string
	r.WalkAttributes(func(kv attribute.KeyValue) bool {
		if kv.Key == auditx.KeyRecordID {
			id = kv.Value.AsString()
			kv.Value = attribute.StringValue("<id>")
		}
		got.Attrs = append(got.Attrs, kv)
		return true
	})
	return got, id
}

// TestAuditSameRecord checks that the hand-written audit emits the record
// auditx emits for the benchmark's event (same fields, same attributes in
// the same order, record ids aside), so that BenchmarkAuditEmit compares
// equal work for the SDK.
func TestAuditSameRecord(t *testing.T) {
	kit, kitID := keptAudit(t, func(ctx context.Context, p *sdklog.LoggerProvider) {
		reg := auditx.NewRegistry(auditx.WithLoggerProvider(p))
		ev := reg.Define(auditType, auditx.LevelWarn, auditTemplate)
		require.NoError(t, ev.Emit(ctx,
			attribute.String("user", auditUser),
			attribute.String("client_ip", auditIP),
			attribute.String("password", auditPassword)))
	})
	hand, handID := keptAudit(t, func(ctx context.Context, p *sdklog.LoggerProvider) {
		bench.HandAudit(ctx, p.Logger(auditx.ScopeName), auditUser, auditIP, auditPassword)
	})
	assert.Equal(t, kit, hand)
	assert.Len(t, kit.Attrs, 5)
	assert.Equal(t, "User 'mallory' failed to log in from 203.0.113.7", kit.Body)
	assert.Regexp(t, `^[0-9a-f]{16}-[0-9a-f]+$`, kitID)
	assert.Regexp(t, `^[0-9a-f]{16}-[0-9a-f]+$`, handID)
}
