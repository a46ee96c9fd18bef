package otelbridge_test

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	collogspb "go.opentelemetry.io/proto/otlp/collector/logs/v1"
	"google.golang.org/protobuf/proto"

	"github.com/otelkit/otelkit/auditx"
	"github.com/otelkit/otelkit/auditx/delivery"
	"github.com/otelkit/otelkit/otelbridge"
)

// otlpLogs is an OTLP/HTTP logs receiver that counts audit record ids.
type otlpLogs struct {
	mu  sync.Mutex
	ids map[string]int
}

func (o *otlpLogs) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	if r.URL.Path == "/v1/logs" {
		var req collogspb.ExportLogsServiceRequest
		if err := proto.Unmarshal(body, &req); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		o.mu.Lock()
		for _, rl := range req.ResourceLogs {
			for _, sl := range rl.ScopeLogs {
				for _, lr := range sl.LogRecords {
					for _, kv := range lr.Attributes {
						if kv.Key == "otelkit.audit.record_id" {
							o.ids[kv.Value.GetStringValue()]++
						}
					}
				}
			}
		}
		o.mu.Unlock()
	}
	w.Header().Set("Content-Type", "application/x-protobuf")
	w.WriteHeader(http.StatusOK)
}

func (o *otlpLogs) count() int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return len(o.ids)
}

var auditSpoolTested = auditx.Define("otelbridge-test.spooled", auditx.LevelInfo, "Audit {n} while the collector is down")

// TestSetupAuditsSurviveAnOutage: audits emitted while the collector is
// unreachable are spooled; Setup's shutdown reports them as undelivered but
// safe; the next Setup on the same spool delivers them.
func TestSetupAuditsSurviveAnOutage(t *testing.T) {
	clearEnv(t)
	restoreGlobals(t)
	spool := t.TempDir()

	// A port nobody listens on.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	down := "http://" + ln.Addr().String()
	require.NoError(t, ln.Close())
	t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", down)
	t.Setenv("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf")

	shutdown, err := otelbridge.Setup(context.Background(), otelbridge.WithoutSlog(), otelbridge.WithAuditSpool(spool))
	require.NoError(t, err)
	const n = 50
	for i := 0; i < n; i++ {
		auditSpoolTested.Emit(context.Background(), attribute.Int("n", i))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	err = shutdown(ctx)
	cancel()
	var ue *delivery.UndeliveredError
	require.True(t, errors.As(err, &ue), "shutdown reports what it could not deliver: %v", err)
	// n audits and the final checkpoint of their hash chain (auditx/chain).
	assert.Equal(t, n+1, ue.Undelivered)
	assert.Equal(t, n+1, ue.Spooled)
	assert.Zero(t, ue.Lost())

	// The collector is back: the next start delivers the spool.
	recv := &otlpLogs{ids: map[string]int{}}
	srv := httptest.NewServer(recv)
	defer srv.Close()
	t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", srv.URL)
	shutdown, err = otelbridge.Setup(context.Background(), otelbridge.WithoutSlog(), otelbridge.WithAuditSpool(spool))
	require.NoError(t, err)
	require.NoError(t, shutdown(context.Background()))
	assert.Equal(t, n, recv.count(), "every spooled audit delivered after the restart")
}
