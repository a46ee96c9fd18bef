package e2e_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestBackendsEndToEnd runs the quickstart against the verified stack
// (scripts/stack.sh: the collector with collector/config.yaml, VictoriaLogs,
// VictoriaMetrics, Jaeger) and reads everything back from the backends' own
// query APIs: LogsQL, PromQL (MetricsQL) and Jaeger's HTTP API. The ground
// truth is the collector's JSONL archive of the same run.
func TestBackendsEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the stack and the quickstart")
	}
	needStack(t)
	root := repoRoot(t)
	needBackends(t, root)
	qs := buildQuickstart(t, root)
	st := startStack(t, root)

	ctx, cancel := context.WithTimeout(t.Context(), 4*time.Minute)
	defer cancel()
	runQuickstartDemo(t, ctx, root, qs, st.HTTP)

	// The archive is complete once it has the final checkpoint of the
	// quickstart's audit stream (written at shutdown, after every audit).
	var archive exported
	require.Eventually(t, func() bool {
		var err error
		archive, err = readExported(filepath.Join(st.Dir, "export"))
		if err != nil {
			return false
		}
		// The application logs go through another pipeline with its own
		// batching: wait for the 503's exception record there too.
		final, exception := false, false
		for _, a := range archive.Audits {
			if a.EventName() == "otelkit.audit.checkpoint" && attr(a.Attributes(), "otelkit.audit.checkpoint.kind") == "final" {
				final = true
			}
		}
		for _, lr := range archive.Logs {
			if lr.EventName() == "http.server.request.exception" && attr(lr.Attributes(), "otelkit.error.id") == serverErrorID {
				exception = true
			}
		}
		return final && exception
	}, 60*time.Second, 300*time.Millisecond, "the collector archived the quickstart's audits and its 503's exception record")

	byEvent := map[string]int{}
	byUser := map[string]int{}
	byTrace := map[string]int{}
	records := map[string]logRecord{}
	for _, a := range archive.Audits {
		byEvent[a.EventName()]++
		if u := attr(a.Attributes(), "user.id"); u != "" {
			byUser["user.id="+u]++
		}
		if u := attr(a.Attributes(), "user.name"); u != "" {
			byUser["user.name="+u]++
		}
		if !a.TraceID().IsEmpty() {
			byTrace[a.TraceID().String()]++
		}
		if id := attr(a.Attributes(), "otelkit.audit.record_id"); id != "" {
			require.NotContains(t, records, id, "record ids are unique in the archive")
			records[id] = a
		}
	}
	t.Logf("archive: %d audit records; by event %v; by user %v; %d trace ids", len(archive.Audits), byEvent, byUser, len(byTrace))
	// What the quickstart's -demo does (examples/quickstart/demo.go).
	for _, ev := range []string{"users.profile_viewed", auditEvent, "users.created"} {
		require.Equal(t, 1, byEvent[ev], "the demo emits one %s audit", ev)
	}
	require.Equal(t, 1, byUser["user.name=mallory"])

	vl := st.VictoriaLogs
	audits := `scope.name:="` + auditScope + `"`
	require.Eventually(t, func() bool {
		return len(logsql(t, ctx, vl, audits)) == len(archive.Audits)
	}, 60*time.Second, 500*time.Millisecond, "VictoriaLogs has every archived audit")

	t.Run("audits by event name", func(t *testing.T) {
		for ev, n := range byEvent {
			q := audits + ` event_name:="` + ev + `"`
			assert.Len(t, logsql(t, ctx, vl, q), n, q)
		}
	})
	t.Run("audits by user", func(t *testing.T) {
		for kv, n := range byUser {
			k, v, _ := strings.Cut(kv, "=")
			q := audits + " " + k + `:="` + v + `"`
			assert.Len(t, logsql(t, ctx, vl, q), n, q)
		}
	})
	t.Run("audits by trace id", func(t *testing.T) {
		for id, n := range byTrace {
			q := audits + ` trace_id:="` + id + `"`
			assert.Len(t, logsql(t, ctx, vl, q), n, q)
		}
	})
	t.Run("template attributes intact", func(t *testing.T) {
		require.NotEmpty(t, records)
		for id, a := range records {
			rows := logsql(t, ctx, vl, `otelkit.audit.record_id:="`+id+`"`)
			require.Len(t, rows, 1, "exactly one row for record %s", id)
			row := rows[0]
			assert.Equal(t, a.Body().AsString(), row["_msg"], id)
			assert.Equal(t, a.EventName(), row["event_name"], id)
			assert.Equal(t, a.TraceID().String(), row["trace_id"], id)
			assert.Equal(t, a.SpanID().String(), row["span_id"], id)
			template := attr(a.Attributes(), "otelkit.audit.template")
			require.NotEmpty(t, template, id)
			for k, v := range a.Attributes().All() {
				if v.AsString() == "" {
					continue // VictoriaLogs leaves out empty values
				}
				assert.Equal(t, v.AsString(), row[k], "%s: attribute %s", id, k)
			}
			// Every parameter of the template arrived as an attribute.
			for _, p := range templateParams(template) {
				assert.NotEmpty(t, row[p], "%s: template parameter %s", id, p)
			}
		}
	})
	t.Run("secrets masked", func(t *testing.T) {
		rows := logsql(t, ctx, vl, audits+` event_name:="`+auditEvent+`"`)
		require.Len(t, rows, 1)
		for _, k := range auditMasked {
			assert.Equal(t, mask, rows[0][k], k)
		}
		assert.Contains(t, rows[0]["_msg"], mask)
		// The demo's password appears nowhere, in any record or field.
		assert.Empty(t, logsql(t, ctx, vl, `"hunter2"`), "the clear-text password is stored nowhere")
	})
	t.Run("exception records by error id", func(t *testing.T) {
		want := 0
		for _, lr := range archive.Logs {
			if lr.EventName() == "http.server.request.exception" && attr(lr.Attributes(), "otelkit.error.id") == serverErrorID {
				want++
			}
		}
		require.Positive(t, want, "the archive has the 503's exception record")
		q := `otelkit.error.id:="` + serverErrorID + `" event_name:="http.server.request.exception"`
		var rows []map[string]string
		require.Eventually(t, func() bool { rows = logsql(t, ctx, vl, q); return len(rows) == want },
			30*time.Second, 300*time.Millisecond, q)
		assert.NotEmpty(t, rows[0]["trace_id"])
		assert.NotEmpty(t, rows[0]["exception.type"]+rows[0]["exception.message"])
	})
	t.Run("duration metric with the error label", func(t *testing.T) {
		for _, q := range []string{
			`sum(max_over_time(http_server_request_duration_seconds_count{error_type="` + serverErrorID + `", http_response_status_code="503"}[1h]))`,
			`sum(max_over_time(http_server_request_duration_seconds_count{otelkit_error_id="` + clientErrorID + `", http_response_status_code="404"}[1h]))`,
		} {
			require.Eventually(t, func() bool { return promValue(t, ctx, st.VictoriaMetrics, q) >= 1 },
				30*time.Second, 500*time.Millisecond, "VictoriaMetrics answers %s", q)
		}
	})
	t.Run("audit trace id finds the request's trace in Jaeger", func(t *testing.T) {
		rows := logsql(t, ctx, vl, audits+` event_name:="`+auditEvent+`"`)
		require.Len(t, rows, 1)
		traceID, spanID := rows[0]["trace_id"], rows[0]["span_id"]
		require.NotEmpty(t, traceID)
		var spans []jaegerSpan
		require.Eventually(t, func() bool { spans = jaegerTrace(t, ctx, st.Jaeger, traceID); return len(spans) > 0 },
			30*time.Second, 500*time.Millisecond, "Jaeger has trace %s", traceID)
		var found *jaegerSpan
		for i := range spans {
			if spans[i].SpanID == spanID {
				found = &spans[i]
			}
		}
		require.NotNil(t, found, "the audit's span %s is in the trace Jaeger returns", spanID)
		assert.Contains(t, found.OperationName, "/login")
		assert.Equal(t, traceID, found.TraceID)
	})
	t.Run("README queries", func(t *testing.T) {
		// The LogsQL and PromQL of the README's "See your audits", as
		// written there.
		q := `_time:1h scope.name:="github.com/otelkit/otelkit/auditx" (user.id:="ada" OR user.name:="ada") | sort by (_time)`
		assert.Len(t, logsql(t, ctx, vl, q), byUser["user.id=ada"]+byUser["user.name=ada"], q)
		require.Positive(t, byUser["user.id=ada"])

		q = `_time:1h event_name:="auth.login_failed" | stats by (client.address) count() as failures | sort by (failures desc)`
		rows := logsql(t, ctx, vl, q)
		require.Len(t, rows, 1, q)
		assert.Equal(t, "127.0.0.1", rows[0]["client.address"], q)
		assert.Equal(t, strconv.Itoa(byEvent[auditEvent]), rows[0]["failures"], q)

		for id, n := range byTrace {
			q = `trace_id:="` + id + `" scope.name:="github.com/otelkit/otelkit/auditx" | sort by (_time)`
			assert.Len(t, logsql(t, ctx, vl, q), n, q)
		}

		q = `_time:1h event_name:="http.server.request.exception" | stats by (otelkit.error.id, http.route) count() as errors`
		rows = logsql(t, ctx, vl, q)
		found := false
		for _, r := range rows {
			if r["otelkit.error.id"] == serverErrorID {
				found = true
				assert.Equal(t, "/orders/{id}", r["http.route"], q)
				assert.NotEqual(t, "0", r["errors"], q)
			}
		}
		assert.True(t, found, "%s: %v", q, rows)

		q = `sum by (otelkit_error_id, error_type, http_route) (increase(http_server_request_duration_seconds_count[1h]))`
		var res struct {
			Status string `json:"status"`
			Data   struct {
				Result []struct {
					Metric map[string]string `json:"metric"`
				} `json:"result"`
			} `json:"data"`
		}
		getJSON(t, ctx, st.VictoriaMetrics+"/api/v1/query?"+url.Values{"query": {q}}.Encode(), &res)
		ids := map[string]string{}
		for _, r := range res.Data.Result {
			if id := r.Metric["otelkit_error_id"] + r.Metric["error_type"]; id != "" {
				ids[id] = r.Metric["http_route"]
			}
		}
		assert.Contains(t, ids, clientErrorID, q)
		assert.Equal(t, "/orders/{id}", ids[serverErrorID], q)
	})
	t.Run("vmui shows the audits in Chromium", func(t *testing.T) {
		// The rows of the audit query as vmui renders them: each audit's
		// message (the rendered template, password masked).
		var want []string
		for _, a := range archive.Audits {
			if a.EventName() == auditEvent {
				want = append(want, a.Body().AsString())
			}
		}
		require.NotEmpty(t, want)
		checkVMUI(t, root, vl, audits+` event_name:="`+auditEvent+`"`, append(want, mask))
	})
}

