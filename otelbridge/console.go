package otelbridge

import (
	"context"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"go.opentelemetry.io/otel/attribute"
	sdklog "go.opentelemetry.io/otel/sdk/log"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
)

// ConsoleFormat is how [Setup] writes telemetry when no OTLP endpoint is
// configured (see [WithConsole]).
type ConsoleFormat int

const (
	// ConsoleLines writes one line per span, one per log record or audit,
	// and one per metric at each collection (every 60 s and at shutdown),
	// leaving out the resource and the connection-level span attributes.
	// It is the default.
	ConsoleLines ConsoleFormat = iota
	// ConsoleJSON writes everything the SDK's stdout exporters print:
	// indented JSON with the resource, scope and every attribute.
	ConsoleJSON
	// ConsoleOff writes nothing.
	ConsoleOff
)

// String returns the name OTELKIT_CONSOLE takes: lines, json or off.
func (f ConsoleFormat) String() string {
	switch f {
	case ConsoleLines:
		return "lines"
	case ConsoleJSON:
		return "json"
	case ConsoleOff:
		return "off"
	}
	return "ConsoleFormat(" + strconv.Itoa(int(f)) + ")"
}

// WithConsole sets how telemetry is written when no OTLP endpoint is
// configured: [ConsoleLines] (the default), [ConsoleJSON] or [ConsoleOff].
// The environment variable OTELKIT_CONSOLE (lines, json or off) wins, so
// the full dump is one variable away without a rebuild. The standard
// OTEL_TRACES_EXPORTER, OTEL_METRICS_EXPORTER and OTEL_LOGS_EXPORTER
// still choose an exporter per signal (console: the SDK's JSON on stdout;
// none: nothing).
func WithConsole(f ConsoleFormat) Option {
	return setupOptionFunc(func(c *setupConfig) { c.console = f })
}

// consoleFormat returns the format the environment or the option selects.
func consoleFormat(opt ConsoleFormat) (ConsoleFormat, error) {
	switch v := strings.ToLower(strings.TrimSpace(os.Getenv("OTELKIT_CONSOLE"))); v {
	case "":
		return opt, nil
	case "lines":
		return ConsoleLines, nil
	case "json":
		return ConsoleJSON, nil
	case "off", "none":
		return ConsoleOff, nil
	default:
		return opt, fmt.Errorf("otelbridge: OTELKIT_CONSOLE=%q: want lines, json or off", v)
	}
}

// console writes telemetry as short lines. One is shared by the span, log
// and metric exporters so that lines never interleave.
type console struct {
	mu  sync.Mutex
	w   io.Writer
	now func() time.Time // collection time of metrics
}

func newConsole(w io.Writer) *console { return &console{w: w, now: time.Now} }

// off reports whether the console discards everything ([ConsoleOff]), so
// the exporters skip formatting.
func (c *console) off() bool { return c.w == io.Discard }

func (c *console) write(b []byte) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	_, err := c.w.Write(b)
	return err
}

// noisySpanKeys are attributes of every HTTP span that say little when
// reading along: the connection, the client software. ConsoleJSON shows
// them.
var noisySpanKeys = map[attribute.Key]bool{
	"network.peer.address":     true,
	"network.peer.port":        true,
	"network.protocol.version": true,
	"network.protocol.name":    true,
	"server.address":           true,
	"server.port":              true,
	"url.scheme":               true,
	"user_agent.original":      true,
	"http.request.body.size":   true,
	"http.response.body.size":  true,
	"client.address":           true,
}

// hiddenKeys are too long for a line: the stack of an exception (the
// JSON dump and a logs backend have it) and an audit's raw template (the
// body is the rendered one).
var hiddenKeys = map[attribute.Key]bool{
	"exception.stacktrace":   true,
	"otelkit.audit.template": true,
	"audit.template":         true,
}

const maxValueLen = 160

// spanExporter writes one line per ended span:
//
//	15:04:05.000 span  GET /users/{id} 2.1ms status=Unset trace=… span=… http.response.status_code=404 …
type consoleSpans struct{ *console }

