package e2e_test

import (
	"context"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/pdata/ptrace"
)

// signalModes are the values of OTEL_SEMCONV_EXCEPTION_SIGNAL_OPT_IN the
// conformance test runs the quickstart with, and where each puts exception
// records (docs/exceptions/README.md of the semantic conventions).
var signalModes = []struct {
	Value        string
	Events, Logs bool
}{
	{"", true, false},        // unset: span events only
	{"logs", false, true},    // log records only
	{"logs/dup", true, true}, // both
}

// optIn lists attributes the HTTP conventions make Opt-In where otelhttp
// emits them by default (model/http/spans.yaml and metrics.yaml): they are
// reported, not failed, since they are otelhttp's choice.
var optIn = map[string]map[string]bool{
	"span":   {"http.request.body.size": true, "http.response.body.size": true},
	"metric": {"server.address": true, "server.port": true},
}

// TestConformance runs the quickstart's -demo through the real collector
// once per value of OTEL_SEMCONV_EXCEPTION_SIGNAL_OPT_IN and checks
// everything the file exporters wrote against the semantic conventions of
// semconvVersion:
//
//   - every attribute key of every resource, span, span event, log record
//     and metric data point is a current (not deprecated) key of the
//     registry, or under otelkit., or (on an audit record) a parameter its
//     template declares;
//   - a 4xx server span has status Unset, no error.type and no exception
//     record, and carries otelkit.error.id; the duration metric labels it
//     with otelkit.error.id, never error.type;
//   - a 5xx server span has status Error and error.type, and its exception
//     record is a span event, a log record (severity ERROR, correlated) or
//     both, as the variable says, named http.server.request.exception;
//   - audit event types are dot-namespaced snake_case; the resource has
//     service.version.
func TestConformance(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs a collector and the quickstart")
	}
	root := repoRoot(t)
	reg := loadRegistry(t, root)
	bin := collectorBinary(t, root)
	exe := buildQuickstart(t, root)
	for _, mode := range signalModes {
		name := mode.Value
		if name == "" {
			name = "unset"
		}
		t.Run("OTEL_SEMCONV_EXCEPTION_SIGNAL_OPT_IN="+name, func(t *testing.T) {
			col := startCollector(t, bin, root, collectorOptions{})
			ctx, cancel := context.WithTimeout(t.Context(), 90*time.Second)
			defer cancel()
			require.NoError(t, runQuickstart(ctx, t, exe, root, col, "OTEL_SEMCONV_EXCEPTION_SIGNAL_OPT_IN="+mode.Value))
			tel := waitTelemetry(t, col.ExportDir)
			report, problems := checkConformance(tel, reg, mode.Events, mode.Logs)
			problems = append(problems, undocumented(tel, documentedKeys(t, root))...)
			t.Logf("semconv %s, signal %q: %d spans, %d log records, %d audits, %d metric points\n%s",
				reg.Version, mode.Value, len(tel.spans), len(tel.logs), len(tel.audits), len(tel.points), report)
			for _, p := range problems {
				t.Error(p)
			}
		})
	}
}

// buildQuickstart compiles the quickstart once for all modes.
func buildQuickstart(t *testing.T, root string) string {
	t.Helper()
	exe := filepath.Join(t.TempDir(), "quickstart")
	build := exec.Command("go", "build", "-o", exe, "./examples/quickstart")
	build.Dir = root
	out, err := build.CombinedOutput()
	require.NoError(t, err, "go build ./examples/quickstart:\n%s", out)
	return exe
}

