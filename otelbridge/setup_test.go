package otelbridge_test

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	otellog "go.opentelemetry.io/otel/log"
	sdklog "go.opentelemetry.io/otel/sdk/log"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/otelkit/otelkit/otelbridge"
)

// clearEnv makes the test independent of the machine's OTEL_* variables.
func clearEnv(t *testing.T) {
	for _, k := range []string{
		"OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
		"OTEL_EXPORTER_OTLP_METRICS_ENDPOINT", "OTEL_EXPORTER_OTLP_LOGS_ENDPOINT",
		"OTEL_TRACES_EXPORTER", "OTEL_METRICS_EXPORTER", "OTEL_LOGS_EXPORTER",
		"OTEL_SERVICE_NAME", "OTEL_RESOURCE_ATTRIBUTES", "OTEL_EXPORTER_OTLP_PROTOCOL",
	} {
		t.Setenv(k, "")
	}
}

// restoreGlobals puts back the global providers and slog default.
func restoreGlobals(t *testing.T) {
	tp, mp, lp, prop, sl := otel.GetTracerProvider(), otel.GetMeterProvider(), otel.GetLoggerProvider(), otel.GetTextMapPropagator(), slog.Default()
	t.Cleanup(func() {
		otel.SetTracerProvider(tp)
		otel.SetMeterProvider(mp)
		otel.SetLoggerProvider(lp)
		otel.SetTextMapPropagator(prop)
		slog.SetDefault(sl)
	})
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestSetupWithoutEndpointWritesReadableTelemetry(t *testing.T) {
	clearEnv(t)
	restoreGlobals(t)
	var out syncBuffer
	ctx := context.Background()
	shutdown, err := otelbridge.Setup(ctx, otelbridge.WithServiceName("setup-test"), otelbridge.WithWriter(&out))
	require.NoError(t, err)

	ctx, span := otel.Tracer("test").Start(ctx, "readable-span")
	slog.InfoContext(ctx, "hello from slog", "k", "v")
	span.End()
	require.NoError(t, shutdown(context.Background()))

	s := out.String()
	assert.Regexp(t, `\d span  readable-span `, s)
	assert.Contains(t, s, "setup-test")
	assert.Contains(t, s, "hello from slog")
	assert.Contains(t, s, span.SpanContext().TraceID().String(), "slog records carry the trace id")
}

func TestSetupEnvironmentWinsOverServiceName(t *testing.T) {
	clearEnv(t)
	restoreGlobals(t)
	t.Setenv("OTEL_SERVICE_NAME", "from-env")
	var out syncBuffer
	shutdown, err := otelbridge.Setup(context.Background(), otelbridge.WithServiceName("from-code"), otelbridge.WithWriter(&out), otelbridge.WithoutSlog())
	require.NoError(t, err)
	_, span := otel.Tracer("test").Start(context.Background(), "s")
	span.End()
	require.NoError(t, shutdown(context.Background()))
	assert.Contains(t, out.String(), "from-env")
	assert.NotContains(t, out.String(), "from-code")
}

func TestSetupRoutesAuditsToTheirOwnPipeline(t *testing.T) {
	clearEnv(t)
	restoreGlobals(t)
	var out syncBuffer
	auditSink := &logSink{}
	everything := &logSink{}
	shutdown, err := otelbridge.Setup(context.Background(),
		otelbridge.WithWriter(&out),
		otelbridge.WithoutSlog(),
		otelbridge.WithLogProcessor(everything),
		otelbridge.WithAuditProcessor(func(_ context.Context, exp sdklog.Exporter) (sdklog.Processor, error) {
			require.NotNil(t, exp)
			return auditSink, nil
		}))
	require.NoError(t, err)

	emit := func(scope, body string) {
		var r otellog.Record
		r.SetBody(attribute.StringValue(body))
		otel.GetLoggerProvider().Logger(scope).Emit(context.Background(), r)
	}
	emit(otelbridge.AuditScope, "an audit record")
	emit("app", "an application log")
	require.NoError(t, shutdown(context.Background()))

	audits := auditSink.records()
	require.Len(t, audits, 1)
	assert.Equal(t, "an audit record", audits[0].Body().AsString())
	assert.Contains(t, out.String(), "an application log")
	assert.NotContains(t, out.String(), "an audit record", "the app pipeline does not export audits")
	assert.Len(t, everything.records(), 2, "extra processors see everything")
}

func TestSetupInstallsPropagatorsAndSpanProcessors(t *testing.T) {
	clearEnv(t)
	restoreGlobals(t)
	rec := tracetest.NewSpanRecorder()
	shutdown, err := otelbridge.Setup(context.Background(), otelbridge.WithWriter(io.Discard), otelbridge.WithSpanProcessor(rec), otelbridge.WithoutSlog())
	require.NoError(t, err)
	defer shutdown(context.Background())

	fields := otel.GetTextMapPropagator().Fields()
	assert.Contains(t, fields, "traceparent")
	assert.Contains(t, fields, "baggage")
	_, span := otel.Tracer("test").Start(context.Background(), "recorded")
	span.End()
	require.Len(t, rec.Ended(), 1)
}

// TestSetupExportsOTLP points the real autoexport OTLP/HTTP exporters at a
// receiver in the test and checks that every signal arrives on shutdown.
func TestSetupExportsOTLP(t *testing.T) {
	clearEnv(t)
	restoreGlobals(t)
	var mu sync.Mutex
	paths := map[string]int{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		mu.Lock()
		paths[r.URL.Path]++
		mu.Unlock()
		w.Header().Set("Content-Type", "application/x-protobuf")
		w.WriteHeader(http.StatusOK)
	}))
	defer srv.Close()
	t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", srv.URL)
	t.Setenv("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf")

	var out syncBuffer
	shutdown, err := otelbridge.Setup(context.Background(), otelbridge.WithWriter(&out), otelbridge.WithoutSlog())
	require.NoError(t, err)
	ctx, span := otel.Tracer("test").Start(context.Background(), "exported")
	counter, _ := otel.Meter("test").Int64Counter("test.counter")
	counter.Add(ctx, 1)
	var r otellog.Record
	r.SetBody(attribute.StringValue("app log"))
	otel.GetLoggerProvider().Logger("app").Emit(ctx, r)
	var a otellog.Record
	a.SetBody(attribute.StringValue("audit"))
	otel.GetLoggerProvider().Logger(otelbridge.AuditScope).Emit(ctx, a)
	span.End()
	require.NoError(t, shutdown(context.Background()))

	mu.Lock()
	defer mu.Unlock()
	assert.GreaterOrEqual(t, paths["/v1/traces"], 1)
	assert.GreaterOrEqual(t, paths["/v1/metrics"], 1)
	assert.GreaterOrEqual(t, paths["/v1/logs"], 2, "app logs and audits use separate exporters")
	assert.Empty(t, strings.TrimSpace(out.String()), "nothing goes to the console when an endpoint is set")
}