// templateParams returns the {name} parameters of an audit template.
func templateParams(template string) []string {
	var out []string
	for {
		i := strings.IndexByte(template, '{')
		if i < 0 {
			return out
		}
		j := strings.IndexByte(template[i:], '}')
		if j < 0 {
			return out
		}
		out = append(out, template[i+1:i+j])
		template = template[i+j+1:]
	}
}

// runQuickstartDemo runs the quickstart's -demo against a collector's
// OTLP/HTTP address, with a fresh audit spool (so only this run's audits
// are sent).
func runQuickstartDemo(t *testing.T, ctx context.Context, root, exe, otlpHTTP string) {
	t.Helper()
	cmd := exec.CommandContext(ctx, exe, "-demo")
	cmd.Dir = root
	cmd.Env = append(os.Environ(),
		"OTEL_EXPORTER_OTLP_ENDPOINT=http://"+otlpHTTP,
		"OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf",
		"OTEL_TRACES_EXPORTER=otlp",
		"OTEL_METRICS_EXPORTER=otlp",
		"OTEL_LOGS_EXPORTER=otlp",
		"OTEL_METRIC_EXPORT_INTERVAL="+envMillis(500*time.Millisecond),
		"OTEL_BSP_SCHEDULE_DELAY="+envMillis(200*time.Millisecond),
		"OTEL_BLRP_SCHEDULE_DELAY="+envMillis(200*time.Millisecond),
		"OTEL_SEMCONV_EXCEPTION_SIGNAL_OPT_IN=logs/dup",
		"OTELKIT_AUDIT_SPOOL_DIR="+t.TempDir(),
	)
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "quickstart -demo:\n%s", tail(string(out), 6000))
}

