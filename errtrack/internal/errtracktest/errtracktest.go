// Package errtracktest emits exception records shaped as the otelkit
// telemetry contract describes them (the records otelbridge.Capture and httpx
// write), for the tests of errtrack and its browser test.
package errtracktest

import (
	"context"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/log"
)

// Scope is the instrumentation scope of exception records.
const Scope = "github.com/otelkit/otelkit/otelbridge"

// Exception describes one captured error.
type Exception struct {
	Time        time.Time // zero: left to the SDK
	Type        string    // exception.type, e.g. "*errors.errorString"
	Message     string    // exception.message and Body
	Stack       string    // exception.stacktrace
	ID          string    // otelkit.error.id
	Fingerprint string    // otelkit.error.fingerprint; "" leaves it out
	Status      int       // http.response.status_code; 0 leaves it out
	Kind        string    // otelkit.capture.kind; "" means "error"
	Route       string    // http.route
	Method      string    // http.request.method
	Attrs       []attribute.KeyValue
}

// Record returns the log record of e.
func Record(e Exception) log.Record {
	var r log.Record
	r.SetEventName("exception")
	r.SetSeverity(log.SeverityError)
	r.SetSeverityText("ERROR")
	if !e.Time.IsZero() {
		r.SetTimestamp(e.Time)
	}
	r.SetBody(attribute.StringValue(e.Message))
	kind := e.Kind
	if kind == "" {
		kind = "error"
	}
	attrs := []attribute.KeyValue{
		attribute.String("exception.type", e.Type),
		attribute.String("exception.message", e.Message),
		attribute.String("exception.stacktrace", e.Stack),
		attribute.String("otelkit.error.id", e.ID),
		attribute.String("otelkit.capture.kind", kind),
	}
	if e.Fingerprint != "" {
		attrs = append(attrs, attribute.String("otelkit.error.fingerprint", e.Fingerprint))
	}
	if e.Status != 0 {
		attrs = append(attrs, attribute.Int("http.response.status_code", e.Status))
	}
	if e.Route != "" {
		attrs = append(attrs, attribute.String("http.route", e.Route))
	}
	if e.Method != "" {
		attrs = append(attrs, attribute.String("http.request.method", e.Method))
	}
	r.AddAttributes(append(attrs, e.Attrs...)...)
	return r
}

// Emit emits e through l with ctx (whose span gives the trace ids).
func Emit(ctx context.Context, l log.Logger, e Exception) {
	l.Emit(ctx, Record(e))
}

// Stack returns a Go-style stack text with fn as its top frame.
func Stack(fn string) string {
	return "goroutine 1 [running]:\n" + fn + "(...)\n\t/app/" + fn + ".go:42 +0x1d\nmain.main()\n\t/app/main.go:10 +0x25\n"
}
