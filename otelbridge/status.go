package otelbridge

import (
	"context"

	"go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
)

// ErrorStatusProcessor wraps next so that a span that ended with status
// Error and an empty description gets its error.type as the description.
//
// httpx sets Error with the registered id on the server span of a 5xx, but
// otelhttp, which ends the span, sets the status again from the response
// code with no description. Setup wraps its span processors with this;
// services that build their own tracer provider can wrap theirs.
func ErrorStatusProcessor(next sdktrace.SpanProcessor) sdktrace.SpanProcessor {
	return errorStatus{next}
}

type errorStatus struct{ sdktrace.SpanProcessor }

func (p errorStatus) OnEnd(s sdktrace.ReadOnlySpan) {
	st := s.Status()
	if st.Code == codes.Error && st.Description == "" {
		for _, kv := range s.Attributes() {
			if kv.Key == semconv.ErrorTypeKey {
				s = describedSpan{ReadOnlySpan: s, status: sdktrace.Status{Code: codes.Error, Description: kv.Value.AsString()}}
				break
			}
		}
	}
	p.SpanProcessor.OnEnd(s)
}

func (p errorStatus) Shutdown(ctx context.Context) error   { return p.SpanProcessor.Shutdown(ctx) }
func (p errorStatus) ForceFlush(ctx context.Context) error { return p.SpanProcessor.ForceFlush(ctx) }

// describedSpan is an ended span with a status description restored.
type describedSpan struct {
	sdktrace.ReadOnlySpan
	status sdktrace.Status
}

func (s describedSpan) Status() sdktrace.Status { return s.status }