// logsql runs a LogsQL query against VictoriaLogs and returns its rows,
// every field as text.
func logsql(t *testing.T, ctx context.Context, base, q string) []map[string]string {
	t.Helper()
	body, err := logsqlQuery(ctx, base, q)
	require.NoError(t, err, q)
	var rows []map[string]string
	sc := bufio.NewScanner(bytes.NewReader(body))
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for sc.Scan() {
		if len(bytes.TrimSpace(sc.Bytes())) == 0 {
			continue
		}
		var raw map[string]json.RawMessage
		require.NoError(t, json.Unmarshal(sc.Bytes(), &raw), "LogsQL row %s", sc.Bytes())
		row := map[string]string{}
		for k, v := range raw {
			var s string
			if json.Unmarshal(v, &s) != nil {
				s = string(v)
			}
			row[k] = s
		}
		rows = append(rows, row)
	}
	require.NoError(t, sc.Err())
	return rows
}

// promValue runs an instant PromQL (MetricsQL) query against
// VictoriaMetrics and returns the value of its single sample, or -1 when
// there is none.
func promValue(t *testing.T, ctx context.Context, base, q string) float64 {
	t.Helper()
	var resp struct {
		Status string `json:"status"`
		Data   struct {
			Result []struct {
				Value [2]any `json:"value"`
			} `json:"result"`
		} `json:"data"`
	}
	getJSON(t, ctx, base+"/api/v1/query?"+url.Values{"query": {q}}.Encode(), &resp)
	require.Equal(t, "success", resp.Status, q)
	if len(resp.Data.Result) != 1 {
		return -1
	}
	s, _ := resp.Data.Result[0].Value[1].(string)
	v, err := strconv.ParseFloat(s, 64)
	require.NoError(t, err, q)
	return v
}

