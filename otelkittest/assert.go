package otelkittest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"reflect"
	"regexp"
	"slices"
	"strings"

	"go.opentelemetry.io/otel/attribute"
	otelcodes "go.opentelemetry.io/otel/codes"
	otellog "go.opentelemetry.io/otel/log"
	sdklog "go.opentelemetry.io/otel/sdk/log"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"google.golang.org/grpc/codes"

	"github.com/otelkit/otelkit/errorsx"
)

// Attribute keys otelkit records beside the semantic conventions.
const (
	// KeyErrorID is the registered id on spans, exception records and, for a
	// 4xx, the request duration metric.
	KeyErrorID = attribute.Key("otelkit.error.id")
	// MetricRequestDuration is otelhttp's server request duration histogram.
	MetricRequestDuration = "http.server.request.duration"
)

// Check is an extra expectation of [Kit.AssertError].
type Check interface{ check(*errorCheck) }

type checkFunc func(*errorCheck)

func (f checkFunc) check(c *errorCheck) { f(c) }

type errorCheck struct {
	info   []infoWant
	causes []any
	code   *codes.Code // gRPC only
}

type infoWant struct {
	key   string
	value any
}

// Info expects the body's public info to hold key with value, compared as
// JSON (Info("retry_after", 30) matches "info":{"retry_after":30}).
func Info(key string, value any) Check {
	return checkFunc(func(c *errorCheck) { c.info = append(c.info, infoWant{key, value}) })
}

// NoLeak expects the response to show nothing of the causes: for an error,
// the message of every error in its chain (its own registered message
// aside) and its Go type names; for a string, the string. Every response
// is also checked for Go stack traces.
func NoLeak(causes ...any) Check {
	return checkFunc(func(c *errorCheck) { c.causes = append(c.causes, causes...) })
}

// body is what the assertions read of a rendered error: problem+json's
// fields, or the first entry of httpx.ErrorList's {"errors":[…]}.
type body struct {
	id, title, traceID string
	status             int
	hasStatus          bool
	info               map[string]json.RawMessage
}

func decodeBody(b []byte) (body, error) {
	var raw struct {
		ID      json.RawMessage            `json:"id"`
		Title   string                     `json:"title"`
		Status  *int                       `json:"status"`
		TraceID string                     `json:"trace_id"`
		Info    map[string]json.RawMessage `json:"info"`
		Errors  []struct {
			Code    string                     `json:"code"`
			Message string                     `json:"message"`
			Info    map[string]json.RawMessage `json:"info"`
		} `json:"errors"`
	}
	if err := json.Unmarshal(b, &raw); err != nil {
		return body{}, err
	}
	out := body{title: raw.Title, traceID: raw.TraceID, info: raw.Info}
	if raw.Status != nil {
		out.status, out.hasStatus = *raw.Status, true
	}
	switch {
	case raw.ID != nil:
		if json.Unmarshal(raw.ID, &out.id) != nil {
			out.id = string(raw.ID) // not a string: shown as is
		}
	case len(raw.Errors) > 0:
		out.id, out.title, out.info = raw.Errors[0].Code, raw.Errors[0].Message, raw.Errors[0].Info
	}
	return out, nil
}

var stackRe = regexp.MustCompile(`goroutine \d+ \[|\.go:\d+`)

