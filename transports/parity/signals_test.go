package parity_test

import (
	"context"
	"sync"
	"testing"

	"go.opentelemetry.io/otel/attribute"
	sdklog "go.opentelemetry.io/otel/sdk/log"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	"go.opentelemetry.io/otel/trace"

	"github.com/otelkit/otelkit/transports/parity"
)

// logs is an in-memory exporter behind the SDK's simple processor: a
// record is exported while it is emitted, so after the server span ended
// (and the provider's ForceFlush) every record of the call is here.
type logs struct {
	mu      sync.Mutex
	records []sdklog.Record
}

func (l *logs) Export(_ context.Context, rs []sdklog.Record) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, r := range rs {
		l.records = append(l.records, r.Clone())
	}
	return nil
}
func (l *logs) Shutdown(context.Context) error   { return nil }
func (l *logs) ForceFlush(context.Context) error { return nil }

// of returns the records of trace tid.
func (l *logs) of(tid trace.TraceID) []sdklog.Record {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []sdklog.Record
	for _, r := range l.records {
		if r.TraceID() == tid {
			out = append(out, r)
		}
	}
	return out
}

// checkLogs: a failure has exactly one exception log record named for the
// transport, with otelkit.error.id = id, when the signal includes logs; a 4xx
// or a success has none.
func checkLogs(t *testing.T, tr transport, c parity.Case, withLogs bool, rs []sdklog.Record) {
	t.Helper()
	want := 0
	if c.Failure && withLogs {
		want = 1
	}
	if len(rs) != want {
		var names []string
		for _, r := range rs {
			names = append(names, r.EventName())
		}
		t.Fatalf("%d log records %v, want %d", len(rs), names, want)
	}
	if want == 0 {
		return
	}
	r := rs[0]
	if r.EventName() != tr.event {
		t.Errorf("log record event name %q, want %q", r.EventName(), tr.event)
	}
	attrs := map[attribute.Key]attribute.Value{}
	r.WalkAttributes(func(kv attribute.KeyValue) bool {
		attrs[kv.Key] = kv.Value
		return true
	})
	// An exception record names the error by otelkit.error.id
	// (docs/telemetry.md, "Every key"); error.type is the span's and the
	// metric's.
	if got := attrs["otelkit.error.id"].AsString(); got != c.Def.ID() {
		t.Errorf("log record otelkit.error.id %q, want %q", got, c.Def.ID())
	}
}

// points returns the count of every data point of the histogram named
// name, by attribute set.
func points(t *testing.T, reader *sdkmetric.ManualReader, name string) map[attribute.Distinct]metricdata.HistogramDataPoint[float64] {
	t.Helper()
	var rm metricdata.ResourceMetrics
	if err := reader.Collect(context.Background(), &rm); err != nil {
		t.Fatal(err)
	}
	out := map[attribute.Distinct]metricdata.HistogramDataPoint[float64]{}
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			if m.Name != name {
				continue
			}
			h, ok := m.Data.(metricdata.Histogram[float64])
			if !ok {
				t.Fatalf("%s is a %T", name, m.Data)
			}
			for _, dp := range h.DataPoints {
				out[dp.Attributes.Equivalent()] = dp
			}
		}
	}
	return out
}

// checkMetric: the call added exactly one measurement to the transport's
// duration metric (cumulative counts before and after), and its
// attributes follow the span rule: error.type = id for a failure,
// otelkit.error.id = id and no error.type for a 4xx, neither for a
// success.
func checkMetric(t *testing.T, c parity.Case, before, after map[attribute.Distinct]metricdata.HistogramDataPoint[float64]) {
	t.Helper()
	var added []metricdata.HistogramDataPoint[float64]
	for k, dp := range after {
		if n := dp.Count - before[k].Count; n > 0 {
			for range n {
				added = append(added, dp)
			}
		}
	}
	if len(added) != 1 {
		t.Fatalf("%d measurements of the duration metric, want 1", len(added))
	}
	set := added[0].Attributes
	errType, hasErrType := set.Value("error.type")
	errID, hasErrID := set.Value("otelkit.error.id")
	switch {
	case c.Def == nil:
		if hasErrType || hasErrID {
			t.Errorf("success metric: error.type %v, otelkit.error.id %v", errType, errID)
		}
	case c.Failure:
		if errType.AsString() != c.Def.ID() {
			t.Errorf("metric error.type %q, want %q (%v)", errType.AsString(), c.Def.ID(), set.ToSlice())
		}
	default:
		if hasErrType {
			t.Errorf("4xx metric has error.type %q", errType.AsString())
		}
		if errID.AsString() != c.Def.ID() {
			t.Errorf("metric otelkit.error.id %q, want %q (%v)", errID.AsString(), c.Def.ID(), set.ToSlice())
		}
	}
}