// jaegerSpan is the part of a span of Jaeger's /api/traces answer the test
// reads.
type jaegerSpan struct {
	TraceID       string `json:"traceID"`
	SpanID        string `json:"spanID"`
	OperationName string `json:"operationName"`
}

// jaegerTrace returns the spans of one trace from Jaeger's query API
// (/api/traces/{id}); none while Jaeger does not have it.
func jaegerTrace(t *testing.T, ctx context.Context, base, traceID string) []jaegerSpan {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/api/traces/"+traceID, nil)
	require.NoError(t, err)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	if resp.StatusCode == http.StatusNotFound {
		return nil
	}
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, resp.StatusCode, "%s", body)
	var out struct {
		Data []struct {
			Spans []jaegerSpan `json:"spans"`
		} `json:"data"`
	}
	require.NoError(t, json.Unmarshal(body, &out), "%s", body)
	var spans []jaegerSpan
	for _, d := range out.Data {
		spans = append(spans, d.Spans...)
	}
	return spans
}

func getJSON(t *testing.T, ctx context.Context, u string, v any) {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	require.NoError(t, err)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err, u)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, resp.StatusCode, "%s: %s", u, body)
	require.NoError(t, json.Unmarshal(body, v), "%s: %s", u, body)
}

var _ = fmt.Sprint
