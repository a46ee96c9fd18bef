package delivery

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlplog/otlploghttp"
	"go.opentelemetry.io/otel/log"
	sdklog "go.opentelemetry.io/otel/sdk/log"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	"go.opentelemetry.io/otel/sdk/resource"
	collogpb "go.opentelemetry.io/proto/otlp/collector/logs/v1"
	"google.golang.org/protobuf/proto"
)

const auditScope = "github.com/otelkit/otelkit/auditx"

// receiver is an OTLP/HTTP logs endpoint on loopback that decodes
// ExportLogsServiceRequest with the OTLP protobuf types and counts records by
// their otelkit.audit.record_id. It can be down, answer a fixed status, or answer
// slowly. While down it keeps its port (so no other test's server can take
// it over) and resets every connection: the exporter fails as it does
// against a crashed collector, and nothing is received.
type receiver struct {
	t    testing.TB
	addr string
	srv  *http.Server

	down   atomic.Bool
	status atomic.Int32 // 0: 200 OK
	delay  atomic.Int64 // per request, nanoseconds

	mu       sync.Mutex
	seen     map[string]int
	bodies   map[string]string
	total    int
	requests int
	rejected int
}

// gate resets connections while the receiver is down.
type gate struct {
	net.Listener
	r *receiver
}

func (g gate) Accept() (net.Conn, error) {
	for {
		c, err := g.Listener.Accept()
		if err != nil || !g.r.down.Load() {
			return c, err
		}
		if tc, ok := c.(*net.TCPConn); ok {
			_ = tc.SetLinger(0) // RST, not FIN
		}
		_ = c.Close()
	}
}

func newReceiver(t testing.TB) *receiver {
	r := &receiver{t: t, seen: map[string]int{}, bodies: map[string]string{}}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	r.addr = ln.Addr().String()
	r.srv = &http.Server{Handler: r, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = r.srv.Serve(gate{ln, r}) }()
	t.Cleanup(func() { _ = r.srv.Close() })
	return r
}

// newDownReceiver returns a receiver that is down.
func newDownReceiver(t testing.TB) *receiver {
	r := newReceiver(t)
	r.stop()
	return r
}

// stop takes the receiver down: new connections are reset, idle ones closed,
// requests in flight aborted.
func (r *receiver) stop() {
	r.down.Store(true)
	r.srv.SetKeepAlivesEnabled(false) // also closes idle connections
}

// start brings the receiver back up.
func (r *receiver) start() {
	r.srv.SetKeepAlivesEnabled(true)
	r.down.Store(false)
}

func (r *receiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	if r.down.Load() {
		panic(http.ErrAbortHandler) // drop the connection without an answer
	}
	body, err := io.ReadAll(req.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	if st := r.status.Load(); st != 0 {
		r.mu.Lock()
		r.rejected++
		r.mu.Unlock()
		http.Error(w, "unavailable", int(st))
		return
	}
	if d := r.delay.Load(); d > 0 {
		select {
		case <-time.After(time.Duration(d)):
		case <-req.Context().Done():
			return
		}
	}
	var msg collogpb.ExportLogsServiceRequest
	if err := proto.Unmarshal(body, &msg); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	r.mu.Lock()
	r.requests++
	for _, rl := range msg.ResourceLogs {
		for _, sl := range rl.ScopeLogs {
			for _, lr := range sl.LogRecords {
				r.total++
				for _, kv := range lr.Attributes {
					if kv.Key == "otelkit.audit.record_id" {
						id := kv.Value.GetStringValue()
						r.seen[id]++
						r.bodies[id] = lr.GetBody().GetStringValue()
					}
				}
			}
		}
	}
	r.mu.Unlock()
	w.WriteHeader(http.StatusOK)
}

// counts compares what arrived with the ids emitted.
type counts struct {
	emitted, delivered, duplicated, lost int
}

func (c counts) String() string {
	return fmt.Sprintf("emitted=%d delivered=%d duplicated=%d lost=%d", c.emitted, c.delivered, c.duplicated, c.lost)
}

func (r *receiver) counts(ids []string) counts {
	r.mu.Lock()
	defer r.mu.Unlock()
	c := counts{emitted: len(ids)}
	for _, id := range ids {
		n := r.seen[id]
		if n == 0 {
			c.lost++
			continue
		}
		c.delivered++
		c.duplicated += n - 1
	}
	return c
}

func (r *receiver) has(id string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.seen[id] > 0
}

// newExporter is the real OTLP/HTTP exporter with its own retries off, so
// the Processor owns retrying.
func newExporter(t testing.TB, addr string) sdklog.Exporter {
	exp, err := otlploghttp.New(context.Background(),
		otlploghttp.WithEndpoint(addr),
		otlploghttp.WithInsecure(),
		otlploghttp.WithRetry(otlploghttp.RetryConfig{Enabled: false}),
		otlploghttp.WithTimeout(5*time.Second),
	)
	require.NoError(t, err)
	return exp
}

// metricsReader is a real SDK MeterProvider with a manual reader.
type metricsReader struct {
	reader *sdkmetric.ManualReader
	mp     *sdkmetric.MeterProvider
}

func newMetricsReader() *metricsReader {
	r := sdkmetric.NewManualReader()
	return &metricsReader{reader: r, mp: sdkmetric.NewMeterProvider(sdkmetric.WithReader(r))}
}

// sum returns the counter's value, restricted to one reason when given.
func (m *metricsReader) sum(t testing.TB, name, reason string) int64 {
	var rm metricdata.ResourceMetrics
	require.NoError(t, m.reader.Collect(context.Background(), &rm))
	var total int64
	for _, sm := range rm.ScopeMetrics {
		for _, mt := range sm.Metrics {
			if mt.Name != name {
				continue
			}
			s, ok := mt.Data.(metricdata.Sum[int64])
			if !ok {
				continue
			}
			for _, dp := range s.DataPoints {
				if reason != "" {
					v, _ := dp.Attributes.Value("error.type")
					if v.AsString() != reason {
						continue
					}
				}
				total += dp.Value
			}
		}
	}
	return total
}

// errSink collects errors given to the error handler.
type errSink struct {
	mu   sync.Mutex
	errs []error
}

func (s *errSink) handle(err error) {
	s.mu.Lock()
	s.errs = append(s.errs, err)
	s.mu.Unlock()
}

func (s *errSink) matching(target error) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, e := range s.errs {
		if errors.Is(e, target) {
			n++
		}
	}
	return n
}

