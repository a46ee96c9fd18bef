// Command auditflood measures delivered audits per second end to end: it
// emits audit records as fast as it can through the OpenTelemetry log SDK
// to a collector over OTLP/HTTP, with either otelkit's spooling processor
// (auditx/delivery: write-ahead spool on disk, retries until delivered) or
// the SDK's plain BatchProcessor, then counts the records VictoriaLogs has
// (distinct bench.seq of this run, queried with LogsQL) until the count
// stops growing. bench/e2e-audits.sh runs it against scripts/stack.sh.
//
//	auditflood -mode=spool -otlp=127.0.0.1:4318 -vl=http://127.0.0.1:9428 -n=50000
//
// It prints one line: mode, emitted, delivered, lost, duplicated, the time
// from the first emit until VictoriaLogs had the last record, and delivered
// audits per second over that time.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"sync"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlplog/otlploghttp"
	otellog "go.opentelemetry.io/otel/log"
	sdklog "go.opentelemetry.io/otel/sdk/log"

	"github.com/otelkit/otelkit/auditx/delivery"
)

func main() {
	mode := flag.String("mode", "spool", "spool (auditx/delivery) or batch (sdklog.BatchProcessor)")
	otlp := flag.String("otlp", "127.0.0.1:4318", "collector OTLP/HTTP host:port")
	vl := flag.String("vl", "http://127.0.0.1:9428", "VictoriaLogs base URL")
	n := flag.Int("n", 50000, "audits to emit")
	workers := flag.Int("workers", 8, "emitting goroutines")
	flag.Parse()
	if err := run(*mode, *otlp, *vl, *n, *workers); err != nil {
		log.Fatal(err)
	}
}

func run(mode, otlp, vl string, n, workers int) error {
	ctx := context.Background()
	exp, err := otlploghttp.New(ctx, otlploghttp.WithEndpoint(otlp), otlploghttp.WithInsecure())
	if err != nil {
		return err
	}
	var proc sdklog.Processor
	switch mode {
	case "spool":
		dir, err := os.MkdirTemp("", "auditflood-spool")
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		proc, err = delivery.NewProcessor(exp, delivery.WithSpoolDir(dir), delivery.WithoutChain(),
			// Back-pressure instead of a drop when the disk is slower than
			// the emitters (the default 500 ms is for request paths).
			delivery.WithEmitTimeout(time.Minute))
		if err != nil {
			return err
		}
	case "batch":
		proc = sdklog.NewBatchProcessor(exp)
	default:
		return fmt.Errorf("unknown mode %q", mode)
	}
	lp := sdklog.NewLoggerProvider(sdklog.WithProcessor(proc))
	logger := lp.Logger("github.com/otelkit/otelkit/auditx")
	runID := strconv.FormatInt(time.Now().UnixNano(), 36)

	start := time.Now()
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := w; i < n; i += workers {
				var r otellog.Record
				r.SetTimestamp(time.Now())
				r.SetEventName("bench.audit")
				r.SetSeverity(otellog.SeverityInfo)
				r.SetBody(attribute.StringValue("audit " + strconv.Itoa(i)))
				r.AddAttributes(
					attribute.String("bench.run", runID),
					attribute.Int("bench.seq", i),
					attribute.String("user.id", "ada"),
				)
				logger.Emit(ctx, r)
			}
		})
	}
	wg.Wait()
	emitDone := time.Since(start)
	sctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()
	if err := lp.Shutdown(sctx); err != nil {
		log.Printf("shutdown: %v", err)
	}
	flushed := time.Since(start)

	// Count what VictoriaLogs has, until the count stops growing for 5 s.
	var delivered, rows int
	last, lastChange := -1, time.Now()
	var reached time.Duration
	for time.Since(lastChange) < 5*time.Second && delivered < n {
		d, r, err := count(vl, runID)
		if err != nil {
			return err
		}
		delivered, rows = d, r
		if d != last {
			last, lastChange, reached = d, time.Now(), time.Since(start)
		}
		time.Sleep(200 * time.Millisecond)
	}
	fmt.Printf("mode=%s emitted=%d delivered=%d lost=%d duplicated=%d emit=%s flushed=%s in_victorialogs=%s delivered_per_s=%.0f\n",
		mode, n, delivered, n-delivered, rows-delivered, emitDone.Round(time.Millisecond), flushed.Round(time.Millisecond),
		reached.Round(time.Millisecond), float64(delivered)/reached.Seconds())
	return nil
}

// count returns the distinct bench.seq values and the rows of run in
// VictoriaLogs.
func count(vl, run string) (int, int, error) {
	q := `bench.run:="` + run + `" | stats count_uniq(bench.seq) as ids, count() as rows`
	resp, err := http.Get(vl + "/select/logsql/query?" + url.Values{"query": {q}}.Encode())
	if err != nil {
		return 0, 0, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, 0, err
	}
	if resp.StatusCode != http.StatusOK {
		return 0, 0, fmt.Errorf("LogsQL: %s: %s", resp.Status, body)
	}
	if len(body) == 0 {
		return 0, 0, nil
	}
	var row map[string]string
	if err := json.Unmarshal(body, &row); err != nil {
		return 0, 0, fmt.Errorf("LogsQL: %w: %s", err, body)
	}
	ids, _ := strconv.Atoi(row["ids"])
	rows, _ := strconv.Atoi(row["rows"])
	return ids, rows, nil
}
