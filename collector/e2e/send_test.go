package e2e_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/plog/plogotlp"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/pdata/pmetric/pmetricotlp"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"
)

// maskScope is the scope of the unmasked telemetry sent straight to the
// collector to check that the collector masks on its own.
const maskScope = "github.com/otelkit/otelkit/collector/e2e"

// unmasked are attributes sent unmasked; sensitive ones must arrive as mask,
// the others unchanged.
var unmasked = map[string]struct {
	value     any
	sensitive bool
}{
	"db_password":   {"hunter2", true},
	"Authorization": {"Bearer abc", true},
	"session_token": {int64(12345), true},
	"x_api_key":     {"k-1", true},
	"Set-Cookie":    {"sid=1", true},
	"client_secret": {"s3", true},
	"user":          {"alice", false},
	"client_ip":     {"10.0.0.1", false},
}

func putUnmasked(m pcommon.Map) {
	for k, v := range unmasked {
		_ = m.PutEmpty(k).FromRaw(v.value)
	}
}

// postUnmasked sends a span (with an event), a log record, an audit record
// and a metric carrying the unmasked attributes over OTLP/HTTP.
func postUnmasked(ctx context.Context, base string) error {
	now := pcommon.NewTimestampFromTime(time.Now())
	traceID := pcommon.TraceID{0xe2, 0xe, 1}

	td := ptrace.NewTraces()
	rs := td.ResourceSpans().AppendEmpty()
	rs.Resource().Attributes().PutStr("service.name", "e2e-mask")
	ss := rs.ScopeSpans().AppendEmpty()
	ss.Scope().SetName(maskScope)
	s := ss.Spans().AppendEmpty()
	s.SetName("mask")
	s.SetTraceID(traceID)
	s.SetSpanID(pcommon.SpanID{1})
	s.SetStartTimestamp(now)
	s.SetEndTimestamp(now)
	putUnmasked(s.Attributes())
	ev := s.Events().AppendEmpty()
	ev.SetName("mask")
	putUnmasked(ev.Attributes())

	ld := plog.NewLogs()
	rl := ld.ResourceLogs().AppendEmpty()
	rl.Resource().Attributes().PutStr("service.name", "e2e-mask")
	for _, scope := range []string{maskScope, auditScope} {
		sl := rl.ScopeLogs().AppendEmpty()
		sl.Scope().SetName(scope)
		lr := sl.LogRecords().AppendEmpty()
		lr.SetTimestamp(now)
		lr.SetEventName("e2e.mask")
		lr.Body().SetStr("mask")
		lr.Attributes().PutStr("otelkit.e2e", "mask")
		putUnmasked(lr.Attributes())
	}

	md := pmetric.NewMetrics()
	rm := md.ResourceMetrics().AppendEmpty()
	rm.Resource().Attributes().PutStr("service.name", "e2e-mask")
	sm := rm.ScopeMetrics().AppendEmpty()
	sm.Scope().SetName(maskScope)
	m := sm.Metrics().AppendEmpty()
	m.SetName("e2e.mask")
	dp := m.SetEmptySum().DataPoints().AppendEmpty()
	dp.SetTimestamp(now)
	dp.SetIntValue(1)
	putUnmasked(dp.Attributes())

	return postAll(ctx, base, td, ld, md)
}

// postAll sends td, ld and md to the OTLP/HTTP receiver at base.
func postAll(ctx context.Context, base string, td ptrace.Traces, ld plog.Logs, md pmetric.Metrics) error {
	tb, err := ptraceotlp.NewExportRequestFromTraces(td).MarshalProto()
	if err != nil {
		return err
	}
	lb, err := plogotlp.NewExportRequestFromLogs(ld).MarshalProto()
	if err != nil {
		return err
	}
	mb, err := pmetricotlp.NewExportRequestFromMetrics(md).MarshalProto()
	if err != nil {
		return err
	}
	for path, body := range map[string][]byte{"/v1/traces": tb, "/v1/logs": lb, "/v1/metrics": mb} {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+path, bytes.NewReader(body))
		if err != nil {
			return err
		}
		req.Header.Set("Content-Type", "application/x-protobuf")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return err
		}
		msg, _ := io.ReadAll(resp.Body)
		_ = resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("POST %s: %s: %s", path, resp.Status, msg)
		}
	}
	return nil
}

// checkCollectorMasks checks that what postUnmasked sent arrived masked in
// every pipeline.
func checkCollectorMasks(e exported) error {
	var maps []struct {
		where string
		m     pcommon.Map
	}
	add := func(where string, m pcommon.Map) {
		maps = append(maps, struct {
			where string
			m     pcommon.Map
		}{where, m})
	}
	for _, s := range e.Spans {
		if s.Scope == maskScope {
			add("span", s.Attributes())
			for _, ev := range events(s.Span, "mask") {
				add("span event", ev.Attributes())
			}
		}
	}
	for _, lr := range e.Logs {
		if lr.Scope == maskScope {
			add("log record", lr.Attributes())
		}
	}
	for _, lr := range e.Audits {
		if attr(lr.Attributes(), "otelkit.e2e") == "mask" {
			add("audit record", lr.Attributes())
		}
	}
	for _, m := range e.Metrics {
		if m.Scope == maskScope {
			for _, a := range dataPointAttrs(m.Metric) {
				add("data point", a)
			}
		}
	}
	if len(maps) != 5 {
		return fmt.Errorf("found %d of the 5 attribute sets sent unmasked", len(maps))
	}
	for _, x := range maps {
		for k, v := range unmasked {
			got := attr(x.m, k)
			want := fmt.Sprint(v.value)
			if v.sensitive {
				want = mask
			}
			if got != want {
				return fmt.Errorf("%s: %s=%q, want %q", x.where, k, got, want)
			}
		}
	}
	return nil
}

