package otelbridge_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	otellog "go.opentelemetry.io/otel/log"
	sdklog "go.opentelemetry.io/otel/sdk/log"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	collogspb "go.opentelemetry.io/proto/otlp/collector/logs/v1"
	"google.golang.org/protobuf/proto"

	"github.com/otelkit/otelkit/auditx"
	"github.com/otelkit/otelkit/auditx/delivery"
	"github.com/otelkit/otelkit/otelbridge"
)

// These fault tests go through otelbridge.Setup, the path users take: the
// SDK's LoggerProvider in front of the delivery processor, a real
// otlploghttp exporter (from the environment) and an OTLP/HTTP receiver
// that decodes the requests and counts otelkit.audit.record_id.

// faultReceiver is an OTLP/HTTP logs receiver. While down it answers 503;
// a request body above maxBody (when set) gets 413, as the collector's
// confighttp max_request_body_size does.
type faultReceiver struct {
	mu       sync.Mutex
	ids      map[string]int
	down     bool
	maxBody  int
	tooLarge int
	largest  int
}

func newFaultReceiver(t *testing.T) (*faultReceiver, string) {
	r := &faultReceiver{ids: map[string]int{}}
	srv := httptest.NewServer(r)
	t.Cleanup(srv.Close)
	return r, srv.URL
}

func (o *faultReceiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	o.mu.Lock()
	down, limit := o.down, o.maxBody
	o.mu.Unlock()
	if r.URL.Path != "/v1/logs" {
		w.WriteHeader(http.StatusOK)
		return
	}
	if down {
		http.Error(w, "collector down", http.StatusServiceUnavailable)
		return
	}
	if limit > 0 && len(body) > limit {
		o.mu.Lock()
		o.tooLarge++
		o.mu.Unlock()
		http.Error(w, "request body too large", http.StatusRequestEntityTooLarge)
		return
	}
	var req collogspb.ExportLogsServiceRequest
	if err := proto.Unmarshal(body, &req); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	o.mu.Lock()
	o.largest = max(o.largest, len(body))
	for _, rl := range req.ResourceLogs {
		for _, sl := range rl.ScopeLogs {
			for _, lr := range sl.LogRecords {
				for _, kv := range lr.Attributes {
					if kv.Key == auditx.KeyRecordID {
						o.ids[kv.Value.GetStringValue()]++
					}
				}
			}
		}
	}
	o.mu.Unlock()
	w.Header().Set("Content-Type", "application/x-protobuf")
	w.WriteHeader(http.StatusOK)
}

func (o *faultReceiver) setDown(down bool) {
	o.mu.Lock()
	o.down = down
	o.mu.Unlock()
}

// delivered returns the distinct record ids received and the repeats.
func (o *faultReceiver) delivered() (distinct, duplicated int) {
	o.mu.Lock()
	defer o.mu.Unlock()
	for _, n := range o.ids {
		duplicated += n - 1
	}
	return len(o.ids), duplicated
}

// droppedBy sums otelkit.audit.dropped per reason.
func droppedBy(t *testing.T, r *sdkmetric.ManualReader) (total int64, by map[string]int64) {
	var rm metricdata.ResourceMetrics
	require.NoError(t, r.Collect(context.Background(), &rm))
	by = map[string]int64{}
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			if m.Name != "otelkit.audit.dropped" {
				continue
			}
			for _, dp := range m.Data.(metricdata.Sum[int64]).DataPoints {
				v, _ := dp.Attributes.Value("error.type")
				by[v.AsString()] += dp.Value
				total += dp.Value
			}
		}
	}
	return total, by
}

