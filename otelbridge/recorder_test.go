package otelbridge_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	sdklog "go.opentelemetry.io/otel/sdk/log"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/otelkit/otelkit/auditx"
	"github.com/otelkit/otelkit/errorsx"
	"github.com/otelkit/otelkit/otelbridge"
)

// errShared is mapped differently in the two registries of
// TestRecorderWithoutGlobals.
var errShared = errors.New("shared: store is closed")

// TestRecorderWithoutGlobals: two services' worth of registries and
// providers side by side, in parallel, none of them global (issue 17
// item 8). Each subtest sees only its own records, resolved with its own
// registry.
func TestRecorderWithoutGlobals(t *testing.T) {
	for i, status := range []int{http.StatusServiceUnavailable, http.StatusBadGateway} {
		t.Run(fmt.Sprint(status), func(t *testing.T) {
			t.Parallel()
			reg := errorsx.NewRegistry()
			def := reg.Define(status, fmt.Sprintf("svc%d.closed", i), "Closed")
			reg.Map(errShared, def)
			spans := tracetest.NewSpanRecorder()
			tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(spans))
			sink := &logSink{}
			lp := sdklog.NewLoggerProvider(sdklog.WithProcessor(sink))

			r := otelbridge.NewRecorder(otelbridge.RecordWithRegistry(reg),
				otelbridge.RecordWithLoggerProvider(lp), otelbridge.RecordWithTracerProvider(tp))
			err := r.Track(context.Background(), "job", func(ctx context.Context) error {
				r.Capture(ctx, fmt.Errorf("op: %w", errShared), attribute.String("k", "v"))
				return fmt.Errorf("job: %w", errShared)
			})
			require.Error(t, err)

			ended := spans.Ended()
			require.Len(t, ended, 1, "Track's span went to this test's provider")
			assert.Equal(t, "job", ended[0].Name())
			assert.Equal(t, def.ID(), spanAttrs(ended[0].Attributes())["error.type"].AsString(), "resolved with this test's registry")
			r.CaptureMessage(context.Background(), "no span here")
			recs := sink.records()
			require.Len(t, recs, 1, "a record outside any span went to this test's provider")

			// auditx: a registry with its own provider, not the global one.
			asink := &logSink{}
			areg := auditx.NewRegistry(auditx.WithLoggerProvider(sdklog.NewLoggerProvider(sdklog.WithProcessor(asink))))
			areg.Define("notes.deleted", auditx.LevelInfo, "note {note} deleted")
			require.NoError(t, areg.Emit(context.Background(), "notes.deleted", attribute.String("note", fmt.Sprint(i))))
			require.Len(t, asink.records(), 1)
		})
	}
}

func ExampleNewRecorder() {
	reg := errorsx.NewRegistry()
	closed := reg.Define(http.StatusServiceUnavailable, "store.closed", "The store is closed")
	reg.Map(errShared, closed)
	sink := &logSink{}
	r := otelbridge.NewRecorder(otelbridge.RecordWithRegistry(reg),
		otelbridge.RecordWithLoggerProvider(sdklog.NewLoggerProvider(sdklog.WithProcessor(sink))))
	r.Capture(context.Background(), fmt.Errorf("listing: %w", errShared))
	fmt.Println(attrs(sink.records()[0])["otelkit.error.id"].AsString())
	// Output:
	// store.closed
}