func (s *errSink) contains(sub string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, e := range s.errs {
		if strings.Contains(e.Error(), sub) {
			return true
		}
	}
	return false
}

// auditLogger returns a logger with the auditx scope on a real
// LoggerProvider whose only processor is p.
func auditLogger(p sdklog.Processor) (log.Logger, *sdklog.LoggerProvider) {
	lp := sdklog.NewLoggerProvider(
		sdklog.WithProcessor(p),
		sdklog.WithResource(resource.NewSchemaless(attribute.String("service.name", "delivery-test"))),
	)
	return lp.Logger(auditScope, log.WithInstrumentationVersion("test")), lp
}

// emitAudit emits one audit record shaped like auditx's.
func emitAudit(l log.Logger, id string) {
	var r log.Record
	r.SetEventName("user.login")
	r.SetTimestamp(time.Now())
	r.SetSeverity(log.SeverityInfo)
	r.SetSeverityText("INFO")
	r.SetBody(attribute.StringValue("user alice logged in (" + id + ")"))
	r.AddAttributes(
		attribute.String("otelkit.audit.record_id", id),
		attribute.String("otelkit.audit.template", "user {user} logged in"),
		attribute.String("user", "alice"),
	)
	l.Emit(context.Background(), r)
}

func ids(prefix string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("%s-%d", prefix, i)
	}
	return out
}

// spoolFiles lists the files in dir with the given suffix.
func spoolFiles(t testing.TB, dir, suffix string) []string {
	ents, err := os.ReadDir(dir)
	require.NoError(t, err)
	var out []string
	for _, e := range ents {
		if strings.HasSuffix(e.Name(), suffix) {
			out = append(out, filepath.Join(dir, e.Name()))
		}
	}
	return out
}

// spooledIDs reads every valid record in dir's segments without opening the
// spool (no lock, no repair), returning the otelkit.audit.record_id values.
func spooledIDs(t testing.TB, dir string) map[string]bool {
	out := map[string]bool{}
	dec := newDecoder()
	defer dec.shutdown(context.Background())
	for _, path := range spoolFiles(t, dir, segExt) {
		data, err := os.ReadFile(path)
		require.NoError(t, err)
		if len(data) < len(segMagic) {
			continue
		}
		scan(data, defaultMaxRecordBytes, func(off, n int, _ uint64) {
			_, rec, err := dec.decode(data[off+frameHdr : off+n])
			if err != nil {
				return
			}
			rec.WalkAttributes(func(kv attribute.KeyValue) bool {
				if kv.Key == "otelkit.audit.record_id" {
					out[kv.Value.AsString()] = true
				}
				return true
			})
		})
	}
	return out
}

func sdklogEnabledParams() sdklog.EnabledParameters {
	return sdklog.EnabledParameters{}
}

// testRecord returns one SDK record made by a real LoggerProvider.
func testRecord() *sdklog.Record {
	c := &captured{}
	l, _ := auditLogger(c)
	emitAudit(l, "t-0")
	return &c.recs[0]
}

// droppedReported adds up the Count of every *DroppedError the handler got.
func (s *errSink) droppedReported() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	var n int64
	for _, e := range s.errs {
		var de *DroppedError
		if errors.As(e, &de) {
			n += int64(de.Count)
		}
	}
	return n
}

// waitFor polls cond every 10 ms until it holds or limit passes, and
// reports whether it held.
func waitFor(limit time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(limit)
	for {
		if cond() {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func (s *errSink) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.errs)
}
