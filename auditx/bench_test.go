package auditx_test

import (
	"context"
	"log/slog"
	"runtime"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"go.opentelemetry.io/contrib/bridges/otelslog"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/log"
	"go.opentelemetry.io/otel/log/embedded"
	sdklog "go.opentelemetry.io/otel/sdk/log"

	"github.com/otelkit/otelkit/auditx"
	"github.com/otelkit/otelkit/internal/reqctx"
)

// dropProcessor accepts every record and keeps none, so that benchmarks
// and allocation budgets measure the emitting side and the SDK's record
// building only.
type dropProcessor struct{}

var _ sdklog.Processor = dropProcessor{}

func (dropProcessor) Enabled(context.Context, sdklog.EnabledParameters) bool { return true }
func (dropProcessor) OnEmit(context.Context, *sdklog.Record) error           { return nil }
func (dropProcessor) Shutdown(context.Context) error                         { return nil }
func (dropProcessor) ForceFlush(context.Context) error                       { return nil }

func dropProvider(tb testing.TB) *sdklog.LoggerProvider {
	lp := sdklog.NewLoggerProvider(sdklog.WithProcessor(dropProcessor{}))
	tb.Cleanup(func() { _ = lp.Shutdown(context.Background()) })
	return lp
}

var benchInfo = reqctx.Info{Route: "/login", Method: "POST", ClientAddress: "192.0.2.1", UserID: "u-42"}

// discardLogger is enabled and keeps nothing: with it an allocation count
// is auditx's own.
type discardLogger struct{ embedded.Logger }

func (discardLogger) Emit(context.Context, log.Record)                    {}
func (discardLogger) Enabled(context.Context, log.EnabledParameters) bool { return true }

type discardProvider struct{ embedded.LoggerProvider }

func (discardProvider) Logger(string, ...log.LoggerOption) log.Logger { return discardLogger{} }

// Allocation budgets of Emit. auditx's own share is the body and record id
// (one allocation, shared) plus, for a record of more than five attributes,
// the log.Record's overflow slice. With the SDK and a processor that drops
// the record, the SDK adds its sdklog.Record and, past five attributes, the
// growth of its own overflow slice (three allocations for eight
// attributes); the hand-written equivalent in BenchmarkEmit needs two more.
func TestEmitAllocs(t *testing.T) {
	if raceEnabled || testing.Short() {
		t.Skip("allocation counts are measured without -race and -short")
	}
	user, ip := attribute.String("user", "alice"), attribute.String("client_ip", "10.0.0.7")
	reqCtx := inRequest(benchInfo)
	for _, p := range []struct {
		name     string
		provider log.LoggerProvider
		budgets  [3]float64 // event, by name, in a request
	}{
		{"auditx only", discardProvider{}, [3]float64{1, 1, 2}},
		{"sdk with drop processor", dropProvider(t), [3]float64{2, 2, 6}},
	} {
		reg := auditx.NewRegistry(auditx.WithLoggerProvider(p.provider), auditx.WithErrorHandler(&errSink{}))
		ev := reg.Define("auth.login_failed", auditx.LevelWarn, loginTemplate)
		tests := []struct {
			name   string
			budget float64
			emit   func()
		}{
			{"event, four attributes", p.budgets[0], func() { ev.Emit(context.Background(), user, ip) }},
			{"by name, four attributes", p.budgets[1], func() { reg.Emit(context.Background(), "auth.login_failed", user, ip) }},
			{"in a request, eight attributes", p.budgets[2], func() { ev.Emit(reqCtx, ip) }},
		}
		for _, tt := range tests {
			t.Run(p.name+"/"+tt.name, func(t *testing.T) {
				got := testing.AllocsPerRun(200, tt.emit)
				assert.LessOrEqual(t, got, tt.budget)
				t.Logf("%v allocs/op (budget %v)", got, tt.budget)
			})
		}
	}
}