// runQuickstart runs the quickstart's -demo against col with env added.
func runQuickstart(ctx context.Context, t *testing.T, exe, root string, col *collector, env ...string) error {
	cmd := exec.CommandContext(ctx, exe, "-demo")
	cmd.Dir = root
	cmd.Env = append(os.Environ(),
		"OTEL_EXPORTER_OTLP_ENDPOINT=http://"+col.HTTP,
		"OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf",
		"OTEL_TRACES_EXPORTER=otlp",
		"OTEL_METRICS_EXPORTER=otlp",
		"OTEL_LOGS_EXPORTER=otlp",
		"OTEL_METRIC_EXPORT_INTERVAL="+envMillis(500*time.Millisecond),
		"OTEL_BSP_SCHEDULE_DELAY="+envMillis(200*time.Millisecond),
		"OTEL_BLRP_SCHEDULE_DELAY="+envMillis(200*time.Millisecond),
	)
	cmd.Env = append(cmd.Env, env...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("quickstart -demo: %w\n%s", err, tail(string(out), 6000))
	}
	return nil
}

// telemetry is everything the file exporters wrote, with the resource and
// scope of each item.
type telemetry struct {
	resources []pcommon.Map
	spans     []telSpan
	logs      []telLog // logs.jsonl
	audits    []telLog // audit.jsonl
	points    []telPoint
}

type telSpan struct {
	scope string
	ptrace.Span
}

type telLog struct {
	scope string
	plog.LogRecord
}

type telPoint struct {
	scope, metric string
	attrs         pcommon.Map
}

// waitTelemetry reads the export directory until it holds spans, logs,
// audits and metrics and stops growing (the quickstart has exited and
// flushed; the collector's batches take a moment more).
func waitTelemetry(t *testing.T, dir string) telemetry {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	last, stable := -1, 0
	for {
		tel, err := readTelemetry(dir)
		require.NoError(t, err)
		n := len(tel.spans) + len(tel.logs) + len(tel.audits) + len(tel.points)
		if n == last && len(tel.spans) > 0 && len(tel.audits) > 0 && len(tel.points) > 0 {
			stable++
		} else {
			stable = 0
		}
		last = n
		if stable >= 4 || time.Now().After(deadline) {
			return tel
		}
		time.Sleep(500 * time.Millisecond)
	}
}

func readTelemetry(dir string) (telemetry, error) {
	var tel telemetry
	err := readLines(filepath.Join(dir, "traces.jsonl"), func(b []byte) error {
		td, err := (&ptrace.JSONUnmarshaler{}).UnmarshalTraces(b)
		if err != nil {
			return err
		}
		for _, rs := range td.ResourceSpans().All() {
			tel.resources = append(tel.resources, rs.Resource().Attributes())
			for _, ss := range rs.ScopeSpans().All() {
				for _, s := range ss.Spans().All() {
					tel.spans = append(tel.spans, telSpan{ss.Scope().Name(), s})
				}
			}
		}
		return nil
	})
	if err != nil {
		return tel, err
	}
	logs := func(dst *[]telLog) func([]byte) error {
		return func(b []byte) error {
			ld, err := (&plog.JSONUnmarshaler{}).UnmarshalLogs(b)
			if err != nil {
				return err
			}
			for _, rl := range ld.ResourceLogs().All() {
				tel.resources = append(tel.resources, rl.Resource().Attributes())
				for _, sl := range rl.ScopeLogs().All() {
					for _, lr := range sl.LogRecords().All() {
						*dst = append(*dst, telLog{sl.Scope().Name(), lr})
					}
				}
			}
			return nil
		}
	}
	if err := readLines(filepath.Join(dir, "logs.jsonl"), logs(&tel.logs)); err != nil {
		return tel, err
	}
	if err := readLines(filepath.Join(dir, "audit.jsonl"), logs(&tel.audits)); err != nil {
		return tel, err
	}
	err = readLines(filepath.Join(dir, "metrics.jsonl"), func(b []byte) error {
		md, err := (&pmetric.JSONUnmarshaler{}).UnmarshalMetrics(b)
		if err != nil {
			return err
		}
		for _, rm := range md.ResourceMetrics().All() {
			tel.resources = append(tel.resources, rm.Resource().Attributes())
			for _, sm := range rm.ScopeMetrics().All() {
				for _, m := range sm.Metrics().All() {
					for _, a := range dataPointAttrs(m) {
						tel.points = append(tel.points, telPoint{sm.Scope().Name(), m.Name(), a})
					}
				}
			}
		}
		return nil
	})
	return tel, err
}