// postStandin sends what the quickstart's -demo run sends, as the quickstart
// is planned: a 404 users.not-found and a 503 storage.unavailable request
// span with their exception events, the exception record of the 503, the
// auth.login_failed audit in the trace of a POST /login span, and
// http.server.request.duration data points by error.type. It checks the
// collector alone, with no otelkit code involved.
func postStandin(ctx context.Context, base string) error {
	now := pcommon.NewTimestampFromTime(time.Now())
	td := ptrace.NewTraces()
	rs := td.ResourceSpans().AppendEmpty()
	rs.Resource().Attributes().PutStr("service.name", "quickstart-standin")
	ss := rs.ScopeSpans().AppendEmpty()
	ss.Scope().SetName("go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp")
	ld := plog.NewLogs()
	rl := ld.ResourceLogs().AppendEmpty()
	rl.Resource().Attributes().PutStr("service.name", "quickstart-standin")
	exc := rl.ScopeLogs().AppendEmpty()
	exc.Scope().SetName(exceptionScope)
	aud := rl.ScopeLogs().AppendEmpty()
	aud.Scope().SetName(auditScope)

	newSpan := func(n byte, route string, status int64, id string) ptrace.Span {
		s := ss.Spans().AppendEmpty()
		s.SetName(route)
		s.SetKind(ptrace.SpanKindServer)
		s.SetTraceID(pcommon.TraceID{0x5a, n})
		s.SetSpanID(pcommon.SpanID{0x5a, n})
		s.SetStartTimestamp(now)
		s.SetEndTimestamp(now)
		s.Attributes().PutStr("http.route", route)
		s.Attributes().PutInt("http.response.status_code", status)
		if id != "" && status < 500 {
			s.Attributes().PutStr("otelkit.error.id", id)
		}
		if id != "" && status >= 500 {
			s.Attributes().PutStr("error.type", id)
			ev := s.Events().AppendEmpty()
			ev.SetName("http.server.request.exception")
			ev.Attributes().PutStr("exception.type", "*errors.errorString")
			ev.Attributes().PutStr("exception.message", id)
			ev.Attributes().PutStr("otelkit.error.id", id)
			{
				s.Status().SetCode(ptrace.StatusCodeError)
				s.Status().SetMessage(id)
				ev.Attributes().PutStr("exception.stacktrace", "goroutine 1 [running]:\nmain.main()")
				lr := exc.LogRecords().AppendEmpty()
				lr.SetEventName("http.server.request.exception")
				lr.SetSeverityNumber(plog.SeverityNumberError)
				lr.SetSeverityText("ERROR")
				lr.SetTraceID(s.TraceID())
				lr.SetSpanID(s.SpanID())
				lr.Body().SetStr(id)
				lr.Attributes().PutStr("otelkit.error.id", id)
			}
		}
		return s
	}
	newSpan(1, "/users/{id}", 404, clientErrorID)
	newSpan(2, "/orders/{id}", 503, serverErrorID)
	login := newSpan(3, "/login", 429, "auth.rate-limited")

	lr := aud.LogRecords().AppendEmpty()
	lr.SetTimestamp(now)
	lr.SetEventName(auditEvent)
	lr.SetSeverityNumber(plog.SeverityNumberWarn)
	lr.SetSeverityText("WARN")
	lr.SetTraceID(login.TraceID())
	lr.SetSpanID(login.SpanID())
	lr.Body().SetStr("login failed for alice from 127.0.0.1")
	lr.Attributes().PutStr("otelkit.audit.template", "login failed for {user.name} from {client.address}")
	lr.Attributes().PutStr("otelkit.audit.record_id", "r-1")
	lr.Attributes().PutStr("user.name", "alice")
	lr.Attributes().PutStr("client.address", "127.0.0.1")
	lr.Attributes().PutStr("password", "hunter2") // the collector masks it

	md := pmetric.NewMetrics()
	sm := md.ResourceMetrics().AppendEmpty().ScopeMetrics().AppendEmpty()
	sm.Scope().SetName("go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp")
	h := sm.Metrics().AppendEmpty()
	h.SetName(durationMetric)
	hist := h.SetEmptyHistogram()
	hist.SetAggregationTemporality(pmetric.AggregationTemporalityCumulative)
	for _, id := range []string{clientErrorID, serverErrorID} {
		dp := hist.DataPoints().AppendEmpty()
		dp.SetTimestamp(now)
		dp.SetCount(1)
		dp.SetSum(0.01)
		if id == serverErrorID {
			dp.Attributes().PutStr("error.type", id)
		} else {
			dp.Attributes().PutStr("otelkit.error.id", id)
		}
	}
	return postAll(ctx, base, td, ld, md)
}