// setupAudits runs Setup against endpoint with a spool (when dir is set),
// no hash chain (so that every record is one the test emitted) and the
// delivery counters on a manual reader.
func setupAudits(t *testing.T, endpoint, dir string, opts ...otelbridge.Option) (func(context.Context) error, *sdkmetric.ManualReader) {
	t.Helper()
	clearEnv(t)
	restoreGlobals(t)
	t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint)
	t.Setenv("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf")
	t.Setenv("OTEL_EXPORTER_OTLP_TIMEOUT", "5000")
	reader := sdkmetric.NewManualReader()
	dopts := []delivery.Option{
		delivery.WithoutChain(),
		delivery.WithMeterProvider(sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))),
		delivery.WithRetryBackoff(time.Millisecond, 20*time.Millisecond),
		delivery.WithErrorHandler(func(error) {}),
	}
	o := []otelbridge.Option{otelbridge.WithoutSlog(), otelbridge.WithAuditDelivery(dopts...)}
	if dir != "" {
		o = append(o, otelbridge.WithAuditSpool(dir))
	}
	shutdown, err := otelbridge.Setup(context.Background(), append(o, opts...)...)
	require.NoError(t, err)
	return shutdown, reader
}

var auditFault = auditx.Define("otelbridge-test.fault", auditx.LevelInfo, "Audit {n} by {worker}")

// TestSetupFaultEmitDuringShutdown (issue 18 item 1): 64 goroutines emit
// 300 audits each while Setup's shutdown runs. Every audit is delivered,
// counted as dropped (reason "shutdown") or reported safe in the spool;
// none is lost without a count.
func TestSetupFaultEmitDuringShutdown(t *testing.T) {
	recv, url := newFaultReceiver(t)
	shutdown, reader := setupAudits(t, url, t.TempDir())

	const workers, each = 64, 300
	var emitted atomic.Int64
	started := make(chan struct{})
	var startOnce sync.Once
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				_ = auditFault.Emit(context.Background(), attribute.Int("n", i), attribute.Int("worker", w))
				emitted.Add(1)
				if i == each/10 {
					startOnce.Do(func() { close(started) })
				}
			}
		}()
	}
	<-started
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	err := shutdown(ctx)
	wg.Wait()

	var ue *delivery.UndeliveredError
	spooled := 0
	if errors.As(err, &ue) {
		spooled = ue.Spooled
	} else {
		require.NoError(t, err)
	}
	delivered, dup := recv.delivered()
	dropped, by := droppedBy(t, reader)
	lost := int(emitted.Load()) - delivered - int(dropped) - spooled
	t.Logf("emitted %d / delivered %d / duplicated %d / lost %d / counted drops %d %v / spooled %d",
		emitted.Load(), delivered, dup, lost, dropped, by, spooled)
	assert.Equal(t, workers*each, int(emitted.Load()))
	assert.Zero(t, lost, "every audit delivered, counted as dropped or in the spool")
	assert.Equal(t, dropped, by[delivery.ReasonShutdown], "only shutdown drops")
}

// blockingProcessor holds every non-audit record's OnEmit until release is
// closed: an OnEmit admitted by the SDK that does not return in time.
type blockingProcessor struct {
	entered chan struct{}
	once    sync.Once
	release chan struct{}
}

func (b *blockingProcessor) OnEmit(_ context.Context, r *sdklog.Record) error {
	if r.InstrumentationScope().Name == otelbridge.AuditScope {
		return nil
	}
	b.once.Do(func() { close(b.entered) })
	<-b.release
	return nil
}
func (b *blockingProcessor) Enabled(context.Context, sdklog.EnabledParameters) bool { return true }
func (b *blockingProcessor) Shutdown(context.Context) error                         { return nil }
func (b *blockingProcessor) ForceFlush(context.Context) error                       { return nil }

