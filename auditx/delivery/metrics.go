package delivery

import (
	"context"
	"fmt"
	"sync"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
)

// ScopeName is the instrumentation scope of the Processor's own metrics.
const ScopeName = "github.com/otelkit/otelkit/auditx/delivery"

// Reasons carried by the otelkit.audit.dropped counter's "reason" attribute.
const (
	ReasonEmitTimeout     = "emit_timeout"     // the spool writer stayed a full batch behind for the emit timeout
	ReasonSpoolFull       = "spool_full"       // the spool size cap was reached and memory was full
	ReasonDiskFull        = "disk_full"        // ENOSPC/EDQUOT while spooling and memory was full
	ReasonSpoolUnwritable = "spool_unwritable" // read-only, not a directory, no permission, or locked, and memory was full
	ReasonSpoolError      = "spool_error"      // any other spool I/O error and memory was full
	ReasonNoSpool         = "no_spool"         // no spool directory configured and memory was full
	ReasonCorrupt         = "corrupt"          // a spooled record failed its CRC or decoding on replay
	ReasonRejected        = "rejected"         // the exporter failed with an error WithPermanentError classified as permanent
	ReasonShutdown        = "shutdown"         // OnEmit was waiting for room when Shutdown started
	ReasonTooLarge        = "too_large"        // the encoded record exceeds the 4 MiB frame limit and memory was full
)

type metrics struct {
	emitted   metric.Int64Counter
	delivered metric.Int64Counter
	spooled   metric.Int64Counter
	dropped   metric.Int64Counter

	mu      sync.Mutex
	reasons map[string]metric.AddOption
}

func newMetrics(mp metric.MeterProvider) (*metrics, error) {
	m := mp.Meter(ScopeName)
	var err error
	out := &metrics{reasons: make(map[string]metric.AddOption)}
	if out.emitted, err = m.Int64Counter("otelkit.audit.emitted",
		metric.WithUnit("{record}"), metric.WithDescription("Audit records handed to the delivery processor.")); err != nil {
		return nil, fmt.Errorf("delivery: counter: %w", err)
	}
	if out.delivered, err = m.Int64Counter("otelkit.audit.delivered",
		metric.WithUnit("{record}"), metric.WithDescription("Audit records the exporter accepted, including replays from the spool.")); err != nil {
		return nil, fmt.Errorf("delivery: counter: %w", err)
	}
	if out.spooled, err = m.Int64Counter("otelkit.audit.spooled",
		metric.WithUnit("{record}"), metric.WithDescription("Audit records written and fsynced to the on-disk spool.")); err != nil {
		return nil, fmt.Errorf("delivery: counter: %w", err)
	}
	if out.dropped, err = m.Int64Counter("otelkit.audit.dropped",
		metric.WithUnit("{record}"), metric.WithDescription("Audit records given up, by reason.")); err != nil {
		return nil, fmt.Errorf("delivery: counter: %w", err)
	}
	return out, nil
}

func (m *metrics) drop(n int, reason string) {
	if n <= 0 {
		return
	}
	m.mu.Lock()
	opt, ok := m.reasons[reason]
	if !ok {
		opt = metric.WithAttributeSet(attribute.NewSet(attribute.String("reason", reason)))
		m.reasons[reason] = opt
	}
	m.mu.Unlock()
	m.dropped.Add(context.Background(), int64(n), opt)
}

// limiter passes at most one error per kind per interval to the handler and
// says how many it held back.
type limiter struct {
	handler  func(error)
	interval time.Duration

	mu         sync.Mutex
	last       map[string]time.Time
	suppressed map[string]int
}

func newLimiter(h func(error), interval time.Duration) *limiter {
	return &limiter{handler: h, interval: interval, last: map[string]time.Time{}, suppressed: map[string]int{}}
}

func (l *limiter) report(kind string, err error) {
	now := time.Now()
	l.mu.Lock()
	if t, ok := l.last[kind]; ok && now.Sub(t) < l.interval {
		l.suppressed[kind]++
		l.mu.Unlock()
		return
	}
	n := l.suppressed[kind]
	l.suppressed[kind] = 0
	l.last[kind] = now
	l.mu.Unlock()
	if n > 0 {
		err = fmt.Errorf("%w (%d similar errors suppressed)", err, n)
	}
	l.handler(err)
}