func (c consoleSpans) ExportSpans(_ context.Context, spans []sdktrace.ReadOnlySpan) error {
	if c.off() {
		return nil
	}
	var b []byte
	for _, s := range spans {
		b = append(b, s.EndTime().Format("15:04:05.000")...)
		b = append(b, " span  "...)
		b = appendValue(b, s.Name())
		b = append(b, ' ')
		b = append(b, s.EndTime().Sub(s.StartTime()).Round(time.Microsecond).String()...)
		b = append(b, " status="...)
		b = append(b, s.Status().Code.String()...)
		if d := s.Status().Description; d != "" {
			b = append(b, '(')
			b = append(b, truncate(d)...)
			b = append(b, ')')
		}
		b = append(b, " trace="...)
		b = append(b, s.SpanContext().TraceID().String()...)
		b = append(b, " span="...)
		b = append(b, s.SpanContext().SpanID().String()...)
		b = appendAttrs(b, s.Attributes(), noisySpanKeys)
		for _, e := range s.Events() {
			b = append(b, " | event "...)
			b = append(b, e.Name...)
			b = appendAttrs(b, e.Attributes, nil)
		}
		b = append(b, '\n')
	}
	return c.write(b)
}

func (consoleSpans) Shutdown(context.Context) error { return nil }

// consoleLogs writes one line per log record or audit:
//
//	15:04:05.000 audit WARN auth.login-failed "User 'mallory' failed to log in" trace=… span=… user=mallory …
type consoleLogs struct{ *console }

func (c consoleLogs) Export(_ context.Context, recs []sdklog.Record) error {
	if c.off() {
		return nil
	}
	var b []byte
	for _, r := range recs {
		ts := r.Timestamp()
		if ts.IsZero() {
			ts = r.ObservedTimestamp()
		}
		b = append(b, ts.Format("15:04:05.000")...)
		if r.InstrumentationScope().Name == AuditScope {
			b = append(b, " audit "...)
		} else {
			b = append(b, " log   "...)
		}
		sev := r.SeverityText()
		if sev == "" {
			sev = r.Severity().String()
		}
		b = append(b, sev...)
		if n := r.EventName(); n != "" {
			b = append(b, ' ')
			b = append(b, n...)
		}
		b = append(b, ' ')
		b = appendValue(b, r.Body().String())
		if r.TraceID().IsValid() {
			b = append(b, " trace="...)
			b = append(b, r.TraceID().String()...)
			b = append(b, " span="...)
			b = append(b, r.SpanID().String()...)
		}
		attrs := make([]attribute.KeyValue, 0, r.AttributesLen())
		r.WalkAttributes(func(kv attribute.KeyValue) bool {
			attrs = append(attrs, kv)
			return true
		})
		b = appendAttrs(b, attrs, nil)
		b = append(b, '\n')
	}
	return c.write(b)
}

func (consoleLogs) Shutdown(context.Context) error   { return nil }
func (consoleLogs) ForceFlush(context.Context) error { return nil }

// consoleMetrics writes one summary line per metric at each collection:
//
//	15:04:05.000 metric http.server.request.duration (s) histogram count=30 sum=0.0421 series=9
type consoleMetrics struct{ *console }

func (consoleMetrics) Temporality(k sdkmetric.InstrumentKind) metricdata.Temporality {
	return sdkmetric.DefaultTemporalitySelector(k)
}

func (consoleMetrics) Aggregation(k sdkmetric.InstrumentKind) sdkmetric.Aggregation {
	return sdkmetric.DefaultAggregationSelector(k)
}

func (c consoleMetrics) Export(_ context.Context, rm *metricdata.ResourceMetrics) error {
	if c.off() {
		return nil
	}
	var b []byte
	now := c.now().Format("15:04:05.000")
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			summary, ok := summarize(m.Data)
			if !ok {
				continue
			}
			b = append(b, now...)
			b = append(b, " metric "...)
			b = append(b, m.Name...)
			if m.Unit != "" {
				b = append(b, " ("...)
				b = append(b, m.Unit...)
				b = append(b, ')')
			}
			b = append(b, ' ')
			b = append(b, summary...)
			b = append(b, '\n')
		}
	}
	if len(b) == 0 {
		return nil
	}
	return c.write(b)
}

func (consoleMetrics) ForceFlush(context.Context) error { return nil }
func (consoleMetrics) Shutdown(context.Context) error   { return nil }

