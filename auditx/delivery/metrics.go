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

// Reasons carried by the otelkit.audit.dropped counter's error.type
// attribute (the semantic conventions' key for the class of error an
// operation ended with).
const (
	ReasonEmitTimeout     = "emit_timeout"     // the spool writer stayed a full batch behind for the emit timeout
	ReasonSpoolFull       = "spool_full"       // the spool size cap was reached and memory was full
	ReasonDiskFull        = "disk_full"        // ENOSPC/EDQUOT while spooling and memory was full
	ReasonSpoolUnwritable = "spool_unwritable" // read-only, not a directory, no permission, or locked, and memory was full
	ReasonSpoolError      = "spool_error"      // any other spool I/O error and memory was full
	ReasonNoSpool         = "no_spool"         // no spool directory configured and memory was full
	ReasonCorrupt         = "corrupt"          // a spooled record failed its CRC or decoding on replay
	ReasonRejected        = "rejected"         // the exporter failed with an error WithPermanentError classified as permanent
	ReasonShutdown        = "shutdown"         // OnEmit called during or after Shutdown, or in memory only (not spooled) and undelivered when Shutdown returned
	ReasonTooLarge        = "too_large"        // the encoded record exceeds the 4 MiB frame limit and memory was full, or the receiver refused it alone as too large (HTTP 413)
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
		opt = metric.WithAttributeSet(attribute.NewSet(attribute.String("error.type", reason)))
		m.reasons[reason] = opt
	}
	m.mu.Unlock()
	m.dropped.Add(context.Background(), int64(n), opt)
}

// DroppedError is what the error handler receives for records the
// Processor gave up: Count records for Reason (one of the Reason* constants).
// Reports are rate limited per reason; one DroppedError then carries the
// records of the reports it stands for, so the Count of every DroppedError
// the handler receives adds up to the otelkit.audit.dropped counter (see the
// package documentation for when they are delivered).
type DroppedError struct {
	// Count is the number of records given up.
	Count int
	// Reason is the error.type attribute they were counted with.
	Reason string
	// Err says why (for reason "corrupt" it wraps [ErrCorruptSpool]).
	Err error
}

// Error says how many records were dropped, why, and the cause.
func (e *DroppedError) Error() string {
	return fmt.Sprintf("delivery: %d audit records dropped (reason %s): %v", e.Count, e.Reason, e.Err)
}

// Unwrap returns Err.
func (e *DroppedError) Unwrap() error { return e.Err }

// limiter passes at most one error per kind per interval to the handler. The
// errors it holds back (and the records they dropped) are passed on by flush,
// which the spool writer calls when the interval has passed, and by close at
// Shutdown, after which nothing is held back.
type limiter struct {
	handler  func(error)
	interval time.Duration
	wake     chan struct{} // signalled when a kind starts holding errors back

	mu     sync.Mutex
	kinds  map[string]*limited
	closed bool
}

type limited struct {
	last   time.Time // when an error of this kind was last passed on
	held   int       // errors held back since
	drops  int       // records those errors dropped
	reason string
	err    error // the last error held back
}

func newLimiter(h func(error), interval time.Duration) *limiter {
	return &limiter{handler: h, interval: interval, wake: make(chan struct{}, 1), kinds: map[string]*limited{}}
}

// report passes err on unless an error of the same kind was passed on less
// than the interval ago.
func (l *limiter) report(kind string, err error) { l.add(kind, "", 0, err) }

// drop reports that n records were dropped for reason, as a *DroppedError.
func (l *limiter) drop(reason string, n int, err error) {
	if n > 0 {
		l.add("drop:"+reason, reason, n, err)
	}
}

func (l *limiter) add(kind, reason string, n int, err error) {
	now := time.Now()
	l.mu.Lock()
	k := l.kinds[kind]
	if k == nil {
		k = &limited{}
		l.kinds[kind] = k
	}
	if !l.closed && !k.last.IsZero() && now.Sub(k.last) < l.interval {
		first := k.held == 0
		k.held++
		k.drops += n
		k.reason = reason
		k.err = err
		l.mu.Unlock()
		if first {
			signal(l.wake)
		}
		return
	}
	held, drops := k.held, k.drops
	k.held, k.drops, k.err = 0, 0, nil
	k.last = now
	l.mu.Unlock()
	if held > 0 {
		err = fmt.Errorf("%w (and %d similar reports held back by the rate limit)", err, held)
	}
	if n+drops > 0 {
		err = &DroppedError{Count: n + drops, Reason: reason, Err: err}
	}
	l.handler(err)
}

// flush passes on what was held back for kinds whose interval has passed
// (every kind when all is set) and returns how long until the next kind's
// interval passes, or 0 when nothing is held back.
func (l *limiter) flush(all bool) time.Duration {
	now := time.Now()
	var out []error
	var next time.Duration
	l.mu.Lock()
	for _, k := range l.kinds {
		if k.held == 0 {
			continue
		}
		if wait := k.last.Add(l.interval).Sub(now); !all && wait > 0 {
			if next == 0 || wait < next {
				next = wait
			}
			continue
		}
		err := fmt.Errorf("%w (%d reports held back by the rate limit, this one the last)", k.err, k.held)
		if k.drops > 0 {
			err = &DroppedError{Count: k.drops, Reason: k.reason, Err: err}
		}
		out = append(out, err)
		k.held, k.drops, k.err = 0, 0, nil
		k.last = now
	}
	l.mu.Unlock()
	for _, err := range out {
		l.handler(err)
	}
	return next
}

// close passes on everything held back; from then on every error is passed
// on at once.
func (l *limiter) close() {
	l.mu.Lock()
	l.closed = true
	l.mu.Unlock()
	l.flush(true)
}
