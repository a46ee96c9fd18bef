package e2e_test

import (
	"compress/gzip"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/plog/plogotlp"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/pdata/ptrace"
)

// TestAuditQueueSurvivesRestart checks the audit pipeline's persistent
// sending queue: an audit accepted while the backend is down stays in
// file_storage across a collector restart and is delivered once the backend
// answers.
func TestAuditQueueSurvivesRestart(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a collector twice")
	}
	root := repoRoot(t)
	bin := collectorBinary(t, root)
	storage := filepath.Join(t.TempDir(), "storage")
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()

	// 1. The backend is down: the audit is archived and queued, not sent.
	first := startCollector(t, bin, root, collectorOptions{StorageDir: storage})
	require.NoError(t, postAudit(ctx, "http://"+first.HTTP, "queued-1"))
	require.Eventually(t, func() bool {
		e, err := readExported(first.ExportDir)
		return err == nil && len(e.Audits) == 1
	}, 30*time.Second, 200*time.Millisecond, "the audit reaches the JSONL archive")
	first.Stop(t)

	// 2. Restarted with the backend up: the queued audit is delivered.
	backend := newOTLPLogsBackend(t)
	second := startCollector(t, bin, root, collectorOptions{StorageDir: storage, AuditEndpoint: backend.URL})
	require.Eventually(t, func() bool { return len(backend.recordIDs()) > 0 },
		60*time.Second, 200*time.Millisecond, "the queued audit is delivered after the restart")
	ids := backend.recordIDs()
	assert.Contains(t, ids, "queued-1")
	e, err := readExported(second.ExportDir)
	require.NoError(t, err)
	assert.Empty(t, e.Audits, "the second run received no audit itself")
}

// postAudit sends one audit record with otelkit.audit.record_id = id.
func postAudit(ctx context.Context, base, id string) error {
	ld := plog.NewLogs()
	sl := ld.ResourceLogs().AppendEmpty().ScopeLogs().AppendEmpty()
	sl.Scope().SetName(auditScope)
	lr := sl.LogRecords().AppendEmpty()
	lr.SetTimestamp(pcommon.NewTimestampFromTime(time.Now()))
	lr.SetEventName("e2e.queued")
	lr.SetSeverityNumber(plog.SeverityNumberInfo)
	lr.SetSeverityText("INFO")
	lr.Body().SetStr("queued while the backend is down")
	lr.Attributes().PutStr("otelkit.audit.record_id", id)
	return postAll(ctx, base, ptrace.NewTraces(), ld, pmetric.NewMetrics())
}

// otlpLogsBackend is an OTLP/HTTP logs endpoint on loopback that keeps the
// otelkit.audit.record_id of every record it receives.
type otlpLogsBackend struct {
	*httptest.Server
	mu  sync.Mutex
	ids []string
}

func newOTLPLogsBackend(t *testing.T) *otlpLogsBackend {
	t.Helper()
	b := &otlpLogsBackend{}
	b.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/v1/logs" {
			http.NotFound(w, r)
			return
		}
		var in io.Reader = r.Body
		if r.Header.Get("Content-Encoding") == "gzip" {
			zr, err := gzip.NewReader(r.Body)
			if err != nil {
				http.Error(w, err.Error(), http.StatusBadRequest)
				return
			}
			in = zr
		}
		body, err := io.ReadAll(in)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		req := plogotlp.NewExportRequest()
		if err := req.UnmarshalProto(body); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		b.mu.Lock()
		for _, rl := range req.Logs().ResourceLogs().All() {
			for _, sl := range rl.ScopeLogs().All() {
				for _, lr := range sl.LogRecords().All() {
					b.ids = append(b.ids, attr(lr.Attributes(), "otelkit.audit.record_id"))
				}
			}
		}
		b.mu.Unlock()
		resp, err := plogotlp.NewExportResponse().MarshalProto()
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/x-protobuf")
		_, _ = w.Write(resp)
	}))
	t.Cleanup(b.Close)
	return b
}

func (b *otlpLogsBackend) recordIDs() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]string(nil), b.ids...)
}
