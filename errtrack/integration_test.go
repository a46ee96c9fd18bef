package errtrack_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	sdklog "go.opentelemetry.io/otel/sdk/log"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/otelkit/otelkit/errorsx"
	"github.com/otelkit/otelkit/errtrack"
	"github.com/otelkit/otelkit/mask"
	"github.com/otelkit/otelkit/otelbridge"
)

var orderMissing = sync.OnceValue(func() *errorsx.Def {
	return errorsx.Define(404, "errtrack-test.order-missing", "Order not found")
})

// globalProviders installs real SDK providers, with tr as the log processor,
// as the global ones otelbridge writes through, and restores the previous
// ones when the test ends.
func globalProviders(t *testing.T, tr *errtrack.Tracker) {
	t.Helper()
	prevL, prevT := otel.GetLoggerProvider(), otel.GetTracerProvider()
	lp := sdklog.NewLoggerProvider(sdklog.WithProcessor(tr))
	// The Tracker is a span processor too: it reads exceptions recorded as
	// span events (OTEL_SEMCONV_EXCEPTION_SIGNAL_OPT_IN unset).
	tp := sdktrace.NewTracerProvider(sdktrace.WithSampler(sdktrace.AlwaysSample()), sdktrace.WithSpanProcessor(tr))
	otel.SetLoggerProvider(lp)
	otel.SetTracerProvider(tp)
	t.Cleanup(func() {
		otel.SetLoggerProvider(prevL)
		otel.SetTracerProvider(prevT)
		require.NoError(t, lp.Shutdown(context.Background()))
		require.NoError(t, tp.Shutdown(context.Background()))
	})
}

// TestCaptureIntegration feeds the tracker through otelbridge's capture API,
// for each value of OTEL_SEMCONV_EXCEPTION_SIGNAL_OPT_IN: the tracker sees
// every failure once, whether it went out as a span event, a log record or
// both.
func TestCaptureIntegration(t *testing.T) {
	for _, signal := range []string{"", "logs", "logs/dup"} {
		t.Run("signal="+signal, func(t *testing.T) {
			t.Setenv("OTEL_SEMCONV_EXCEPTION_SIGNAL_OPT_IN", signal)
			testCaptureIntegration(t)
		})
	}
}

func testCaptureIntegration(t *testing.T) {
	var mu sync.Mutex
	var notes []errtrack.Notification
	tr := errtrack.New(errtrack.WithNotifier(errtrack.NotifierFunc(func(_ context.Context, n errtrack.Notification) error {
		mu.Lock()
		notes = append(notes, n)
		mu.Unlock()
		return nil
	})))
	globalProviders(t, tr)

	ctx, span := otel.Tracer("test").Start(context.Background(), "work")
	ctx = otelbridge.WithExtras(ctx,
		attribute.String("tenant", "acme"), attribute.String("api_key", "k-secret"))
	for range 2 {
		otelbridge.Capture(ctx, orderMissing().With("order_id", "o-17"), attribute.String("password", "hunter2"))
	}
	captureDBError(ctx)
	otelbridge.CaptureMessage(ctx, "cache rebuilt, token=abc123")
	jobErr := otelbridge.Track(ctx, "job.sync", func(context.Context) error { return errors.New("sync failed") })
	require.EqualError(t, jobErr, "sync failed")
	panicErr := otelbridge.Track(ctx, "job.explode", func(context.Context) error { panic("kaboom") })
	require.Error(t, panicErr)
	span.End()
	require.NoError(t, tr.ForceFlush(context.Background()))

	groups := tr.Groups()
	byKind := map[string][]errtrack.Group{}
	for _, g := range groups {
		byKind[g.Kind] = append(byKind[g.Kind], g)
		assert.NotContains(t, g.Message, "abc123")
		for _, kv := range g.Extras {
			assert.NotContains(t, kv.Value.String(), "secret", kv.Key)
			assert.NotContains(t, kv.Value.String(), "hunter2", kv.Key)
		}
		assert.Contains(t, g.Extras, attribute.String("tenant", "acme"), g.Fingerprint)
		assert.Contains(t, g.Extras, attribute.String("api_key", mask.Mask), g.Fingerprint)
		assert.Equal(t, int64(1), g.Count-boolInt(g.ID == "errtrack-test.order-missing"), "counted once: %s", g.Fingerprint)
	}
	require.Len(t, groups, 5, "registered, unregistered, message, job error, panic")
	require.Len(t, byKind["panic"], 1)
	require.Len(t, byKind["message"], 1)
	require.Len(t, byKind["error"], 3)
	assert.Equal(t, int64(6), tr.Stats().Records, "each capture read once")

	reg, ok := tr.Group("errtrack-test.order-missing")
	require.True(t, ok, "a registered error is grouped by its id")
	assert.Equal(t, int64(2), reg.Count)
	assert.Contains(t, reg.Info, attribute.String("order_id", "o-17"))
	assert.Contains(t, reg.Extras, attribute.String("password", mask.Mask))

	msg := byKind["message"][0]
	assert.Contains(t, msg.Message, "token="+mask.Mask)

	p := byKind["panic"][0]
	assert.Equal(t, "internal", p.ID)
	assert.NotEmpty(t, p.TraceID, "Track runs the job in a span")
	pg, _ := tr.Group(p.Fingerprint)
	require.Len(t, pg.Occurrences, 1)
	assert.Contains(t, pg.Occurrences[0].Stack, "testCaptureIntegration")
	for _, kv := range pg.Occurrences[0].Attributes {
		assert.NotEqual(t, "exception.escaped", string(kv.Key), "removed from the conventions")
	}

	for _, g := range byKind["error"] {
		if g.ID == "internal" {
			assert.True(t, strings.HasPrefix(g.Fingerprint, "internal:"), g.Fingerprint)
		}
	}

	mu.Lock()
	defer mu.Unlock()
	assert.Len(t, notes, 5, "one first-occurrence notification per fingerprint")
}

func boolInt(b bool) int64 {
	if b {
		return 1
	}
	return 0
}

// captureDBError captures an unregistered error from a frame of its own, so
// that its fingerprint (type plus top frames) differs from the job's.
func captureDBError(ctx context.Context) {
	otelbridge.Capture(ctx, errors.New("db: connection refused"))
}