// AssertError checks that r is the rendering of def: its status, a JSON
// content type (application/problem+json or application/json), def's id
// in the body (problem+json's id, or the first code of httpx.ErrorList), the
// [Info] given, no Go stack trace, and nothing of the [NoLeak] causes. It
// reports every difference at once and returns whether there was none.
func (k *Kit) AssertError(r *Response, def *errorsx.Def, checks ...Check) bool {
	k.t.Helper()
	var c errorCheck
	for _, ch := range checks {
		ch.check(&c)
	}
	var d diff
	d.field("status", r.StatusCode, def.Status())
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if mt != "application/problem+json" && mt != "application/json" {
		d.add("content type: got %q, want application/problem+json or application/json", r.Header.Get("Content-Type"))
	}
	b, err := decodeBody(r.body)
	if err != nil {
		d.add("body: not a JSON object: %v", err)
	} else {
		d.field("id", b.id, def.ID())
		if b.hasStatus {
			d.field("body status", b.status, def.Status())
		}
		for _, w := range c.info {
			got, ok := b.info[w.key]
			want, err := json.Marshal(w.value)
			switch {
			case err != nil:
				d.add("info.%s: want value %#v cannot be encoded: %v", w.key, w.value, err)
			case !ok:
				d.add("info.%s: missing, want %s", w.key, want)
			case !jsonEqual(got, want):
				d.add("info.%s: got %s, want %s", w.key, got, want)
			}
		}
	}
	text := r.Text() + "\n" + headerText(r.Header)
	if m := stackRe.FindString(text); m != "" {
		d.add("leak: a Go stack trace (%q)", m)
	}
	for _, leak := range leaks(c.causes, def) {
		if strings.Contains(text, leak) {
			d.add("leak: %q", leak)
		}
	}
	return d.report(k.t, "response is not "+def.ID(), "body: "+strings.TrimSpace(r.Text()))
}

// leaks returns the texts of causes a response must not show.
func leaks(causes []any, def *errorsx.Def) []string {
	var out []string
	for _, c := range causes {
		switch c := c.(type) {
		case string:
			if c != "" {
				out = append(out, c)
			}
		case error:
			walk(c, func(e error) {
				if msg := e.Error(); msg != "" && msg != def.Message() {
					if _, isDef := e.(*errorsx.Def); !isDef {
						out = append(out, msg)
					}
				}
				if t := reflect.TypeOf(e); t != nil && !strings.HasPrefix(t.String(), "*errorsx.") {
					out = append(out, t.String())
				}
			})
		default:
			out = append(out, fmt.Sprint(c))
		}
	}
	return out
}

// walk calls f for err and every error it wraps (Unwrap and joins).
func walk(err error, f func(error)) {
	if err == nil {
		return
	}
	f(err)
	switch u := err.(type) {
	case interface{ Unwrap() []error }:
		for _, e := range u.Unwrap() {
			walk(e, f)
		}
	default:
		walk(errors.Unwrap(err), f)
	}
}

func headerText(h map[string][]string) string {
	var b strings.Builder
	for k, vs := range h {
		for _, v := range vs {
			b.WriteString(k + ": " + v + "\n")
		}
	}
	return b.String()
}

func jsonEqual(a, b []byte) bool {
	var x, y any
	if json.Unmarshal(a, &x) != nil || json.Unmarshal(b, &y) != nil {
		return bytes.Equal(a, b)
	}
	return reflect.DeepEqual(x, y)
}

// AssertAudit checks that exactly one audit record of type typ carries
// attrs (among its others).
func (k *Kit) AssertAudit(typ string, attrs ...attribute.KeyValue) bool {
	k.t.Helper()
	return k.AssertAudits(typ, 1, attrs...)
}

// AssertAudits checks that exactly n audit records of type typ carry attrs
// (among their others); n = 0 checks that none does.
func (k *Kit) AssertAudits(typ string, n int, attrs ...attribute.KeyValue) bool {
	k.t.Helper()
	recs := k.Audits(typ)
	var matched int
	var lines []string
	for i, r := range recs {
		got := recordAttrs(r)
		missing := missingAttrs(got, attrs)
		if len(missing) == 0 {
			matched++
		}
		line := fmt.Sprintf("#%d %s", i+1, formatAttrs(got))
		if len(missing) > 0 {
			line += "\n      differs: " + strings.Join(missing, ", ")
		}
		lines = append(lines, line)
	}
	if matched == n {
		return true
	}
	var d diff
	d.add("audit %s with %s: got %d, want %d", typ, orNothing(formatAttrs(attrs)), matched, n)
	context := fmt.Sprintf("audits of type %s: %d", typ, len(recs))
	if len(lines) > 0 {
		context += "\n    " + strings.Join(lines, "\n    ")
	}
	if others := k.Audits(); len(others) > len(recs) {
		var types []string
		for _, r := range others {
			if r.EventName() != typ && !slices.Contains(types, r.EventName()) {
				types = append(types, r.EventName())
			}
		}
		context += "\nother audit types: " + strings.Join(types, ", ")
	}
	return d.report(k.t, "audits", context)
}

