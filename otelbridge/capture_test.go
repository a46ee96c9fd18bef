package otelbridge_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/log"

	"github.com/otelkit/otelkit/errorsx"
	"github.com/otelkit/otelkit/mask"
	"github.com/otelkit/otelkit/otelbridge"
)

var (
	reg         = errorsx.Default()
	errQuota    = reg.Define(http.StatusTooManyRequests, "otelbridge-test.quota", "Quota exceeded")
	errDatabase = reg.Define(http.StatusServiceUnavailable, "otelbridge-test.database", "Database unavailable")
	errSentinel = errors.New("sentinel")
	_           = func() bool { reg.Map(errSentinel, errQuota); return true }()
)

// TestRecordError checks the span rules and the exception signal for each
// value of OTEL_SEMCONV_EXCEPTION_SIGNAL_OPT_IN.
func TestRecordError(t *testing.T) {
	tests := []struct {
		name       string
		err        error
		wantID     string
		wantStatus codes.Code
		wantStack  bool
	}{
		{"4xx definition", errQuota, "otelbridge-test.quota", codes.Unset, false},
		{"mapped sentinel", fmt.Errorf("wrapped: %w", errSentinel), "otelbridge-test.quota", codes.Unset, false},
		{"5xx occurrence", errDatabase.Wrap(errors.New("dial tcp: refused")), "otelbridge-test.database", codes.Error, true},
		{"unregistered", errors.New("boom"), "internal", codes.Error, true},
		{"joined 4xx and 5xx", errors.Join(errQuota, errDatabase), "otelbridge-test.database", codes.Error, true},
	}
	for _, sig := range []struct {
		env          string
		events, logs int
	}{{"", 1, 0}, {"logs", 0, 1}, {"logs/dup", 1, 1}} {
		for _, tt := range tests {
			t.Run(sig.env+"/"+tt.name, func(t *testing.T) {
				t.Setenv("OTEL_SEMCONV_EXCEPTION_SIGNAL_OPT_IN", sig.env)
				rec, sink := installProviders(t)
				ctx, span := otel.Tracer("test").Start(context.Background(), "op")
				otelbridge.RecordError(ctx, tt.err)
				span.End()

				spans := rec.Ended()
				require.Len(t, spans, 1)
				s := spans[0]
				sa := spanAttrs(s.Attributes())
				assert.Equal(t, tt.wantStatus, s.Status().Code)
				if tt.wantStatus != codes.Error {
					// A 4xx: no error.type, no exception, the id under
					// otelkit.error.id.
					assert.NotContains(t, sa, "error.type")
					assert.Equal(t, tt.wantID, sa["otelkit.error.id"].AsString())
					assert.Empty(t, s.Events())
					assert.Empty(t, sink.records())
					return
				}
				assert.Equal(t, tt.wantID, sa["error.type"].AsString())
				assert.Equal(t, tt.wantID, s.Status().Description)
				require.Len(t, s.Events(), sig.events)
				if sig.events == 1 {
					ev := s.Events()[0]
					assert.Equal(t, "exception", ev.Name, "outside any request")
					ea := spanAttrs(ev.Attributes)
					assert.Equal(t, tt.wantID, ea["otelkit.error.id"].AsString())
					assert.Equal(t, tt.err.Error(), ea["exception.message"].AsString())
					assert.NotContains(t, ea, "exception.escaped")
					_, hasStack := ea["exception.stacktrace"]
					assert.Equal(t, tt.wantStack, hasStack)
				}
				recs := sink.records()
				require.Len(t, recs, sig.logs)
				if sig.logs == 1 {
					assert.Equal(t, "exception", recs[0].EventName())
					assert.Equal(t, log.SeverityError, recs[0].Severity())
					assert.Equal(t, s.SpanContext().TraceID(), recs[0].TraceID())
					assert.Equal(t, s.SpanContext().SpanID(), recs[0].SpanID())
					if sig.events == 1 {
						assert.Equal(t, s.Events()[0].Time, recs[0].Timestamp(), "the pair shares its time")
					}
				}
			})
		}
	}
	otelbridge.RecordError(context.Background(), nil) // records nothing, does not panic
}

// TestRecordErrorWithoutSpan: with span events only, a failure where no
// span records goes out as a log record rather than nowhere.
func TestRecordErrorWithoutSpan(t *testing.T) {
	t.Setenv("OTEL_SEMCONV_EXCEPTION_SIGNAL_OPT_IN", "")
	_, sink := installProviders(t)
	otelbridge.RecordError(context.Background(), errDatabase)
	require.Len(t, sink.records(), 1)
	assert.Equal(t, "exception", sink.records()[0].EventName())
}

