package e2e_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/ptrace"
)

// What the quickstart (examples/quickstart, the ground truth) does in -demo
// mode, and so what must arrive at the collector.
const (
	auditScope     = "github.com/otelkit/otelkit/auditx"
	exceptionScope = "github.com/otelkit/otelkit/otelbridge"
	mask           = "**************"

	clientErrorID     = "users.not-found"     // GET /users/0 -> 404
	clientErrorStatus = 404                   //
	serverErrorID     = "storage.unavailable" // GET /orders/{id} -> 503
	serverErrorStatus = 503                   //
	auditEvent        = "auth.login_failed"   // POST /login
	durationMetric    = "http.server.request.duration"
)

// auditParams are template parameters of auditEvent that must arrive as
// attributes; auditMasked are the ones that must arrive masked.
var (
	auditParams = []string{"user.name", "client.address"}
	auditMasked = []string{"password"}
)

// severityText is the contract's severity text per number for audits.
var severityText = map[plog.SeverityNumber]string{
	5: "DEBUG", 9: "INFO", 13: "WARN", 17: "ERROR", 21: "CRITICAL",
}

// TestCollectorEndToEnd runs the quickstart against the collector
// distribution with the real configuration and checks what the collector's
// file exporters wrote.
func TestCollectorEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs a collector and the quickstart")
	}
	root := repoRoot(t)
	bin := collectorBinary(t, root)
	app := prepareApp(t, root) // compiling is not part of the time budget

	start := time.Now()
	col := startCollector(t, bin, root, collectorOptions{})
	t.Logf("collector healthy after %s", time.Since(start).Round(time.Millisecond))

	ctx, cancel := context.WithTimeout(t.Context(), 90*time.Second)
	defer cancel()
	require.NoError(t, app(ctx, col), "application run")
	require.NoError(t, postUnmasked(ctx, "http://"+col.HTTP), "posting unmasked telemetry")

	checks := e2eChecks()
	var last exported
	var failing []string
	deadline := time.Now().Add(60 * time.Second)
	for {
		var err error
		last, err = readExported(col.ExportDir)
		require.NoError(t, err)
		failing = failing[:0]
		for _, c := range checks {
			if c.check(last) != nil {
				failing = append(failing, c.name)
			}
		}
		if len(failing) == 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(500 * time.Millisecond)
	}
	t.Logf("collector wrote %d spans, %d logs, %d audits, %d metrics; checks done %s after start",
		len(last.Spans), len(last.Logs), len(last.Audits), len(last.Metrics), time.Since(start).Round(time.Millisecond))
	for _, c := range checks {
		t.Run(c.name, func(t *testing.T) {
			require.NoError(t, c.check(last))
		})
	}
	require.Less(t, time.Since(start), 3*time.Minute, "time budget of the e2e run")
}

type e2eCheck struct {
	name  string
	check func(exported) error
}

func e2eChecks() []e2eCheck {
	return []e2eCheck{
		{"client error span", func(e exported) error {
			return checkErrorSpan(e, clientErrorID, clientErrorStatus, ptrace.StatusCodeUnset)
		}},
		{"server error span", func(e exported) error {
			return checkErrorSpan(e, serverErrorID, serverErrorStatus, ptrace.StatusCodeError)
		}},
		{"server error exception record in logs pipeline", func(e exported) error {
			for _, lr := range e.Logs {
				if lr.Scope == exceptionScope && lr.EventName() == "http.server.request.exception" &&
					attr(lr.Attributes(), "otelkit.error.id") == serverErrorID {
					if lr.TraceID().IsEmpty() {
						return errors.New("exception record without trace id")
					}
					return nil
				}
			}
			return fmt.Errorf("no exception record with otelkit.error.id=%s in logs.jsonl (%d records)", serverErrorID, len(e.Logs))
		}},
		{"audit record", checkAudit},
		{"audits only in audit pipeline", func(e exported) error {
			for _, lr := range e.Logs {
				if lr.Scope == auditScope {
					return fmt.Errorf("audit record %q in logs.jsonl", lr.EventName())
				}
			}
			for _, lr := range e.Audits {
				if lr.Scope != auditScope {
					return fmt.Errorf("record of scope %q in audit.jsonl", lr.Scope)
				}
			}
			if len(e.Audits) == 0 {
				return errors.New("no audits yet")
			}
			return nil
		}},
		{"duration metric by error.type and otelkit.error.id", func(e exported) error {
			seen := map[string]bool{}
			for _, m := range e.Metrics {
				if m.Name() != durationMetric {
					continue
				}
				for _, a := range dataPointAttrs(m.Metric) {
					seen["error.type="+attr(a, "error.type")] = true
					seen["otelkit.error.id="+attr(a, "otelkit.error.id")] = true
				}
			}
			for _, want := range []string{"otelkit.error.id=" + clientErrorID, "error.type=" + serverErrorID} {
				if !seen[want] {
					return fmt.Errorf("no %s data point with %s (seen: %v)", durationMetric, want, keys(seen))
				}
			}
			if seen["error.type="+clientErrorID] {
				return fmt.Errorf("%s: error.type=%s on a 4xx", durationMetric, clientErrorID)
			}
			return nil
		}},
		{"collector masks", checkCollectorMasks},
	}
}