// Names of the conventions the rules use.
const (
	httpServerException = "http.server.request.exception" // model/http/events.yaml
	rpcServerException  = "rpc.server.call.exception"     // rpc/rpc-exceptions.md
	plainException      = "exception"                     // model/exceptions
)

// rpcServerFailure lists the gRPC codes of otelkit's table that answer a
// server failure (5xx, unregistered, panic): INTERNAL (500), UNIMPLEMENTED
// (501), UNAVAILABLE (502, 503), DEADLINE_EXCEEDED (504). The quickstart
// answers no 405 or 408 over gRPC, whose codes are also these.
var rpcServerFailure = map[string]bool{"INTERNAL": true, "UNIMPLEMENTED": true, "UNAVAILABLE": true, "DEADLINE_EXCEEDED": true, "UNKNOWN": true, "DATA_LOSS": true}

// isException reports whether an event name is an exception's.
func isException(name string) bool {
	return name == plainException || strings.HasSuffix(name, ".exception")
}

// auditType is the naming rule for event names: dot-namespaced snake_case.
var auditType = regexp.MustCompile(`^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$`)

// placeholder matches a template parameter (auditx's {name}, {{ escapes).
var placeholder = regexp.MustCompile(`\{([A-Za-z_][A-Za-z0-9_.-]*)\}`)

