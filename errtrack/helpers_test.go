package errtrack_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/log"
	sdklog "go.opentelemetry.io/otel/sdk/log"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"

	"github.com/otelkit/otelkit/errtrack"
	"github.com/otelkit/otelkit/errtrack/internal/errtracktest"
)

// logger returns a logger of a real SDK LoggerProvider whose only processor
// is tr; the provider (and so tr) is shut down when the test ends.
func logger(t *testing.T, tr *errtrack.Tracker) log.Logger {
	t.Helper()
	lp := sdklog.NewLoggerProvider(sdklog.WithProcessor(tr))
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		require.NoError(t, lp.Shutdown(ctx))
	})
	return lp.Logger(errtracktest.Scope)
}

// spanCtx returns a context with a recording span of a real SDK tracer
// provider, and the span's trace id.
func spanCtx(t *testing.T) (context.Context, string) {
	t.Helper()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSampler(sdktrace.AlwaysSample()))
	t.Cleanup(func() { _ = tp.Shutdown(context.Background()) })
	ctx, span := tp.Tracer("test").Start(context.Background(), "op")
	t.Cleanup(func() { span.End() })
	return ctx, trace.SpanContextFromContext(ctx).TraceID().String()
}

var t0 = time.Date(2026, 11, 21, 6, 0, 0, 0, time.UTC)

// registered returns a registered-error record (fingerprint = id).
func registered(id string, status int, msg string, at time.Time) errtracktest.Exception {
	return errtracktest.Exception{
		Time: at, Type: "*errorsx.Error", Message: msg, ID: id, Fingerprint: id, Status: status,
		Stack: errtracktest.Stack("app.handler"),
	}
}

// clock is a settable processing clock for errtrack.WithClock.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func newClock(at time.Time) *clock { return &clock{now: at} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Set(at time.Time) {
	c.mu.Lock()
	c.now = at
	c.mu.Unlock()
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// notes collects notifications.
type notes struct {
	mu  sync.Mutex
	all []errtrack.Notification
}

func (n *notes) Notify(_ context.Context, x errtrack.Notification) error {
	n.mu.Lock()
	n.all = append(n.all, x)
	n.mu.Unlock()
	return nil
}

// Take returns the notifications so far (after a flush) and forgets them,
// as "fingerprint:reason" strings.
func (n *notes) Take() []string {
	n.mu.Lock()
	defer n.mu.Unlock()
	out := make([]string, len(n.all))
	for i, x := range n.all {
		out[i] = x.Fingerprint + ":" + string(x.Reason)
	}
	n.all = nil
	return out
}