// BenchmarkEmit compares Event.Emit with a hand-written log.Logger.Emit of
// the same record and with log/slog through the otelslog bridge, all on the
// SDK with a dropping processor. Besides wall time it reports cpu-ns/op,
// the CPU time of the benchmarking thread, which other processes on a
// shared machine do not inflate.
//
//	go test -run '^$' -bench BenchmarkEmit -benchmem ./auditx/
func BenchmarkEmit(b *testing.B) {
	lp := dropProvider(b)
	reg := auditx.NewRegistry(auditx.WithLoggerProvider(lp), auditx.WithErrorHandler(&errSink{}))
	ev := reg.Define("auth.login_failed", auditx.LevelWarn, loginTemplate)
	logger := lp.Logger(auditx.ScopeName)
	slogger := otelslog.NewLogger(auditx.ScopeName, otelslog.WithLoggerProvider(lp))
	user, ip := "alice", "10.0.0.7"

	for _, ctxCase := range []struct {
		name string
		ctx  context.Context
	}{
		{"plain", context.Background()},
		{"request", inRequest(benchInfo)},
	} {
		ctx := ctxCase.ctx
		var seq atomic.Uint64
		for _, bc := range []struct {
			name string
			emit func()
		}{
			{"auditx", func() { ev.Emit(ctx, attribute.String("user", user), attribute.String("client_ip", ip)) }},
			{"auditx-by-name", func() {
				reg.Emit(ctx, "auth.login_failed", attribute.String("user", user), attribute.String("client_ip", ip))
			}},
			{"handwritten", func() { handwritten(ctx, logger, &seq, user, ip) }},
			{"slog-otelslog", func() { slogged(ctx, slogger, &seq, user, ip) }},
		} {
			b.Run(ctxCase.name+"/"+bc.name, func(b *testing.B) {
				b.ReportAllocs()
				runtime.LockOSThread()
				defer runtime.UnlockOSThread()
				start, ok := threadCPU()
				for b.Loop() {
					bc.emit()
				}
				if end, ok2 := threadCPU(); ok && ok2 {
					b.ReportMetric(float64(end-start)/float64(b.N), "cpu-ns/op")
				}
			})
		}
	}
}

// slogged logs the same record through log/slog and the otelslog bridge.
func slogged(ctx context.Context, logger *slog.Logger, seq *atomic.Uint64, user, ip string) {
	var buf [8]slog.Attr
	attrs := append(buf[:0],
		slog.String("user", user), slog.String("client_ip", ip),
		slog.String("otelkit.audit.template", loginTemplate),
		slog.String("otelkit.audit.record_id", "0123456789abcdef-"+strconv.FormatUint(seq.Add(1)+1<<20, 16)))
	if info, ok := reqctx.FromContext(ctx); ok {
		attrs = append(attrs,
			slog.String("http.route", info.Route), slog.String("http.request.method", info.Method),
			slog.String("client.address", info.ClientAddress), slog.String("user.id", info.UserID))
	}
	logger.LogAttrs(ctx, slog.LevelWarn, "User '"+user+"' failed to log in from "+ip, attrs...)
}

// handwritten emits the record auditx emits for LoginFailed, written out by
// hand as a careful caller would: the body concatenated, the attributes
// typed, the request information read from the context.
func handwritten(ctx context.Context, logger log.Logger, seq *atomic.Uint64, user, ip string) {
	var rec log.Record
	rec.SetEventName("auth.login_failed")
	rec.SetTimestamp(time.Now())
	rec.SetSeverity(log.SeverityWarn)
	rec.SetSeverityText("WARN")
	rec.SetBody(attribute.StringValue("User '" + user + "' failed to log in from " + ip))
	rec.AddAttributes(
		attribute.String("user", user),
		attribute.String("client_ip", ip),
		attribute.String("otelkit.audit.template", loginTemplate),
		attribute.String("otelkit.audit.record_id", "0123456789abcdef-"+strconv.FormatUint(seq.Add(1)+1<<20, 16)))
	if info, ok := reqctx.FromContext(ctx); ok {
		rec.AddAttributes(
			attribute.String("http.route", info.Route),
			attribute.String("http.request.method", info.Method),
			attribute.String("client.address", info.ClientAddress),
			attribute.String("user.id", info.UserID))
	}
	logger.Emit(ctx, rec)
}
