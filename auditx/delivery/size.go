package delivery

import (
	"errors"
	"net/http"
	"strconv"
	"strings"

	"go.opentelemetry.io/otel/attribute"
	sdklog "go.opentelemetry.io/otel/sdk/log"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// approxSize estimates the encoded size of a record that has no spool frame
// (no spool): the body, event name and attributes, plus a fixed overhead.
// It bounds export batches by bytes as well as the frame sizes do.
func approxSize(r *sdklog.Record) int {
	n := 64 + valueSize(r.Body()) + len(r.EventName()) + len(r.SeverityText())
	r.WalkAttributes(func(kv attribute.KeyValue) bool {
		n += len(kv.Key) + 4 + valueSize(kv.Value)
		return true
	})
	return n
}

func valueSize(v attribute.Value) int {
	switch v.Type() {
	case attribute.STRING:
		return len(v.AsString()) + 4
	case attribute.BYTESLICE:
		return len(v.AsByteSlice()) + 4
	case attribute.STRINGSLICE:
		n := 4
		for _, e := range v.AsStringSlice() {
			n += len(e) + 4
		}
		return n
	case attribute.SLICE:
		n := 4
		for _, e := range v.AsSlice() {
			n += valueSize(e) + 2
		}
		return n
	case attribute.MAP:
		n := 4
		for _, kv := range v.AsMap() {
			n += len(kv.Key) + 4 + valueSize(kv.Value)
		}
		return n
	case attribute.BOOLSLICE, attribute.INT64SLICE, attribute.FLOAT64SLICE:
		return 4 + 11*len(v.AsStringSlice()) // coarse: one word per element
	default:
		return 11
	}
}

// tooLarge reports whether an export error says the request was too large
// (large), and whether it says so for certain (sure) rather than possibly
// meaning throttling. The OTLP/HTTP exporter has no typed error for a 413:
// its client (otlploghttp client.go, v0.23.0) returns
// "failed to send logs to URL: 413 Request Entity Too Large (body: …)", and
// "request body too large: exceeded N bytes" for its own size limit, so the
// status text is the only signal. gRPC's RESOURCE_EXHAUSTED means "too large"
// when grpc-go says "message larger than max", and may otherwise be
// throttling: a batch is split either way, a single record dropped only in
// the first case.
func tooLarge(err error) (large, sure bool) {
	if err == nil {
		return false, false
	}
	if st, ok := status.FromError(unwrapJoined(err)); ok && st.Code() == codes.ResourceExhausted {
		return true, strings.Contains(st.Message(), "larger than max")
	}
	msg := err.Error()
	if strings.Contains(msg, strconv.Itoa(http.StatusRequestEntityTooLarge)+" "+http.StatusText(http.StatusRequestEntityTooLarge)) ||
		strings.Contains(msg, "request body too large") {
		return true, true
	}
	return false, false
}

// unwrapJoined finds a gRPC status error inside wrapped or joined errors.
func unwrapJoined(err error) error {
	var se interface{ GRPCStatus() *status.Status }
	if errors.As(err, &se) {
		return se.(error)
	}
	return err
}
