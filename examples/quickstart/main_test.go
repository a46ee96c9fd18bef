package main

import (
	"bytes"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/otelkit/otelkit/grpcx"
)

// TestDemo runs the quickstart's -demo and checks that, for each error, the
// output shows the client's body next to what telemetry recorded.
func TestDemo(t *testing.T) {
	t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "")
	t.Setenv("OTEL_TRACES_EXPORTER", "")
	t.Setenv("OTEL_METRICS_EXPORTER", "")
	t.Setenv("OTEL_LOGS_EXPORTER", "")
	var out bytes.Buffer
	require.NoError(t, run("", "", true, &out))
	s := out.String()

	blocks := strings.Split(s, "▶ ")
	require.Greater(t, len(blocks), len(calls), s)

	ids := map[string]bool{}
	idRe := regexp.MustCompile(`"id":"([a-z0-9._-]+)"`)
	statusRe := regexp.MustCompile(`"status":([0-9]+)`)
	for _, b := range blocks[1 : len(calls)+1] {
		m := idRe.FindStringSubmatch(b)
		if m == nil {
			continue // a success
		}
		id := m[1]
		if statusRe.FindStringSubmatch(b)[1] >= "500" {
			// A failure: status Error, error.type = id, an exception.
			assert.Contains(t, b, "status=Error ("+id+")", b)
			assert.Contains(t, b, "error.type="+id+"  otelkit.error.id=-", b)
			assert.Contains(t, b, "event    http.server.request.exception  otelkit.error.id="+id, b)
		} else {
			// A 4xx: status Unset, no error.type, no exception.
			assert.Contains(t, b, "status=Unset", b)
			assert.Contains(t, b, "error.type=-  otelkit.error.id="+id, b)
			assert.NotContains(t, b, "exception", b)
		}
		ids[id] = true
	}
	assert.GreaterOrEqual(t, len(ids), 5, "at least five different errors")

	// The same error over gRPC, beside the HTTP body: the code of grpcx's
	// table, ErrorInfo with the same id, the client resolving it back, and
	// the RPC's span by the same rule.
	rpcs := 0
	grpcRe := regexp.MustCompile(`(?s)  grpc     /quickstart\.v1\.Users/\w+  ([A-Z_]+) "[^"]*"\n(.*)`)
	for _, b := range blocks[1 : len(calls)+1] {
		g := grpcRe.FindStringSubmatch(b)
		if g == nil {
			continue
		}
		rpcs++
		id := idRe.FindStringSubmatch(b)[1]
		status, err := strconv.Atoi(statusRe.FindStringSubmatch(b)[1])
		require.NoError(t, err)
		assert.Equal(t, grpcx.CodeName(grpcx.Code(status)), g[1], b)
		rest := g[2]
		assert.Contains(t, rest, "ErrorInfo reason="+id+" domain=quickstart", b)
		assert.Contains(t, rest, "the client resolves it to "+id, b)
		if status >= 500 {
			assert.Regexp(t, `span     "quickstart\.v1\.Users/\w+"  status=Error .*error\.type=`+regexp.QuoteMeta(id)+`  otelkit\.error\.id=-`, rest)
			assert.Contains(t, rest, "event    rpc.server.call.exception  otelkit.error.id="+id, b)
			statusLine := strings.SplitN(rest, "  span", 2)[0]
			for _, leak := range []string{"dial tcp", "load order", "nil map", "goroutine", ".go:", "*errors", "runtime."} {
				assert.NotContains(t, statusLine, leak, "5xx status:\n%s", statusLine)
			}
		} else {
			assert.Regexp(t, `span     "quickstart\.v1\.Users/\w+"  status=Unset .*error\.type=-  otelkit\.error\.id=`+regexp.QuoteMeta(id), rest)
		}
	}
	assert.Equal(t, 7, rpcs, "the demo calls seven errors over gRPC too")
	assert.Contains(t, s, `LocalizedMessage locale=de "Benutzer nicht gefunden"`)
	assert.Contains(t, s, `BadRequest field=email reason=users.email-invalid`)
	for _, id := range []string{"users.not-found", "auth.rate-limited", "users.invalid", "request.bad-json",
		"storage.unavailable", "internal", "admin.user-missing", "not-found", "method-not-allowed"} {
		assert.True(t, ids[id], "demo shows %s", id)
	}

	// 5xx bodies never carry the cause, a stack or a Go type.
	for _, b := range blocks[1 : len(calls)+1] {
		if !strings.Contains(b, `"status":5`) {
			continue
		}
		bodyLine := strings.SplitN(strings.SplitN(b, "client   ", 2)[1], "  span", 2)[0]
		for _, leak := range []string{"dial tcp", "load order", "nil map", "goroutine", ".go:", "*errors", "runtime."} {
			assert.NotContains(t, bodyLine, leak, "5xx body:\n%s", bodyLine)
		}
	}
	assert.Contains(t, s, `exception.message="The storage is unavailable, try again later: load order: dial tcp`)
	// Audits are printed with their trace and masked values: the audit's
	// trace id is the request span's.
	assert.Regexp(t, `span     "POST /login" .* trace_id=([0-9a-f]{32})\n(?s:.*?)audit    auth.login_failed WARN  trace_id=([0-9a-f]{32})`, s)
	m := regexp.MustCompile(`span     "POST /login" .* trace_id=([0-9a-f]{32})\n(?s:.*?)audit    auth.login_failed WARN  trace_id=([0-9a-f]{32})`).FindStringSubmatch(s)
	require.Len(t, m, 3)
	assert.Equal(t, m[1], m[2], "the audit links to the request's trace")
	assert.Contains(t, s, "password=**************")
	assert.NotContains(t, s, "hunter2")
	// /dev/errors groups what was captured.
	assert.Contains(t, s, "▶ GET /dev/errors")
	assert.Regexp(t, `2× 503 storage.unavailable`, s, "one over HTTP, one over gRPC")
}