func TestCapture(t *testing.T) {
	rec, sink := installProviders(t)
	ctx, span := otel.Tracer("test").Start(context.Background(), "job")
	ctx = otelbridge.WithExtras(ctx, attribute.String("tenant", "acme"), attribute.String("api_key", "k-123"))
	ctx = otelbridge.WithExtras(ctx, attribute.String("tenant", "globex")) // replaces
	err := errQuota.With("limit", 10).With("session_token", "t-1")
	otelbridge.Capture(ctx, err, attribute.Int("attempt", 3), attribute.String("password", "hunter2"))
	span.End()

	// A 4xx captured on purpose: a log record (whatever the signal) at
	// WARN, never above, and nothing on the span.
	recs := sink.records()
	require.Len(t, recs, 1)
	r := recs[0]
	assert.Equal(t, "exception", r.EventName())
	assert.Equal(t, log.SeverityWarn, r.Severity())
	assert.Equal(t, "WARN", r.SeverityText())
	assert.Equal(t, span.SpanContext().TraceID(), r.TraceID())
	a := attrs(r)
	assert.Equal(t, "otelbridge-test.quota", a["otelkit.error.id"].AsString())
	assert.Equal(t, "otelbridge-test.quota", a["otelkit.error.fingerprint"].AsString())
	assert.NotContains(t, a, "http.response.status_code", "no request, no response")
	assert.Equal(t, "*errorsx.Error", a["exception.type"].AsString())
	assert.Equal(t, "error", a["otelkit.capture.kind"].AsString())
	assert.Equal(t, "globex", a["tenant"].AsString())
	assert.Equal(t, mask.Mask, a["api_key"].AsString())
	assert.Equal(t, int64(3), a["attempt"].AsInt64())
	assert.Equal(t, mask.Mask, a["password"].AsString())
	assert.Equal(t, int64(10), a["otelkit.error.info.limit"].AsInt64())
	assert.Equal(t, mask.Mask, a["otelkit.error.info.session_token"].AsString())
	assert.Equal(t, []string{"tenant"}, keysOf(otelbridge.Extras(ctx), "tenant"))

	spans := rec.Ended()
	require.Len(t, spans, 1)
	assert.Empty(t, spans[0].Attributes())
	assert.Empty(t, spans[0].Events())
	assert.Equal(t, codes.Unset, spans[0].Status().Code)

	otelbridge.Capture(ctx, nil) // captures nothing
	assert.Len(t, sink.records(), 1)
}

func keysOf(kvs []attribute.KeyValue, key string) []string {
	var out []string
	for _, kv := range kvs {
		if string(kv.Key) == key {
			out = append(out, key)
		}
	}
	return out
}

func TestCaptureMessageGroupsByText(t *testing.T) {
	_, sink := installProviders(t)
	ctx := context.Background()
	otelbridge.CaptureMessage(ctx, "cache warmed late", attribute.String("cache", "users"))
	otelbridge.CaptureMessage(ctx, "cache warmed late")
	otelbridge.CaptureMessage(ctx, "queue is full")
	recs := sink.records()
	require.Len(t, recs, 3)
	a0, a1, a2 := attrs(recs[0]), attrs(recs[1]), attrs(recs[2])
	assert.Equal(t, "message", a0["otelkit.capture.kind"].AsString())
	assert.Equal(t, "cache warmed late", recs[0].Body().AsString())
	assert.Equal(t, "users", a0["cache"].AsString())
	assert.Equal(t, a0["otelkit.error.fingerprint"], a1["otelkit.error.fingerprint"])
	assert.NotEqual(t, a0["otelkit.error.fingerprint"], a2["otelkit.error.fingerprint"])
}