// checkErrorSpan finds the span with error.type = id (a 5xx) or
// otelkit.error.id = id (a 4xx) and checks its status and exception event:
// one for a 5xx, none for a 4xx.
func checkErrorSpan(e exported, id string, httpStatus int, code ptrace.StatusCode) error {
	var types []string
	key := "error.type"
	if code != ptrace.StatusCodeError {
		key = "otelkit.error.id"
	}
	for _, s := range e.Spans {
		et := attr(s.Attributes(), key)
		if et != id {
			if et != "" {
				types = append(types, et)
			}
			continue
		}
		if got := attr(s.Attributes(), "http.response.status_code"); got != fmt.Sprint(httpStatus) {
			return fmt.Errorf("span %q: http.response.status_code=%q, want %d", s.Name(), got, httpStatus)
		}
		if s.Status().Code() != code {
			return fmt.Errorf("span %q: status %v, want %v", s.Name(), s.Status().Code(), code)
		}
		if code == ptrace.StatusCodeError && !strings.Contains(s.Status().Message(), id) {
			return fmt.Errorf("span %q: status message %q does not name %s", s.Name(), s.Status().Message(), id)
		}
		evs := events(s.Span, "http.server.request.exception")
		if code != ptrace.StatusCodeError {
			if hasAttr(s.Attributes(), "error.type") || len(evs) > 0 || len(events(s.Span, "exception")) > 0 {
				return fmt.Errorf("span %q: a 4xx with error.type or an exception event", s.Name())
			}
			return nil
		}
		if len(evs) == 0 {
			return fmt.Errorf("span %q: no http.server.request.exception event", s.Name())
		}
		ev := evs[len(evs)-1]
		if got := attr(ev.Attributes(), "otelkit.error.id"); got != id {
			return fmt.Errorf("span %q: exception event otelkit.error.id=%q, want %s", s.Name(), got, id)
		}
		for _, k := range []string{"exception.type", "exception.message"} {
			if !hasAttr(ev.Attributes(), k) {
				return fmt.Errorf("span %q: exception event without %s", s.Name(), k)
			}
		}
		if code == ptrace.StatusCodeError && attr(ev.Attributes(), "exception.stacktrace") == "" {
			return fmt.Errorf("span %q: 5xx exception event without exception.stacktrace", s.Name())
		}
		return nil
	}
	return fmt.Errorf("no span with %s=%s among %d spans (values seen: %v)", key, id, len(e.Spans), types)
}

