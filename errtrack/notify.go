package errtrack

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
)

// Notifier delivers a [Notification] somewhere people look: mail, chat,
// an incident tool. Notify must honour ctx: the Tracker cancels it when the
// per-send timeout ([WithNotifyTimeout]) passes or Shutdown runs out of time.
type Notifier interface {
	Notify(ctx context.Context, n Notification) error
}

// NotifierFunc adapts a function to a [Notifier].
type NotifierFunc func(ctx context.Context, n Notification) error

// Notify calls f(ctx, n).
func (f NotifierFunc) Notify(ctx context.Context, n Notification) error { return f(ctx, n) }

// Reason says why a notification was made.
type Reason string

// Reasons for a notification.
const (
	ReasonFirst Reason = "first" // first occurrence of a fingerprint
	ReasonRate  Reason = "rate"  // the fingerprint passed the rate set by WithNotifyRate
)

// Notification describes an error group at the moment a rule fired. Message,
// Info and Extras are masked.
type Notification struct {
	Reason      Reason               // why it was made
	Fingerprint string               // the group's fingerprint
	ErrorID     string               // otelkit.error.id
	Status      int                  // http.response.status_code, 0 when absent
	Type        string               // exception.type
	Kind        string               // otelkit.capture.kind: "error", "message" or "panic"
	Message     string               // the latest message, masked
	Count       int64                // occurrences of the fingerprint so far
	WindowCount int                  // occurrences within the rate window, when the rate rule is on
	FirstSeen   time.Time            // first occurrence kept
	LastSeen    time.Time            // latest occurrence
	Route       string               // http.route, when captured in a request
	Method      string               // http.request.method, when captured in a request
	TraceID     string               // trace id of the occurrence that fired the rule
	Stack       string               // exception.stacktrace of that occurrence
	Info        []attribute.KeyValue // otelkit.error.info.* (keys without the prefix), masked
	Extras      []attribute.KeyValue // other attributes, masked
	URL         string               // link to the detail view, when WithPageURL is set
}

// ErrQueueFull is reported (through otel.Handle) when a notification is
// dropped because the delivery queue is full.
var ErrQueueFull = errors.New("errtrack: notification queue full")

type job struct {
	n     Notification
	flush chan struct{} // non-nil: a flush marker
}

// delivery runs the notifiers on one worker goroutine fed by a bounded queue.
type delivery struct {
	notifiers []Notifier
	timeout   time.Duration
	queue     chan job

	mu      sync.Mutex // guards started/stopped and the start of the worker
	started bool
	stopped bool
	stop    chan struct{} // closed by shutdown
	done    chan struct{} // closed when the worker returns
	ctx     context.Context
	cancel  context.CancelFunc

	queued, dropped, sent, failed atomic.Int64
}

func (d *delivery) init(cfg config) {
	d.notifiers = cfg.notifiers
	d.timeout = cfg.timeout
	if len(d.notifiers) == 0 {
		return
	}
	d.queue = make(chan job, cfg.queueSize)
	d.stop = make(chan struct{})
	d.done = make(chan struct{})
	d.ctx, d.cancel = context.WithCancel(context.Background())
}

func (d *delivery) enabled() bool { return len(d.notifiers) > 0 }

// enqueue queues n without blocking; a full queue, or a stopped delivery,
// drops it. The worker starts with the first notification.
func (d *delivery) enqueue(n Notification) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.stopped {
		d.dropped.Add(1)
		return
	}
	if !d.started {
		d.started = true
		go d.run()
	}
	select {
	case d.queue <- job{n: n}:
		d.queued.Add(1)
	default:
		d.dropped.Add(1)
		otel.Handle(fmt.Errorf("%w: dropped notification for %q", ErrQueueFull, n.Fingerprint))
	}
}

func (d *delivery) run() {
	defer close(d.done)
	for {
		select {
		case j := <-d.queue:
			d.handle(j)
		case <-d.stop:
			for {
				select {
				case j := <-d.queue:
					d.handle(j)
				default:
					return
				}
			}
		}
	}
}

func (d *delivery) handle(j job) {
	if j.flush != nil {
		close(j.flush)
		return
	}
	if d.ctx.Err() != nil { // Shutdown ran out of time: drop what is left
		d.dropped.Add(1)
		return
	}
	for _, n := range d.notifiers {
		if err := d.send(n, j.n); err != nil {
			d.failed.Add(1)
			otel.Handle(fmt.Errorf("errtrack: notify %q: %w", j.n.Fingerprint, err))
			continue
		}
		d.sent.Add(1)
	}
}

func (d *delivery) send(n Notifier, note Notification) (err error) {
	ctx, cancel := context.WithTimeout(d.ctx, d.timeout)
	defer cancel()
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("notifier panicked: %v", r)
		}
	}()
	return n.Notify(ctx, note)
}

func (d *delivery) flush(ctx context.Context) error {
	if !d.enabled() {
		return nil
	}
	d.mu.Lock()
	running := d.started && !d.stopped
	d.mu.Unlock()
	if !running {
		return nil
	}
	j := job{flush: make(chan struct{})}
	select {
	case d.queue <- j:
	case <-d.done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case <-j.flush:
		return nil
	case <-d.done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (d *delivery) shutdown(ctx context.Context) error {
	if !d.enabled() {
		return nil
	}
	d.mu.Lock()
	if d.stopped {
		d.mu.Unlock()
		return nil
	}
	d.stopped = true
	started := d.started
	d.mu.Unlock()
	if !started {
		d.cancel()
		return nil
	}
	close(d.stop)
	select {
	case <-d.done:
		d.cancel()
		return nil
	case <-ctx.Done():
		d.cancel() // cancels the send in progress; the rest are dropped
		<-d.done
		return ctx.Err()
	}
}