func TestTrack(t *testing.T) {
	t.Setenv("OTEL_SEMCONV_EXCEPTION_SIGNAL_OPT_IN", "logs/dup") // the log records are what is tested
	t.Run("error is captured and returned", func(t *testing.T) {
		rec, sink := installProviders(t)
		want := errDatabase.Wrap(errors.New("timeout"))
		got := otelbridge.Track(context.Background(), "nightly.export", func(ctx context.Context) error {
			return want
		})
		require.ErrorIs(t, got, want)
		spans := rec.Ended()
		require.Len(t, spans, 1)
		assert.Equal(t, "nightly.export", spans[0].Name())
		assert.Equal(t, codes.Error, spans[0].Status().Code)
		recs := sink.records()
		require.Len(t, recs, 1)
		a := attrs(recs[0])
		assert.Equal(t, "otelbridge-test.database", a["otelkit.error.id"].AsString())
		assert.Equal(t, "nightly.export", a["otelkit.job"].AsString())
		assert.Equal(t, spans[0].SpanContext().TraceID(), recs[0].TraceID())
	})
	t.Run("4xx error still fails the job span", func(t *testing.T) {
		rec, _ := installProviders(t)
		_ = otelbridge.Track(context.Background(), "job", func(context.Context) error { return errQuota })
		require.Len(t, rec.Ended(), 1)
		assert.Equal(t, codes.Error, rec.Ended()[0].Status().Code)
	})
	t.Run("panic is recovered, captured and returned", func(t *testing.T) {
		rec, sink := installProviders(t)
		err := otelbridge.Track(context.Background(), "job.panics", func(context.Context) error {
			var m map[string]int
			//lint:ignore SA5000 the job panics on purpose
			m["x"]++
			return nil
		})
		require.Error(t, err)
		assert.Contains(t, err.Error(), "assignment to entry in nil map")
		recs := sink.records()
		require.Len(t, recs, 1)
		a := attrs(recs[0])
		assert.Equal(t, "panic", a["otelkit.capture.kind"].AsString())
		assert.Equal(t, "internal", a["otelkit.error.id"].AsString())
		assert.NotContains(t, a, "exception.escaped")
		assert.Contains(t, a["exception.stacktrace"].AsString(), "TestTrack")
		assert.Equal(t, codes.Error, rec.Ended()[0].Status().Code)
	})
	t.Run("silent swallows", func(t *testing.T) {
		_, sink := installProviders(t)
		err := otelbridge.Track(context.Background(), "job", func(context.Context) error {
			panic("x")
		}, otelbridge.Silent())
		assert.NoError(t, err)
		err = otelbridge.Track(context.Background(), "job", func(context.Context) error {
			return errQuota
		}, otelbridge.Silent())
		assert.NoError(t, err)
		assert.Len(t, sink.records(), 2)
	})
	t.Run("success records nothing", func(t *testing.T) {
		rec, sink := installProviders(t)
		err := otelbridge.Track(context.Background(), "job", func(context.Context) error { return nil })
		assert.NoError(t, err)
		assert.Empty(t, sink.records())
		assert.Equal(t, codes.Unset, rec.Ended()[0].Status().Code)
	})
}

func TestPanicFingerprintStable(t *testing.T) {
	t.Setenv("OTEL_SEMCONV_EXCEPTION_SIGNAL_OPT_IN", "logs")
	_, sink := installProviders(t)
	for i := 0; i < 2; i++ {
		_ = otelbridge.Track(context.Background(), "job", func(context.Context) error {
			panic(fmt.Sprintf("boom %d", i)) // different message, same place
		})
	}
	recs := sink.records()
	require.Len(t, recs, 2)
	assert.Equal(t, attrs(recs[0])["otelkit.error.fingerprint"], attrs(recs[1])["otelkit.error.fingerprint"])
}

func TestCaptureMasksSecretsInErrorText(t *testing.T) {
	t.Setenv("OTEL_SEMCONV_EXCEPTION_SIGNAL_OPT_IN", "logs/dup")
	rec, sink := installProviders(t)
	ctx, span := otel.Tracer("test").Start(context.Background(), "op")
	otelbridge.Capture(ctx, fmt.Errorf("connect to db: password=hunter2 host=db"))
	span.End()
	r := sink.records()[0]
	assert.NotContains(t, r.Body().AsString(), "hunter2")
	assert.Contains(t, r.Body().AsString(), "password="+mask.Mask)
	assert.NotContains(t, attrs(r)["exception.message"].AsString(), "hunter2")
	ev := rec.Ended()[0].Events()[0]
	assert.NotContains(t, spanAttrs(ev.Attributes)["exception.message"].AsString(), "hunter2")
}

func TestCaptureMessageIsNotAnHTTPError(t *testing.T) {
	_, sink := installProviders(t)
	otelbridge.CaptureMessage(context.Background(), "cache rebuilt")
	a := attrs(sink.records()[0])
	assert.Equal(t, "message", a["otelkit.error.id"].AsString())
	_, hasStatus := a["http.response.status_code"]
	assert.False(t, hasStatus)
}