// checkConformance applies the rules to tel; events and logs say where
// exception records must be. It returns a report of what was seen and the
// problems found.
func checkConformance(tel telemetry, reg *registry, events, logs bool) (string, []string) {
	var problems []string
	bad := map[string]map[string]int{} // verdict+key -> where -> count
	optSeen := map[string]int{}
	keysSeen := map[string]map[string]bool{} // key -> kinds of item
	check := func(where string, m pcommon.Map, allowed func(string) bool) {
		kind, _, _ := strings.Cut(where, " ")
		for k := range m.All() {
			if keysSeen[k] == nil {
				keysSeen[k] = map[string]bool{}
			}
			keysSeen[k][kind] = true
			if strings.HasPrefix(k, "otelkit.") || (allowed != nil && allowed(k)) {
				continue
			}
			if v := reg.verdict(k); v != "" {
				id := fmt.Sprintf("%s: %s", k, v)
				if bad[id] == nil {
					bad[id] = map[string]int{}
				}
				bad[id][where]++
			}
			if optIn[kind][k] {
				optSeen[where+" "+k]++
			}
		}
	}
	hasVersion := true
	for _, r := range tel.resources {
		check("resource", r, nil)
		if _, ok := r.Get("service.version"); !ok {
			hasVersion = false
		}
	}
	if !hasVersion {
		problems = append(problems, "a resource without service.version")
	}

	// Spans, their events, and the exception rules of server spans.
	logsBySpan := map[pcommon.SpanID][]telLog{}
	for _, lr := range tel.logs {
		if isException(lr.EventName()) {
			logsBySpan[lr.SpanID()] = append(logsBySpan[lr.SpanID()], lr)
		}
	}
	var n4xx, n5xx, nRPC int
	for _, s := range tel.spans {
		check("span "+s.scope, s.Attributes(), nil)
		var excEvents []ptrace.SpanEvent
		for _, ev := range s.Events().All() {
			check("event "+ev.Name(), ev.Attributes(), nil)
			if isException(ev.Name()) {
				excEvents = append(excEvents, ev)
			}
		}
		excLogs := logsBySpan[s.SpanID()]
		code, hasCode := s.Attributes().Get("http.response.status_code")
		rpcCode, isRPC := s.Attributes().Get("rpc.response.status_code")
		if s.Kind() == ptrace.SpanKindServer && isRPC && !hasCode {
			// A server RPC: the same rules, by the code's class, and the
			// RPC's event name.
			var nr int
			problems, nr = checkServerOutcome(problems, s.Span, fmt.Sprintf("%q %s", s.Name(), rpcCode.Str()), rpcCode.Str() != "OK", rpcServerFailure[rpcCode.Str()],
				excEvents, excLogs, rpcServerException, events, logs)
			nRPC += nr
			continue
		}
		if s.Kind() != ptrace.SpanKindServer || !hasCode {
			for _, ev := range excEvents {
				if ev.Name() != plainException {
					problems = append(problems, fmt.Sprintf("span %q (no server request): exception event named %q, want %q", s.Name(), ev.Name(), plainException))
				}
			}
			continue
		}
		status := code.Int()
		_, hasErrorType := s.Attributes().Get("error.type")
		id, hasID := s.Attributes().Get("otelkit.error.id")
		switch {
		case status >= 400 && status < 500:
			n4xx++
			if s.Status().Code() != ptrace.StatusCodeUnset {
				problems = append(problems, fmt.Sprintf("span %q %d: status %v, want Unset", s.Name(), status, s.Status().Code()))
			}
			if hasErrorType {
				problems = append(problems, fmt.Sprintf("span %q %d: error.type on a 4xx", s.Name(), status))
			}
			if len(excEvents)+len(excLogs) > 0 {
				problems = append(problems, fmt.Sprintf("span %q %d: %d exception events and %d exception log records on a 4xx", s.Name(), status, len(excEvents), len(excLogs)))
			}
			if !hasID || id.Str() == "" {
				problems = append(problems, fmt.Sprintf("span %q %d: no otelkit.error.id", s.Name(), status))
			}
		case status >= 500:
			n5xx++
			if s.Status().Code() != ptrace.StatusCodeError {
				problems = append(problems, fmt.Sprintf("span %q %d: status %v, want Error", s.Name(), status, s.Status().Code()))
			}
			if !hasErrorType {
				problems = append(problems, fmt.Sprintf("span %q %d: no error.type", s.Name(), status))
			}
			want := map[bool]int{true: 1, false: 0}
			if len(excEvents) != want[events] {
				problems = append(problems, fmt.Sprintf("span %q %d: %d exception events, want %d", s.Name(), status, len(excEvents), want[events]))
			}
			if len(excLogs) != want[logs] {
				problems = append(problems, fmt.Sprintf("span %q %d: %d exception log records, want %d", s.Name(), status, len(excLogs), want[logs]))
			}
			for _, ev := range excEvents {
				if ev.Name() != httpServerException {
					problems = append(problems, fmt.Sprintf("span %q %d: exception event %q, want %q", s.Name(), status, ev.Name(), httpServerException))
				}
			}
			for _, lr := range excLogs {
				if lr.EventName() != httpServerException {
					problems = append(problems, fmt.Sprintf("span %q %d: exception log record %q, want %q", s.Name(), status, lr.EventName(), httpServerException))
				}
				if lr.SeverityNumber() != plog.SeverityNumberError {
					problems = append(problems, fmt.Sprintf("span %q %d: exception log record severity %d, want ERROR (17)", s.Name(), status, lr.SeverityNumber()))
				}
				if lr.TraceID() != s.TraceID() {
					problems = append(problems, fmt.Sprintf("span %q %d: exception log record in another trace", s.Name(), status))
				}
			}
		}
	}
	if n4xx == 0 || n5xx == 0 {
		problems = append(problems, fmt.Sprintf("the demo's spans hold %d 4xx and %d 5xx server spans; want both", n4xx, n5xx))
	}
	if nRPC == 0 {
		problems = append(problems, "the demo's spans hold no failed server RPC (the quickstart serves gRPC too)")
	}

	// Log records: keys, and exception records outside a request.
	for _, lr := range tel.logs {
		check("log "+lr.EventName(), lr.Attributes(), nil)
	}
	for _, lr := range tel.audits {
		declared := map[string]bool{}
		if tmpl, ok := lr.Attributes().Get("otelkit.audit.template"); ok {
			for _, m := range placeholder.FindAllStringSubmatch(tmpl.Str(), -1) {
				declared[m[1]] = true
			}
		}
		check("audit "+lr.EventName(), lr.Attributes(), func(k string) bool { return declared[k] })
		if !auditType.MatchString(lr.EventName()) {
			problems = append(problems, fmt.Sprintf("audit type %q is not dot-namespaced snake_case", lr.EventName()))
		}
	}

	// Metric points: 4xx labelled by otelkit.error.id, never error.type.
	for _, p := range tel.points {
		check("metric "+p.metric, p.attrs, nil)
		if p.metric != "http.server.request.duration" {
			continue
		}
		code, ok := p.attrs.Get("http.response.status_code")
		if !ok || code.Int() < 400 || code.Int() >= 500 {
			continue
		}
		if _, ok := p.attrs.Get("error.type"); ok {
			problems = append(problems, fmt.Sprintf("%s point with status %d carries error.type", p.metric, code.Int()))
		}
		if _, ok := p.attrs.Get("otelkit.error.id"); !ok {
			problems = append(problems, fmt.Sprintf("%s point with status %d lacks otelkit.error.id", p.metric, code.Int()))
		}
	}

	var b strings.Builder
	ids := make([]string, 0, len(bad))
	for id := range bad {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		var wheres []string
		for w, n := range bad[id] {
			wheres = append(wheres, fmt.Sprintf("%s ×%d", w, n))
		}
		slices.Sort(wheres)
		problems = append(problems, fmt.Sprintf("attribute %s (on %s)", id, strings.Join(wheres, ", ")))
	}
	fmt.Fprintf(&b, "%d distinct attribute keys seen; %d not conformant:\n", len(keysSeen), len(ids))
	seen := make([]string, 0, len(keysSeen))
	for k, kinds := range keysSeen {
		seen = append(seen, fmt.Sprintf("%s (%s)", k, strings.Join(slices.Sorted(maps.Keys(kinds)), ", ")))
	}
	slices.Sort(seen)
	fmt.Fprintf(&b, "  %s\n", strings.Join(seen, "\n  "))
	if len(optSeen) > 0 {
		var opts []string
		for k, n := range optSeen {
			opts = append(opts, fmt.Sprintf("%s ×%d", k, n))
		}
		slices.Sort(opts)
		fmt.Fprintf(&b, "Opt-In attributes otelhttp emits by default (reported, not failed):\n  %s\n", strings.Join(opts, "\n  "))
	}
	return b.String(), problems
}

