package otelbridge_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	sdklog "go.opentelemetry.io/otel/sdk/log"
	tracenoop "go.opentelemetry.io/otel/trace/noop"

	"github.com/otelkit/otelkit/errorsx"
	"github.com/otelkit/otelkit/otelbridge"
)

// printer prints the parts of an exception record a reader looks at first.
type printer struct{}

func (printer) OnEmit(_ context.Context, r *sdklog.Record) error {
	fmt.Printf("%s %s: %s\n", r.SeverityText(), r.EventName(), r.Body().AsString())
	r.WalkAttributes(func(kv attribute.KeyValue) bool {
		switch kv.Key {
		case "otelkit.error.id", "otelkit.job", "tenant", "api_key", "otelkit.capture.kind":
			fmt.Printf("  %s=%s\n", kv.Key, kv.Value.String())
		}
		return true
	})
	return nil
}
func (printer) Enabled(context.Context, sdklog.EnabledParameters) bool { return true }
func (printer) Shutdown(context.Context) error                         { return nil }
func (printer) ForceFlush(context.Context) error                       { return nil }

var ErrExportFailed = errorsx.Define(http.StatusBadGateway, "example.export-failed", "The export to the partner failed")

func Example_capture() {
	// In a service, otelbridge.Setup installs the providers; here a printer
	// of log records and no tracing, so exceptions that would be span
	// events go out as log records.
	otel.SetLoggerProvider(sdklog.NewLoggerProvider(sdklog.WithProcessor(printer{})))
	otel.SetTracerProvider(tracenoop.NewTracerProvider())

	ctx := otelbridge.WithExtras(context.Background(),
		attribute.String("tenant", "acme"),
		attribute.String("api_key", "k-123")) // masked wherever it is written

	otelbridge.Capture(ctx, ErrExportFailed.Wrap(errors.New("partner answered 502")))

	_ = otelbridge.Track(ctx, "nightly.export", func(ctx context.Context) error {
		return errors.New("disk full")
	})
	// Output:
	// ERROR exception: The export to the partner failed: partner answered 502
	//   otelkit.error.id=example.export-failed
	//   otelkit.capture.kind=error
	//   tenant=acme
	//   api_key=**************
	// ERROR exception: disk full
	//   otelkit.error.id=internal
	//   otelkit.capture.kind=error
	//   tenant=acme
	//   api_key=**************
	//   otelkit.job=nightly.export
}
