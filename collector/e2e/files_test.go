package e2e_test

import (
	"bufio"
	"bytes"
	"errors"
	"io/fs"
	"os"
	"path/filepath"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/pdata/ptrace"
)

// exported is what the collector's file exporters have written so far,
// flattened: one entry per span, log record and metric.
type exported struct {
	Spans   []span
	Logs    []logRecord // logs.jsonl: every log record but audits
	Audits  []logRecord // audit.jsonl
	Metrics []metric
}

type span struct {
	Scope string
	ptrace.Span
}

type logRecord struct {
	Scope string
	plog.LogRecord
}

type metric struct {
	Scope string
	pmetric.Metric
}

// readExported decodes the JSONL files in dir with pdata's JSON
// unmarshalers. A line that does not decode is taken as one still being
// written when it is the last line of its file, and is an error otherwise.
func readExported(dir string) (exported, error) {
	var e exported
	err := readLines(filepath.Join(dir, "traces.jsonl"), func(b []byte) error {
		td, err := (&ptrace.JSONUnmarshaler{}).UnmarshalTraces(b)
		if err != nil {
			return err
		}
		for _, rs := range td.ResourceSpans().All() {
			for _, ss := range rs.ScopeSpans().All() {
				for _, s := range ss.Spans().All() {
					e.Spans = append(e.Spans, span{Scope: ss.Scope().Name(), Span: s})
				}
			}
		}
		return nil
	})
	if err != nil {
		return e, err
	}
	logs := func(dst *[]logRecord) func([]byte) error {
		return func(b []byte) error {
			ld, err := (&plog.JSONUnmarshaler{}).UnmarshalLogs(b)
			if err != nil {
				return err
			}
			for _, rl := range ld.ResourceLogs().All() {
				for _, sl := range rl.ScopeLogs().All() {
					for _, lr := range sl.LogRecords().All() {
						*dst = append(*dst, logRecord{Scope: sl.Scope().Name(), LogRecord: lr})
					}
				}
			}
			return nil
		}
	}
	if err := readLines(filepath.Join(dir, "logs.jsonl"), logs(&e.Logs)); err != nil {
		return e, err
	}
	if err := readLines(filepath.Join(dir, "audit.jsonl"), logs(&e.Audits)); err != nil {
		return e, err
	}
	err = readLines(filepath.Join(dir, "metrics.jsonl"), func(b []byte) error {
		md, err := (&pmetric.JSONUnmarshaler{}).UnmarshalMetrics(b)
		if err != nil {
			return err
		}
		for _, rm := range md.ResourceMetrics().All() {
			for _, sm := range rm.ScopeMetrics().All() {
				for _, m := range sm.Metrics().All() {
					e.Metrics = append(e.Metrics, metric{Scope: sm.Scope().Name(), Metric: m})
				}
			}
		}
		return nil
	})
	return e, err
}

// readLines calls fn for each line of the file at path; a missing file has
// no lines.
func readLines(path string, fn func([]byte) error) error {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 1<<20), 64<<20)
	var pending error
	for sc.Scan() {
		if pending != nil {
			return pending // a broken line that was not the last one
		}
		line := bytes.TrimSpace(sc.Bytes())
		if len(line) == 0 {
			continue
		}
		if err := fn(line); err != nil {
			pending = errors.Join(errors.New(path), err)
		}
	}
	return sc.Err()
}

// attr returns the value of key in m as a string ("" when absent).
func attr(m pcommon.Map, key string) string {
	v, ok := m.Get(key)
	if !ok {
		return ""
	}
	return v.AsString()
}

// hasAttr reports whether m holds key.
func hasAttr(m pcommon.Map, key string) bool {
	_, ok := m.Get(key)
	return ok
}

// events returns the events of s named name.
func events(s ptrace.Span, name string) []ptrace.SpanEvent {
	var out []ptrace.SpanEvent
	for _, ev := range s.Events().All() {
		if ev.Name() == name {
			out = append(out, ev)
		}
	}
	return out
}

// dataPointAttrs returns the attributes of every data point of m.
func dataPointAttrs(m pmetric.Metric) []pcommon.Map {
	var out []pcommon.Map
	switch m.Type() {
	case pmetric.MetricTypeHistogram:
		for _, dp := range m.Histogram().DataPoints().All() {
			out = append(out, dp.Attributes())
		}
	case pmetric.MetricTypeExponentialHistogram:
		for _, dp := range m.ExponentialHistogram().DataPoints().All() {
			out = append(out, dp.Attributes())
		}
	case pmetric.MetricTypeSum:
		for _, dp := range m.Sum().DataPoints().All() {
			out = append(out, dp.Attributes())
		}
	case pmetric.MetricTypeGauge:
		for _, dp := range m.Gauge().DataPoints().All() {
			out = append(out, dp.Attributes())
		}
	}
	return out
}