// documentedKeys returns the keys the first column of the tables in
// docs/telemetry.md names in backquotes; a key ending in ".*" or ".<key>"
// stands for its prefix.
func documentedKeys(t *testing.T, root string) map[string]bool {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(root, "docs", "telemetry.md"))
	require.NoError(t, err)
	keys := map[string]bool{}
	code := regexp.MustCompile("`([^`]+)`")
	for _, line := range strings.Split(string(b), "\n") {
		if !strings.HasPrefix(line, "| `") {
			continue
		}
		first := strings.SplitN(line[1:], "|", 2)[0]
		for _, m := range code.FindAllStringSubmatch(first, -1) {
			keys[m[1]] = true
		}
	}
	require.NotEmpty(t, keys, "docs/telemetry.md lists keys")
	return keys
}

// isDocumented reports whether key is in docs, directly or by a prefix row.
func isDocumented(docs map[string]bool, key string) bool {
	if docs[key] {
		return true
	}
	for d := range docs {
		for _, suffix := range []string{".*", ".<key>"} {
			if p, ok := strings.CutSuffix(d, suffix); ok && strings.HasPrefix(key, p+".") {
				return true
			}
		}
	}
	return false
}

// undocumented lists the keys tel carries that docs/telemetry.md does not
// name (audit template parameters are the service's own and exempt).
func undocumented(tel telemetry, docs map[string]bool) []string {
	missing := map[string]bool{}
	note := func(m pcommon.Map, exempt map[string]bool) {
		for k := range m.All() {
			if !exempt[k] && !isDocumented(docs, k) {
				missing[k] = true
			}
		}
	}
	for _, r := range tel.resources {
		note(r, nil)
	}
	for _, s := range tel.spans {
		note(s.Attributes(), nil)
		for _, ev := range s.Events().All() {
			note(ev.Attributes(), nil)
		}
	}
	for _, lr := range tel.logs {
		note(lr.Attributes(), nil)
	}
	for _, lr := range tel.audits {
		declared := map[string]bool{}
		if tmpl, ok := lr.Attributes().Get("otelkit.audit.template"); ok {
			for _, m := range placeholder.FindAllStringSubmatch(tmpl.Str(), -1) {
				declared[m[1]] = true
			}
		}
		note(lr.Attributes(), declared)
	}
	for _, p := range tel.points {
		note(p.attrs, nil)
	}
	var out []string
	for _, k := range slices.Sorted(maps.Keys(missing)) {
		out = append(out, "key "+k+" is not in docs/telemetry.md's table")
	}
	return out
}