// AssertRequestSpan checks the server span of the request r answers
// against otelkit's conventions for def (nil for a success):
//
//   - a 5xx (and errorsx.Internal, what panics and unregistered errors
//     render): status Error, error.type = id,
//     and an exception record (a span event or a log record in the span,
//     named exception or <operation>.exception);
//   - a 4xx: status Unset, no error.type, otelkit.error.id = id, no
//     exception record (span event, or log record of severity ERROR or
//     above: httpx.WithClientErrorLogs may log a 4xx at WARN);
//   - a success: status Unset, neither error.type nor otelkit.error.id.
func (k *Kit) AssertRequestSpan(r *Response, def *errorsx.Def) bool {
	k.t.Helper()
	s := k.SpanOf(r)
	if s == nil {
		k.t.Errorf("otelkittest: no server span for the response (%d %s); spans: %s", r.StatusCode, r.Text(), spanNames(k.Spans()))
		return false
	}
	return k.checkSpan(s, def)
}

// checkSpan checks span s against the conventions for def.
func (k *Kit) checkSpan(s sdktrace.ReadOnlySpan, def *errorsx.Def) bool {
	k.t.Helper()
	attrs := s.Attributes()
	errType, hasType := lookup(attrs, semconv.ErrorTypeKey)
	id, hasID := lookup(attrs, KeyErrorID)
	exceptions := k.exceptionsOf(s)
	var d diff
	switch {
	case def == nil:
		d.field("status", s.Status().Code, otelcodes.Unset)
		if hasType {
			d.add("error.type: got %s, want none for a success", errType.String())
		}
		if hasID {
			d.add("%s: got %s, want none for a success", KeyErrorID, id.String())
		}
		if len(exceptions) > 0 {
			d.add("exception records: got %s, want none", strings.Join(exceptions, ", "))
		}
	case def.Status() >= 500:
		d.field("status", s.Status().Code, otelcodes.Error)
		d.field("error.type", errType.String(), def.ID())
		if len(exceptions) == 0 {
			d.add("exception record: none, want a span event or a log record named exception or <operation>.exception")
		}
	default:
		d.field("status", s.Status().Code, otelcodes.Unset)
		if hasType {
			d.add("error.type: got %s, want none for a %d (the client's error)", errType.String(), def.Status())
		}
		d.field(string(KeyErrorID), id.String(), def.ID())
		if len(exceptions) > 0 {
			d.add("exception records: got %s, want none for a %d", strings.Join(exceptions, ", "), def.Status())
		}
	}
	name := "success"
	if def != nil {
		name = def.ID()
	}
	return d.report(k.t, "span "+s.Name()+" is not as the conventions want for "+name, "span attributes: "+formatAttrs(attrs))
}

// exceptionsOf names the exception records of span s: its events and the
// log records of severity ERROR or above emitted in it.
func (k *Kit) exceptionsOf(s sdktrace.ReadOnlySpan) []string {
	var out []string
	for _, e := range s.Events() {
		if isException(e.Name) {
			out = append(out, "event "+e.Name)
		}
	}
	for _, r := range k.Exceptions() {
		if r.TraceID() == s.SpanContext().TraceID() && r.SpanID() == s.SpanContext().SpanID() && r.Severity() >= otellog.SeverityError {
			out = append(out, "log record "+r.EventName())
		}
	}
	return out
}

// AssertRequestMetric checks that http.server.request.duration has a data
// point for the request r answers, labelled as the conventions want for
// def (nil for a success): http.response.status_code, and error.type = id
// for a 5xx, otelkit.error.id = id and no error.type for a 4xx, neither for
// a success.
func (k *Kit) AssertRequestMetric(r *Response, def *errorsx.Def) bool {
	k.t.Helper()
	want := []attribute.KeyValue{semconv.HTTPResponseStatusCode(r.StatusCode)}
	var absent []attribute.Key
	switch {
	case def == nil:
		absent = []attribute.Key{semconv.ErrorTypeKey, KeyErrorID}
	case def.Status() >= 500:
		want = append(want, semconv.ErrorTypeKey.String(def.ID()))
	default:
		want = append(want, KeyErrorID.String(def.ID()))
		absent = []attribute.Key{semconv.ErrorTypeKey}
	}
	return k.assertMetric(MetricRequestDuration, want, absent)
}

