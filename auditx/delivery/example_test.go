package delivery_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"sync"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlplog/otlploghttp"
	"go.opentelemetry.io/otel/log"
	sdklog "go.opentelemetry.io/otel/sdk/log"
	collogpb "go.opentelemetry.io/proto/otlp/collector/logs/v1"
	"google.golang.org/protobuf/proto"

	"github.com/otelkit/otelkit/auditx/delivery"
)

// collector is a stand-in OTLP/HTTP logs endpoint that remembers bodies.
type collector struct {
	mu     sync.Mutex
	bodies []string
}

func (c *collector) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	var req collogpb.ExportLogsServiceRequest
	if err := proto.Unmarshal(b, &req); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, rl := range req.ResourceLogs {
		for _, sl := range rl.ScopeLogs {
			for _, lr := range sl.LogRecords {
				c.bodies = append(c.bodies, sl.GetScope().GetName()+": "+lr.GetBody().GetStringValue())
			}
		}
	}
}

func audit(l log.Logger, id, body string) {
	var r log.Record
	r.SetEventName("user.login")
	r.SetSeverity(log.SeverityInfo)
	r.SetSeverityText("INFO")
	r.SetBody(attribute.StringValue(body))
	r.AddAttributes(attribute.String("otelkit.audit.record_id", id))
	l.Emit(context.Background(), r)
}

// The audit pipeline: the OTLP/HTTP exporter with its own retries off, the
// delivery Processor with a spool directory, and a LoggerProvider of its own.
func ExampleNewProcessor() {
	col := &collector{}
	srv := httptest.NewServer(col)
	defer srv.Close()

	spool, _ := os.MkdirTemp("", "audit-spool")
	defer os.RemoveAll(spool)

	exp, err := otlploghttp.New(context.Background(),
		otlploghttp.WithEndpointURL(srv.URL+"/v1/logs"),
		otlploghttp.WithRetry(otlploghttp.RetryConfig{Enabled: false}), // the Processor retries
		otlploghttp.WithTimeout(10*time.Second),
	)
	if err != nil {
		panic(err)
	}
	p, err := delivery.NewProcessor(exp, delivery.WithSpoolDir(spool))
	if err != nil {
		panic(err)
	}
	lp := sdklog.NewLoggerProvider(sdklog.WithProcessor(p))
	logger := lp.Logger("github.com/otelkit/otelkit/auditx")

	audit(logger, "a1", "alice logged in")
	audit(logger, "a2", "alice changed her password")

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := lp.Shutdown(ctx); err != nil {
		fmt.Println(err)
	}
	for _, b := range col.bodies {
		fmt.Println(b)
	}
	// Output:
	// github.com/otelkit/otelkit/auditx: alice logged in
	// github.com/otelkit/otelkit/auditx: alice changed her password
}

// When the collector keeps failing until the shutdown deadline,
// Shutdown says how many audits were not delivered and how many of them are
// safe in the spool for the next start.
func ExampleUndeliveredError() {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		http.Error(w, "overloaded", http.StatusServiceUnavailable)
	}))
	defer srv.Close()

	spool, _ := os.MkdirTemp("", "audit-spool")
	defer os.RemoveAll(spool)

	exp, _ := otlploghttp.New(context.Background(),
		otlploghttp.WithEndpointURL(srv.URL+"/v1/logs"),
		otlploghttp.WithRetry(otlploghttp.RetryConfig{Enabled: false}))
	p, _ := delivery.NewProcessor(exp, delivery.WithSpoolDir(spool),
		delivery.WithErrorHandler(func(error) {})) // silence retry reports
	lp := sdklog.NewLoggerProvider(sdklog.WithProcessor(p))
	logger := lp.Logger("github.com/otelkit/otelkit/auditx")
	for i := range 3 {
		audit(logger, fmt.Sprint(i), "audit")
	}

	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	err := lp.Shutdown(ctx)
	var ue *delivery.UndeliveredError
	if errors.As(err, &ue) {
		fmt.Printf("undelivered=%d spooled=%d lost=%d deadline=%t\n",
			ue.Undelivered, ue.Spooled, ue.Lost(), errors.Is(err, context.DeadlineExceeded))
	}
	// Output:
	// undelivered=3 spooled=3 lost=0 deadline=true
}
