package otelbridge_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"

	"github.com/otelkit/otelkit/mask"
	"github.com/otelkit/otelkit/otelbridge"
)

const secret = "s3cr3t-value"

func structured() []attribute.KeyValue {
	return []attribute.KeyValue{
		attribute.Map("request", attribute.String("method", "POST"), attribute.String("Authorization", "Bearer "+secret)),
		attribute.StringSlice("argv", []string{"-v", "--password=" + secret}),
	}
}

// Issue 18 item 10: structured attributes are masked in Capture attributes
// and extras, TrackAttributes go masked onto the job span, and
// CaptureMessage text is masked in its span event.
func TestCaptureMasksStructuredItem10(t *testing.T) {
	rec, sink := installProviders(t)
	ctx := otelbridge.WithExtras(context.Background(), attribute.Map("tenant", attribute.String("name", "acme"), attribute.String("api_key", secret)))
	ctx, span := otel.Tracer("test").Start(ctx, "op")
	otelbridge.Capture(ctx, errors.New("sync failed"), structured()...)
	otelbridge.CaptureMessage(ctx, "retrying with password="+secret, structured()...)
	span.End()
	_ = otelbridge.Track(context.Background(), "job", func(context.Context) error { return nil },
		otelbridge.TrackAttributes(structured()...))

	for _, r := range sink.records() {
		assert.NotContains(t, r.Body().AsString(), secret)
		for k, v := range attrs(r) {
			assert.NotContains(t, v.String(), secret, k)
		}
	}
	require.NotEmpty(t, sink.records())
	assert.Contains(t, attrs(sink.records()[0])["tenant"].String(), "acme")
	checked := 0
	for _, s := range rec.Ended() {
		for _, kv := range s.Attributes() {
			assert.NotContains(t, kv.Value.String(), secret, s.Name()+" "+string(kv.Key))
		}
		for _, ev := range s.Events() {
			for _, kv := range ev.Attributes {
				assert.NotContains(t, kv.Value.String(), secret, ev.Name+" "+string(kv.Key))
				checked++
			}
		}
		for _, kv := range s.Attributes() {
			if kv.Key == "argv" {
				assert.Equal(t, []string{"-v", "--password=" + mask.Mask}, kv.Value.AsStringSlice())
			}
		}
	}
	assert.NotZero(t, checked)
}

// Issue 18 item 10: the slog bridge that Setup installs masks a password
// attribute and the cause of a fmt-wrapped *errorsx.Error.
func TestSetupSlogMasksItem10(t *testing.T) {
	clearEnv(t)
	restoreGlobals(t)
	sink := &logSink{}
	shutdown, err := otelbridge.Setup(context.Background(), otelbridge.WithWriter(io.Discard), otelbridge.WithLogProcessor(sink))
	require.NoError(t, err)
	def := errDatabase
	cause := fmt.Errorf("save: %w", def.Wrap(errors.New("dial postgres://app:"+secret+"@db/shop token="+secret)))
	slog.Error("request failed", "password", secret, "err", cause,
		slog.Group("req", "authorization", "Bearer "+secret, "path", "/x"), "note", "api_key="+secret)
	slog.Info("login with token=" + secret)
	require.NoError(t, shutdown(context.Background()))

	recs := sink.records()
	require.Len(t, recs, 2)
	for _, r := range recs {
		assert.NotContains(t, r.Body().AsString(), secret)
		for k, v := range attrs(r) {
			assert.NotContains(t, v.String(), secret, k)
		}
	}
	a := attrs(recs[0])
	assert.Contains(t, a["err"].String(), "save:")
	assert.Contains(t, a["req"].String(), "/x")
}