// AssertMetric checks that metric name has a data point whose attributes
// include attrs.
func (k *Kit) AssertMetric(name string, attrs ...attribute.KeyValue) bool {
	k.t.Helper()
	return k.assertMetric(name, attrs, nil)
}

func (k *Kit) assertMetric(name string, want []attribute.KeyValue, absent []attribute.Key) bool {
	k.t.Helper()
	points, found := dataPoints(k.Metrics(), name)
	var lines []string
	for _, set := range points {
		got := set.ToSlice()
		missing := missingAttrs(got, want)
		for _, key := range absent {
			if v, ok := set.Value(key); ok {
				missing = append(missing, fmt.Sprintf("%s=%s (want none)", key, formatValue(v)))
			}
		}
		if len(missing) == 0 {
			return true
		}
		lines = append(lines, formatAttrs(got)+"\n      differs: "+strings.Join(missing, ", "))
	}
	var d diff
	what := formatAttrs(want)
	for _, key := range absent {
		what += " without " + string(key)
	}
	if !found {
		d.add("metric %s: not recorded", name)
	} else {
		d.add("metric %s: no data point with %s", name, what)
	}
	return d.report(k.t, "metrics", "data points:\n    "+strings.Join(lines, "\n    "))
}

// dataPoints returns the attribute sets of metric name's data points.
func dataPoints(rm metricdata.ResourceMetrics, name string) ([]attribute.Set, bool) {
	var sets []attribute.Set
	found := false
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			if m.Name != name {
				continue
			}
			found = true
			switch d := m.Data.(type) {
			case metricdata.Histogram[float64]:
				for _, p := range d.DataPoints {
					sets = append(sets, p.Attributes)
				}
			case metricdata.Histogram[int64]:
				for _, p := range d.DataPoints {
					sets = append(sets, p.Attributes)
				}
			case metricdata.Sum[int64]:
				for _, p := range d.DataPoints {
					sets = append(sets, p.Attributes)
				}
			case metricdata.Sum[float64]:
				for _, p := range d.DataPoints {
					sets = append(sets, p.Attributes)
				}
			case metricdata.Gauge[int64]:
				for _, p := range d.DataPoints {
					sets = append(sets, p.Attributes)
				}
			case metricdata.Gauge[float64]:
				for _, p := range d.DataPoints {
					sets = append(sets, p.Attributes)
				}
			case metricdata.ExponentialHistogram[float64]:
				for _, p := range d.DataPoints {
					sets = append(sets, p.Attributes)
				}
			case metricdata.ExponentialHistogram[int64]:
				for _, p := range d.DataPoints {
					sets = append(sets, p.Attributes)
				}
			}
		}
	}
	return sets, found
}

// AssertNoSecret checks that secret appears nowhere in what the kit saw:
// span names, attributes, events and status descriptions; log record
// bodies and attributes; metric data point attributes; and the headers
// and bodies of the responses served through [Kit.Do] or read by
// [Kit.Response]. It reports every place it was found.
func (k *Kit) AssertNoSecret(secret string) bool {
	k.t.Helper()
	if secret == "" {
		k.t.Errorf("otelkittest: AssertNoSecret with an empty secret")
		return false
	}
	var d diff
	in := func(where, text string) {
		if strings.Contains(text, secret) {
			d.add("%s: %s", where, shorten(text, secret))
		}
	}
	inAttrs := func(where string, kvs []attribute.KeyValue) {
		for _, kv := range kvs {
			in(where+" attribute "+string(kv.Key), string(kv.Key)+"="+kv.Value.String())
		}
	}
	for _, s := range k.Spans() {
		where := "span " + s.Name()
		in(where+" name", s.Name())
		in(where+" status", s.Status().Description)
		inAttrs(where, s.Attributes())
		for _, e := range s.Events() {
			in(where+" event name", e.Name)
			inAttrs(where+" event "+e.Name, e.Attributes)
		}
	}
	for i, r := range k.Logs() {
		where := fmt.Sprintf("log record #%d %s (%s)", i+1, r.EventName(), r.InstrumentationScope().Name)
		in(where+" body", r.Body().String())
		inAttrs(where, recordAttrs(r))
	}
	for _, sm := range k.Metrics().ScopeMetrics {
		for _, m := range sm.Metrics {
			sets, _ := dataPoints(metricdata.ResourceMetrics{ScopeMetrics: []metricdata.ScopeMetrics{{Metrics: []metricdata.Metrics{m}}}}, m.Name)
			for _, set := range sets {
				inAttrs("metric "+m.Name, set.ToSlice())
			}
		}
	}
	k.mu.Lock()
	responses := slices.Clone(k.responses)
	k.mu.Unlock()
	for i, r := range responses {
		where := fmt.Sprintf("response #%d (%d)", i+1, r.StatusCode)
		in(where+" header", headerText(r.Header))
		in(where+" body", r.Text())
	}
	return d.report(k.t, fmt.Sprintf("secret %q found", secret), "")
}