// checkAudit finds the audit record of auditEvent emitted by the quickstart
// and checks its fields, masking and trace correlation.
func checkAudit(e exported) error {
	var names []string
	for _, lr := range e.Audits {
		if lr.EventName() != auditEvent || attr(lr.Attributes(), "otelkit.e2e") != "" {
			names = append(names, lr.EventName())
			continue
		}
		a := lr.Attributes()
		want, ok := severityText[lr.SeverityNumber()]
		if !ok || lr.SeverityText() != want {
			return fmt.Errorf("audit %s: severity %d %q, want one of the contract's levels", auditEvent, lr.SeverityNumber(), lr.SeverityText())
		}
		if lr.Body().Type() != pcommon.ValueTypeStr || lr.Body().Str() == "" {
			return fmt.Errorf("audit %s: body %v is not a rendered string", auditEvent, lr.Body().AsRaw())
		}
		tmpl := attr(a, "otelkit.audit.template")
		if tmpl == "" || tmpl == lr.Body().Str() {
			return fmt.Errorf("audit %s: otelkit.audit.template %q, body %q: want a template and a rendered body", auditEvent, tmpl, lr.Body().Str())
		}
		if attr(a, "otelkit.audit.record_id") == "" {
			return fmt.Errorf("audit %s: no otelkit.audit.record_id", auditEvent)
		}
		rendered := false
		for _, k := range auditParams {
			v := attr(a, k)
			if v == "" {
				return fmt.Errorf("audit %s: template attribute %s missing (attributes %v)", auditEvent, k, a.AsRaw())
			}
			rendered = rendered || strings.Contains(lr.Body().Str(), v)
		}
		if !rendered {
			return fmt.Errorf("audit %s: body %q shows none of %v", auditEvent, lr.Body().Str(), auditParams)
		}
		for _, k := range auditMasked {
			if got := attr(a, k); got != mask {
				return fmt.Errorf("audit %s: %s=%q, want it masked", auditEvent, k, got)
			}
		}
		if lr.TraceID().IsEmpty() {
			return fmt.Errorf("audit %s: no trace id", auditEvent)
		}
		for _, s := range e.Spans {
			if s.TraceID() == lr.TraceID() && s.Kind() == ptrace.SpanKindServer {
				return nil
			}
		}
		return fmt.Errorf("audit %s: trace id %s matches no server span among %d spans", auditEvent, lr.TraceID(), len(e.Spans))
	}
	return fmt.Errorf("no audit %s among %d audits (event names: %v)", auditEvent, len(e.Audits), names)
}

func keys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// prepareApp compiles the application under test and returns a function
// that runs it against a collector. The application is the quickstart
// (go run ./examples/quickstart -demo, compiled first so that its build is
// not timed); OTELKIT_E2E_APP=standin replaces it by an in-process sender
// of the same telemetry, to check the collector alone.
func prepareApp(t *testing.T, root string) func(context.Context, *collector) error {
	t.Helper()
	if os.Getenv("OTELKIT_E2E_APP") == "standin" {
		t.Log("application: in-process stand-in (OTELKIT_E2E_APP=standin)")
		return func(ctx context.Context, c *collector) error { return postStandin(ctx, "http://"+c.HTTP) }
	}
	require.FileExists(t, filepath.Join(root, "examples", "quickstart", "main.go"),
		"the quickstart is the application under test (OTELKIT_E2E_APP=standin checks the collector alone)")
	exe := filepath.Join(t.TempDir(), "quickstart")
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Minute)
	defer cancel()
	build := exec.CommandContext(ctx, "go", "build", "-o", exe, "./examples/quickstart")
	build.Dir = root
	out, err := build.CombinedOutput()
	require.NoError(t, err, "go build ./examples/quickstart:\n%s", out)

	return func(ctx context.Context, c *collector) error {
		cmd := exec.CommandContext(ctx, exe, "-demo")
		cmd.Dir = root
		cmd.Env = append(os.Environ(),
			"OTEL_EXPORTER_OTLP_ENDPOINT=http://"+c.HTTP,
			"OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf",
			"OTEL_TRACES_EXPORTER=otlp",
			"OTEL_METRICS_EXPORTER=otlp",
			"OTEL_LOGS_EXPORTER=otlp",
			"OTEL_METRIC_EXPORT_INTERVAL="+envMillis(500*time.Millisecond),
			"OTEL_BSP_SCHEDULE_DELAY="+envMillis(200*time.Millisecond),
			"OTEL_BLRP_SCHEDULE_DELAY="+envMillis(200*time.Millisecond),
			"OTEL_SEMCONV_EXCEPTION_SIGNAL_OPT_IN=logs/dup",
		)
		out, err := cmd.CombinedOutput()
		t.Logf("quickstart -demo output:\n%s", tail(string(out), 6000))
		if err != nil {
			return fmt.Errorf("quickstart -demo: %w", err)
		}
		return nil
	}
}
