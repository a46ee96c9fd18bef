package otelbridge_test

import (
	"context"
	"errors"
	"io"
	"runtime/debug"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel"
	sdklog "go.opentelemetry.io/otel/sdk/log"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/otelkit/otelkit/otelbridge"
)

// TestSetupServiceVersion: service.version comes from the main module's
// build info when nothing sets it, and the environment wins.
func TestSetupServiceVersion(t *testing.T) {
	bi, ok := debug.ReadBuildInfo()
	require.True(t, ok)
	for _, tt := range []struct {
		name, env, want string
	}{
		{"from build info", "", bi.Main.Version},
		{"environment wins", "service.version=1.2.3", "1.2.3"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			clearEnv(t)
			restoreGlobals(t)
			t.Setenv("OTEL_RESOURCE_ATTRIBUTES", tt.env)
			rec := tracetest.NewSpanRecorder()
			shutdown, err := otelbridge.Setup(context.Background(), otelbridge.WithWriter(io.Discard),
				otelbridge.WithoutSlog(), otelbridge.WithSpanProcessor(rec))
			require.NoError(t, err)
			_, span := otel.Tracer("test").Start(context.Background(), "s")
			span.End()
			require.NoError(t, shutdown(context.Background()))
			require.Len(t, rec.Ended(), 1)
			v, ok := rec.Ended()[0].Resource().Set().Value("service.version")
			require.True(t, ok, "service.version on the resource")
			require.NotEmpty(t, tt.want, "the test binary has a main module version")
			assert.Equal(t, tt.want, v.AsString())
		})
	}
}

// collectingProcessor is a log processor that is also a span processor
// (as errtrack's Tracker is): it keeps the names of exception records it
// receives either way.
type collectingProcessor struct {
	tracetest.SpanRecorder
	mu   sync.Mutex
	logs []string
}

func (p *collectingProcessor) OnEmit(_ context.Context, r *sdklog.Record) error {
	p.mu.Lock()
	p.logs = append(p.logs, r.EventName())
	p.mu.Unlock()
	return nil
}

func (p *collectingProcessor) Enabled(context.Context, sdklog.EnabledParameters) bool { return true }

// TestSetupExceptionSignal: WithExceptionSignal overrides
// OTEL_SEMCONV_EXCEPTION_SIGNAL_OPT_IN for RecordError, Capture and Track
// until shutdown; a log processor that is also a span processor is given
// both signals.
func TestSetupExceptionSignal(t *testing.T) {
	for _, tt := range []struct {
		name         string
		signal       otelbridge.ExceptionSignal
		events, logs int
	}{
		{"span events", otelbridge.ExceptionSpanEvents, 1, 0},
		{"logs", otelbridge.ExceptionLogs, 0, 1},
		{"logs and span events", otelbridge.ExceptionLogsAndSpanEvents, 1, 1},
	} {
		t.Run(tt.name, func(t *testing.T) {
			clearEnv(t)
			restoreGlobals(t)
			t.Setenv("OTEL_SEMCONV_EXCEPTION_SIGNAL_OPT_IN", "logs/dup") // overridden
			p := &collectingProcessor{}
			shutdown, err := otelbridge.Setup(context.Background(), otelbridge.WithWriter(io.Discard),
				otelbridge.WithoutSlog(), otelbridge.WithLogProcessor(p), otelbridge.WithExceptionSignal(tt.signal),
				otelbridge.WithSpanProcessor(p)) // given twice: registered once
			require.NoError(t, err)
			_ = otelbridge.Track(context.Background(), "job", func(context.Context) error { return errors.New("failed") })
			require.NoError(t, shutdown(context.Background()))

			require.Len(t, p.Ended(), 1, "the processor gets spans too, once")
			assert.Len(t, p.Ended()[0].Events(), tt.events)
			p.mu.Lock()
			defer p.mu.Unlock()
			assert.Len(t, p.logs, tt.logs)
			for _, name := range p.logs {
				assert.Equal(t, "exception", name)
			}
		})
	}
}
