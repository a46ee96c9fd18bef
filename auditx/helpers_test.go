package auditx_test

import (
	"context"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	sdklog "go.opentelemetry.io/otel/sdk/log"

	"github.com/otelkit/otelkit/auditx"
	"github.com/otelkit/otelkit/internal/reqctx"
)

// memExporter keeps the records the SDK exports, in memory. sdk/log v1.47
// has no in-memory exporter of its own, so this one sits behind the SDK's
// SimpleProcessor; everything before it is the real SDK.
var _ sdklog.Exporter = (*memExporter)(nil)

type memExporter struct {
	mu   sync.Mutex
	recs []sdklog.Record
}

func (m *memExporter) Export(_ context.Context, recs []sdklog.Record) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	for i := range recs {
		m.recs = append(m.recs, recs[i].Clone())
	}
	return nil
}

func (*memExporter) Shutdown(context.Context) error   { return nil }
func (*memExporter) ForceFlush(context.Context) error { return nil }

func (m *memExporter) records() []sdklog.Record {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]sdklog.Record(nil), m.recs...)
}

// only returns the single exported record.
func (m *memExporter) only(t *testing.T) sdklog.Record {
	t.Helper()
	recs := m.records()
	require.Len(t, recs, 1)
	return recs[0]
}

// newProvider returns an SDK logger provider exporting to a memExporter.
func newProvider(t *testing.T) (*sdklog.LoggerProvider, *memExporter) {
	t.Helper()
	exp := &memExporter{}
	lp := sdklog.NewLoggerProvider(sdklog.WithProcessor(sdklog.NewSimpleProcessor(exp)))
	t.Cleanup(func() { _ = lp.Shutdown(context.Background()) })
	return lp, exp
}

// errSink collects the errors a registry reports.
type errSink struct {
	mu   sync.Mutex
	errs []error
}

func (s *errSink) Handle(err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.errs = append(s.errs, err)
}

func (s *errSink) all() []error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]error(nil), s.errs...)
}

// newRegistry returns a registry on a fresh provider, with its errors
// collected.
func newRegistry(t *testing.T, opts ...auditx.Option) (*auditx.Registry, *memExporter, *errSink) {
	t.Helper()
	lp, exp := newProvider(t)
	sink := &errSink{}
	opts = append([]auditx.Option{auditx.WithLoggerProvider(lp), auditx.WithErrorHandler(sink)}, opts...)
	return auditx.NewRegistry(opts...), exp, sink
}

// attrs returns the attributes of r by key, failing on duplicates.
func attrs(t *testing.T, r sdklog.Record) map[string]attribute.Value {
	t.Helper()
	m := map[string]attribute.Value{}
	r.WalkAttributes(func(kv attribute.KeyValue) bool {
		_, dup := m[string(kv.Key)]
		require.False(t, dup, "duplicate attribute %q", kv.Key)
		m[string(kv.Key)] = kv.Value
		return true
	})
	return m
}

// keys returns the attribute keys of r in order.
func keys(r sdklog.Record) []string {
	var ks []string
	r.WalkAttributes(func(kv attribute.KeyValue) bool {
		ks = append(ks, string(kv.Key))
		return true
	})
	return ks
}

// source is a reqctx.Source with fixed info.
type source reqctx.Info

func (s source) RequestInfo() reqctx.Info { return reqctx.Info(s) }

// inRequest returns a context inside a request with info.
func inRequest(info reqctx.Info) context.Context {
	return reqctx.WithSource(context.Background(), source(info))
}