// checkServerOutcome applies the span rules to a server RPC's span: a
// failure has status Error, error.type and its exception records (named
// event) where the signal says; any other error has status Unset, no
// error.type, no exception record and otelkit.error.id. It returns the
// problems and 1 when the span is an error of either kind.
func checkServerOutcome(problems []string, s ptrace.Span, what string, isError, failure bool, excEvents []ptrace.SpanEvent, excLogs []telLog, event string, events, logs bool) ([]string, int) {
	if !isError {
		return problems, 0
	}
	_, hasErrorType := s.Attributes().Get("error.type")
	id, hasID := s.Attributes().Get("otelkit.error.id")
	if !failure {
		if s.Status().Code() != ptrace.StatusCodeUnset {
			problems = append(problems, fmt.Sprintf("span %s: status %v, want Unset", what, s.Status().Code()))
		}
		if hasErrorType {
			problems = append(problems, fmt.Sprintf("span %s: error.type on a client error", what))
		}
		if len(excEvents)+len(excLogs) > 0 {
			problems = append(problems, fmt.Sprintf("span %s: %d exception events and %d exception log records on a client error", what, len(excEvents), len(excLogs)))
		}
		if !hasID || id.Str() == "" {
			problems = append(problems, fmt.Sprintf("span %s: no otelkit.error.id", what))
		}
		return problems, 1
	}
	if s.Status().Code() != ptrace.StatusCodeError {
		problems = append(problems, fmt.Sprintf("span %s: status %v, want Error", what, s.Status().Code()))
	}
	if !hasErrorType {
		problems = append(problems, fmt.Sprintf("span %s: no error.type", what))
	}
	want := map[bool]int{true: 1, false: 0}
	if len(excEvents) != want[events] {
		problems = append(problems, fmt.Sprintf("span %s: %d exception events, want %d", what, len(excEvents), want[events]))
	}
	if len(excLogs) != want[logs] {
		problems = append(problems, fmt.Sprintf("span %s: %d exception log records, want %d", what, len(excLogs), want[logs]))
	}
	for _, ev := range excEvents {
		if ev.Name() != event {
			problems = append(problems, fmt.Sprintf("span %s: exception event %q, want %q", what, ev.Name(), event))
		}
	}
	for _, lr := range excLogs {
		if lr.EventName() != event {
			problems = append(problems, fmt.Sprintf("span %s: exception log record %q, want %q", what, lr.EventName(), event))
		}
		if lr.SeverityNumber() != plog.SeverityNumberError {
			problems = append(problems, fmt.Sprintf("span %s: exception log record severity %d, want ERROR (17)", what, lr.SeverityNumber()))
		}
		if lr.TraceID() != s.TraceID() {
			problems = append(problems, fmt.Sprintf("span %s: exception log record in another trace", what))
		}
	}
	return problems, 1
}