// TestSetupFaultShutdownExpiredContext (issue 18 item 2): Setup's shutdown
// with a context already done, or one whose deadline passes while an emit
// is stuck in a processor, still gives the accounting: an UndeliveredError
// counting the memory-only audits as lost, counted as dropped; a second
// call returns the same result.
func TestSetupFaultShutdownExpiredContext(t *testing.T) {
	for _, tc := range []string{"done", "expiring"} {
		t.Run(tc, func(t *testing.T) {
			recv, url := newFaultReceiver(t)
			recv.setDown(true)
			var opts []otelbridge.Option
			var block *blockingProcessor
			if tc == "expiring" {
				block = &blockingProcessor{entered: make(chan struct{}), release: make(chan struct{})}
				opts = append(opts, otelbridge.WithLogProcessor(block))
			}
			// No spool: memory only.
			shutdown, reader := setupAudits(t, url, "", opts...)
			const n = 50
			for i := range n {
				_ = auditFault.Emit(context.Background(), attribute.Int("n", i), attribute.Int("worker", 0))
			}
			ctx, cancel := context.WithCancel(context.Background())
			if tc == "done" {
				cancel()
			} else {
				defer cancel()
				go otel.GetLoggerProvider().Logger("app").Emit(context.Background(), otellog.Record{})
				<-block.entered
				var c2 context.CancelFunc
				ctx, c2 = context.WithTimeout(ctx, 100*time.Millisecond)
				defer c2()
			}
			err := shutdown(ctx)
			if block != nil {
				close(block.release)
			}
			var ue *delivery.UndeliveredError
			require.True(t, errors.As(err, &ue), "shutdown reports the undelivered audits: %v", err)
			delivered, dup := recv.delivered()
			dropped, by := droppedBy(t, reader)
			t.Logf("emitted %d / delivered %d / duplicated %d / lost %d (counted drops %d %v) / spooled %d",
				n, delivered, dup, ue.Lost(), dropped, by, ue.Spooled)
			assert.Equal(t, n, ue.Undelivered)
			assert.Equal(t, n, ue.Lost())
			assert.Equal(t, int64(n), by[delivery.ReasonShutdown])
			assert.Equal(t, err, shutdown(context.Background()), "a second call returns the same accounting")
			assert.Equal(t, fmt.Sprint(err), fmt.Sprint(shutdown(context.Background())))
		})
	}
}

// TestSetupFaultBatchTooLarge (issue 18 item 3): after an outage, 1,000
// audits of 9 KiB wait; the receiver refuses request bodies above 4 MiB
// with 413, as the collector does. Batches are bounded by encoded bytes and
// split on 413, so every audit is delivered; one audit larger than the
// receiver's limit is dropped (reason "too_large", counted) and does not
// block the others.
func TestSetupFaultBatchTooLarge(t *testing.T) {
	recv, url := newFaultReceiver(t)
	recv.setDown(true)
	recv.mu.Lock()
	recv.maxBody = 4 << 20
	recv.mu.Unlock()
	shutdown, reader := setupAudits(t, url, t.TempDir())

	const n = 1000
	pad := string(make([]byte, 9<<10))
	for i := range n {
		_ = auditFault.Emit(context.Background(), attribute.Int("n", i), attribute.String("worker", pad))
		if i == n/2 {
			_ = auditFault.Emit(context.Background(), attribute.Int("n", -1), attribute.String("worker", string(make([]byte, 9<<19))))
		}
	}
	recv.setDown(false)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	err := shutdown(ctx)
	delivered, dup := recv.delivered()
	dropped, by := droppedBy(t, reader)
	recv.mu.Lock()
	refused, largest := recv.tooLarge, recv.largest
	recv.mu.Unlock()
	t.Logf("emitted %d / delivered %d / duplicated %d / lost %d / counted drops %d %v (413 answers %d, largest accepted body %d bytes)",
		n+1, delivered, dup, n+1-delivered-int(dropped), dropped, by, refused, largest)
	var ue *delivery.UndeliveredError
	require.ErrorAs(t, err, &ue, "shutdown reports the dropped audit")
	assert.Zero(t, ue.Undelivered)
	assert.Equal(t, 1, ue.Dropped)
	assert.Equal(t, n, delivered)
	assert.Equal(t, int64(1), by[delivery.ReasonTooLarge], "the oversized audit is dropped and counted")
	assert.Equal(t, int64(1), dropped)
}
