package otelbridge_test

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	otellog "go.opentelemetry.io/otel/log"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/trace"

	"github.com/otelkit/otelkit/otelbridge"
)

// emitAll makes one span with an event, one slog record in it, one audit
// record and one counter increment through the globals Setup installed.
func emitAll(t *testing.T) (traceID string) {
	t.Helper()
	ctx, span := otel.Tracer("test").Start(context.Background(), "GET /users/{id}")
	span.SetAttributes(attribute.String("http.route", "/users/{id}"), attribute.Int("http.response.status_code", 503),
		attribute.String("server.address", "127.0.0.1"), attribute.String("user_agent.original", "curl/8"))
	span.AddEvent("exception", exceptionAttrs())
	span.SetStatus(codes.Error, "storage.unavailable")
	slog.InfoContext(ctx, "user loaded", "user.id", "ada")
	var a otellog.Record
	a.SetEventName("auth.login_failed")
	a.SetSeverity(otellog.SeverityWarn)
	a.SetSeverityText("WARN")
	a.SetBody(attribute.StringValue("User 'mallory' failed to log in"))
	a.AddAttributes(attribute.String("user", "mallory"), attribute.String("otelkit.audit.template", "User '{user}' failed to log in"))
	otel.GetLoggerProvider().Logger(otelbridge.AuditScope).Emit(ctx, a)
	c, err := otel.Meter("test").Int64Counter("test.requests", metricUnit("{request}"))
	require.NoError(t, err)
	c.Add(ctx, 2)
	c.Add(ctx, 1)
	span.End()
	return span.SpanContext().TraceID().String()
}

func TestConsoleLinesByDefault(t *testing.T) {
	clearEnv(t)
	restoreGlobals(t)
	var out syncBuffer
	shutdown, err := otelbridge.Setup(context.Background(), otelbridge.WithServiceName("console-test"), otelbridge.WithWriter(&out))
	require.NoError(t, err)
	traceID := emitAll(t)
	require.NoError(t, shutdown(context.Background()))

	lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	assert.Equal(t, "otelkit: service.name=console-test: no OTLP endpoint set (OTEL_EXPORTER_OTLP_ENDPOINT), telemetry follows, "+
		"one line per span, log record and metric; OTELKIT_CONSOLE=json for the full dump, =off for none", lines[0])
	// A span, a log, an audit, and a metric line each for test.requests and
	// the audit pipeline's emitted and delivered counters.
	assert.Len(t, lines, 1+3+3, out.String())
	find := func(kind string) string {
		t.Helper()
		for _, l := range lines {
			if strings.HasPrefix(l[min(len(l), 13):], kind+" test.requests") || kind != "metric" && strings.HasPrefix(l[min(len(l), 13):], kind) {
				return l
			}
		}
		t.Fatalf("no %q line in:\n%s", kind, out.String())
		return ""
	}
	ts := `^\d\d:\d\d:\d\d\.\d{3} `
	assert.Regexp(t, ts+`span  "GET /users/\{id\}" [0-9.]+(µs|ms|ns|s) status=Error\(storage.unavailable\) trace=`+traceID+
		` span=[0-9a-f]{16} http.response.status_code=503 http.route=/users/\{id\} \| event exception error.id=storage.unavailable exception.message="load order: dial tcp" exception.type=\*errors.errorString$`,
		find("span"))
	assert.Regexp(t, ts+`log   INFO "user loaded" trace=`+traceID+` span=[0-9a-f]{16} user.id=ada$`, find("log"))
	assert.Regexp(t, ts+`audit WARN auth.login_failed "User 'mallory' failed to log in" trace=`+traceID+` span=[0-9a-f]{16} user=mallory$`, find("audit"))
	assert.Regexp(t, ts+`metric test.requests \(\{request\}\) counter total=3 series=1$`, find("metric"))
	assert.NotContains(t, out.String(), "server.address", "connection attributes are left out")
	assert.NotContains(t, out.String(), "exception.stacktrace")
	assert.Equal(t, 1, strings.Count(out.String(), "console-test"), "the resource is not repeated on every line")
}

func TestConsoleJSONByOptionAndEnvironment(t *testing.T) {
	for _, tt := range []struct {
		name string
		env  string
		opts []otelbridge.Option
	}{
		{"option", "", []otelbridge.Option{otelbridge.WithConsole(otelbridge.ConsoleJSON)}},
		{"environment wins", "json", []otelbridge.Option{otelbridge.WithConsole(otelbridge.ConsoleOff)}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			clearEnv(t)
			restoreGlobals(t)
			t.Setenv("OTELKIT_CONSOLE", tt.env)
			var out syncBuffer
			shutdown, err := otelbridge.Setup(context.Background(),
				append(tt.opts, otelbridge.WithServiceName("console-test"), otelbridge.WithWriter(&out))...)
			require.NoError(t, err)
			emitAll(t)
			require.NoError(t, shutdown(context.Background()))
			s := out.String()
			assert.Contains(t, s, `"Name": "GET /users/{id}"`)
			assert.Contains(t, s, `"Value": "console-test"`, "the resource is in the dump")
			assert.Contains(t, s, `"server.address"`)
			assert.Contains(t, s, `"Name": "test.requests"`)
			assert.Contains(t, s, "User 'mallory' failed to log in")
			assert.Greater(t, strings.Count(s, "\n"), 100, "the full dump")
		})
	}
}

func TestConsoleOff(t *testing.T) {
	clearEnv(t)
	restoreGlobals(t)
	t.Setenv("OTELKIT_CONSOLE", "off")
	var out syncBuffer
	shutdown, err := otelbridge.Setup(context.Background(), otelbridge.WithWriter(&out))
	require.NoError(t, err)
	emitAll(t)
	require.NoError(t, shutdown(context.Background()))
	assert.Empty(t, out.String())
}

func TestConsoleBadEnvironment(t *testing.T) {
	clearEnv(t)
	restoreGlobals(t)
	t.Setenv("OTELKIT_CONSOLE", "verbose")
	_, err := otelbridge.Setup(context.Background(), otelbridge.WithWriter(io.Discard))
	require.ErrorContains(t, err, `OTELKIT_CONSOLE="verbose": want lines, json or off`)
}

func TestConsoleFormatString(t *testing.T) {
	assert.Equal(t, "lines", otelbridge.ConsoleLines.String())
	assert.Equal(t, "json", otelbridge.ConsoleJSON.String())
	assert.Equal(t, "off", otelbridge.ConsoleOff.String())
	assert.Equal(t, "ConsoleFormat(9)", otelbridge.ConsoleFormat(9).String())
}

func exceptionAttrs() trace.EventOption {
	return trace.WithAttributes(
		attribute.String("exception.type", "*errors.errorString"),
		attribute.String("exception.message", "load order: dial tcp"),
		attribute.String("exception.stacktrace", "goroutine 1 [running]:\nmain.main()"),
		attribute.String("error.id", "storage.unavailable"))
}

func metricUnit(u string) metric.Int64CounterOption { return metric.WithUnit(u) }