// shorten returns text around the first occurrence of secret.
func shorten(text, secret string) string {
	i := strings.Index(text, secret)
	from, to := max(0, i-40), min(len(text), i+len(secret)+40)
	s := text[from:to]
	if from > 0 {
		s = "…" + s
	}
	if to < len(text) {
		s += "…"
	}
	return fmt.Sprintf("%q", s)
}

func recordAttrs(r sdklog.Record) []attribute.KeyValue {
	out := make([]attribute.KeyValue, 0, r.AttributesLen())
	r.WalkAttributes(func(kv attribute.KeyValue) bool {
		out = append(out, kv)
		return true
	})
	return out
}

func lookup(kvs []attribute.KeyValue, key attribute.Key) (attribute.Value, bool) {
	for _, kv := range kvs {
		if kv.Key == key {
			return kv.Value, true
		}
	}
	return attribute.Value{}, false
}

// missingAttrs describes each of want that got lacks or has another value.
func missingAttrs(got, want []attribute.KeyValue) []string {
	var out []string
	for _, w := range want {
		v, ok := lookup(got, w.Key)
		switch {
		case !ok:
			out = append(out, fmt.Sprintf("%s missing (want %s)", w.Key, formatValue(w.Value)))
		case v != w.Value:
			out = append(out, fmt.Sprintf("%s=%s (want %s)", w.Key, formatValue(v), formatValue(w.Value)))
		}
	}
	return out
}

func formatAttrs(kvs []attribute.KeyValue) string {
	parts := make([]string, len(kvs))
	for i, kv := range kvs {
		parts[i] = string(kv.Key) + "=" + formatValue(kv.Value)
	}
	return strings.Join(parts, " ")
}

// formatValue shows a value with its type where it matters: strings
// quoted, so that 30 and "30" differ on the page.
func formatValue(v attribute.Value) string {
	if v.Type() == attribute.STRING {
		return fmt.Sprintf("%q", v.AsString())
	}
	return v.String()
}

func orNothing(s string) string {
	if s == "" {
		return "any attributes"
	}
	return s
}

func spanNames(spans []sdktrace.ReadOnlySpan) string {
	if len(spans) == 0 {
		return "none"
	}
	names := make([]string, len(spans))
	for i, s := range spans {
		names[i] = s.Name()
	}
	return strings.Join(names, ", ")
}

// diff collects the differences one assertion found.
type diff struct{ lines []string }

func (d *diff) add(format string, args ...any) {
	d.lines = append(d.lines, fmt.Sprintf(format, args...))
}

// field adds a line when got and want differ.
func (d *diff) field(name string, got, want any) {
	if got != want {
		d.add("%s: got %v, want %v", name, quoteString(got), quoteString(want))
	}
}

func quoteString(v any) any {
	if s, ok := v.(string); ok {
		return fmt.Sprintf("%q", s)
	}
	return v
}

// report writes the differences, if any, as one error of t and returns
// whether there were none.
func (d *diff) report(t errorfer, title, context string) bool {
	if len(d.lines) == 0 {
		return true
	}
	t.Helper()
	msg := "otelkittest: " + title + ":\n    " + strings.Join(d.lines, "\n    ")
	if context != "" {
		msg += "\n" + context
	}
	t.Errorf("%s", msg)
	return false
}

// errorfer is the part of testing.TB the report uses.
type errorfer interface {
	Helper()
	Errorf(format string, args ...any)
}