// summarize returns a metric's one-line summary; ok is false when it has
// no data point.
func summarize(data metricdata.Aggregation) (string, bool) {
	switch d := data.(type) {
	case metricdata.Sum[int64]:
		return sumLine(d.DataPoints, d.IsMonotonic)
	case metricdata.Sum[float64]:
		return sumLine(d.DataPoints, d.IsMonotonic)
	case metricdata.Gauge[int64]:
		return gaugeLine(d.DataPoints)
	case metricdata.Gauge[float64]:
		return gaugeLine(d.DataPoints)
	case metricdata.Histogram[int64]:
		return histLine(d.DataPoints)
	case metricdata.Histogram[float64]:
		return histLine(d.DataPoints)
	case metricdata.ExponentialHistogram[int64]:
		return expHistLine(d.DataPoints)
	case metricdata.ExponentialHistogram[float64]:
		return expHistLine(d.DataPoints)
	case metricdata.Summary:
		if len(d.DataPoints) == 0 {
			return "", false
		}
		var n uint64
		for _, p := range d.DataPoints {
			n += p.Count
		}
		return fmt.Sprintf("summary count=%d series=%d", n, len(d.DataPoints)), true
	}
	return "", false
}

func sumLine[N int64 | float64](points []metricdata.DataPoint[N], monotonic bool) (string, bool) {
	if len(points) == 0 {
		return "", false
	}
	var total N
	for _, p := range points {
		total += p.Value
	}
	kind := "updown"
	if monotonic {
		kind = "counter"
	}
	return fmt.Sprintf("%s total=%v series=%d", kind, total, len(points)), true
}

func gaugeLine[N int64 | float64](points []metricdata.DataPoint[N]) (string, bool) {
	if len(points) == 0 {
		return "", false
	}
	lo, hi := points[0].Value, points[0].Value
	for _, p := range points[1:] {
		lo, hi = min(lo, p.Value), max(hi, p.Value)
	}
	if lo == hi {
		return fmt.Sprintf("gauge value=%v series=%d", lo, len(points)), true
	}
	return fmt.Sprintf("gauge min=%v max=%v series=%d", lo, hi, len(points)), true
}

func histLine[N int64 | float64](points []metricdata.HistogramDataPoint[N]) (string, bool) {
	if len(points) == 0 {
		return "", false
	}
	var count uint64
	var sum N
	for _, p := range points {
		count += p.Count
		sum += p.Sum
	}
	return fmt.Sprintf("histogram count=%d sum=%s series=%d", count, formatNumber(sum), len(points)), true
}

func expHistLine[N int64 | float64](points []metricdata.ExponentialHistogramDataPoint[N]) (string, bool) {
	if len(points) == 0 {
		return "", false
	}
	var count uint64
	var sum N
	for _, p := range points {
		count += p.Count
		sum += p.Sum
	}
	return fmt.Sprintf("histogram count=%d sum=%s series=%d", count, formatNumber(sum), len(points)), true
}

func formatNumber[N int64 | float64](v N) string {
	switch x := any(v).(type) {
	case float64:
		return strconv.FormatFloat(x, 'g', 4, 64)
	default:
		return fmt.Sprint(v)
	}
}

// appendAttrs appends " key=value" for each attribute not in skip or
// hiddenKeys, sorted by key so that lines compare.
func appendAttrs(b []byte, kvs []attribute.KeyValue, skip map[attribute.Key]bool) []byte {
	kvs = slices.Clone(kvs)
	slices.SortStableFunc(kvs, func(a, b attribute.KeyValue) int { return strings.Compare(string(a.Key), string(b.Key)) })
	for _, kv := range kvs {
		if skip[kv.Key] || hiddenKeys[kv.Key] {
			continue
		}
		b = append(b, ' ')
		b = append(b, kv.Key...)
		b = append(b, '=')
		b = appendValue(b, kv.Value.String())
	}
	return b
}

// appendValue appends s, shortened to maxValueLen runes, quoted when it is
// empty or has spaces, quotes, '=' or control characters.
func appendValue(b []byte, s string) []byte {
	s = truncate(s)
	if s == "" || strings.ContainsFunc(s, func(r rune) bool {
		return r <= ' ' || r == '"' || r == '=' || r == '|' || r == utf8.RuneError || r == 0x7f
	}) {
		return strconv.AppendQuote(b, s)
	}
	return append(b, s...)
}

func truncate(s string) string {
	if utf8.RuneCountInString(s) <= maxValueLen {
		return s
	}
	i := 0
	for n := 0; n < maxValueLen; n++ {
		_, size := utf8.DecodeRuneInString(s[i:])
		i += size
	}
	return s[:i] + "…"
}
