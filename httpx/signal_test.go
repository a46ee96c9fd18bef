package httpx_test

import (
	"errors"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/codes"
	otellog "go.opentelemetry.io/otel/log"

	"github.com/otelkit/otelkit/httpx"
)

// TestExceptionSignal checks, for each value of
// OTEL_SEMCONV_EXCEPTION_SIGNAL_OPT_IN and for WithExceptionSignal, where
// the exception record of a 4xx, a 5xx, a panic and errors.Join of a 4xx
// and a 5xx goes: a 4xx never has one; the others have a span event, a log
// record or both, named http.server.request.exception, with one timestamp.
func TestExceptionSignal(t *testing.T) {
	te := newTestErrors()
	mux := http.NewServeMux()
	mux.Handle("GET /client", returning(te.notFound))
	mux.Handle("GET /server", returning(te.store.Wrap(errors.New("db down"))))
	mux.Handle("GET /panic", http.HandlerFunc(func(http.ResponseWriter, *http.Request) { panic("boom") }))
	mux.Handle("GET /joined", returning(errors.Join(te.notFound, te.store)))

	type want struct{ events, logs int }
	modes := []struct {
		name string
		env  string
		opt  httpx.ExceptionSignal
		want want // for a failure
	}{
		{"unset", "", httpx.ExceptionSignalDefault, want{1, 0}},
		{"logs", "logs", httpx.ExceptionSignalDefault, want{0, 1}},
		{"logs/dup", "logs/dup", httpx.ExceptionSignalDefault, want{1, 1}},
		{"unknown value is unset", "spans", httpx.ExceptionSignalDefault, want{1, 0}},
		{"option over variable: span events", "logs/dup", httpx.ExceptionSpanEvents, want{1, 0}},
		{"option over variable: logs", "", httpx.ExceptionLogs, want{0, 1}},
		{"option over variable: both", "logs", httpx.ExceptionLogsAndSpanEvents, want{1, 1}},
	}
	requests := []struct {
		path, id string
		status   int
		failed   bool
	}{
		{"/client", "users.not-found", 404, false},
		{"/server", "store.down", 503, true},
		{"/panic", "internal", 500, true},
		{"/joined", "store.down", 503, true}, // the request failed: the 5xx wins
	}
	for _, m := range modes {
		for _, rq := range requests {
			t.Run(m.name+rq.path, func(t *testing.T) {
				t.Setenv("OTEL_SEMCONV_EXCEPTION_SIGNAL_OPT_IN", m.env)
				tel := newTelemetry(t)
				opts := []httpx.Option{httpx.WithRegistry(te.reg)}
				if m.opt != httpx.ExceptionSignalDefault {
					opts = append(opts, httpx.WithExceptionSignal(m.opt))
				}
				rec := do(tel.serve(mux, opts...), "GET", rq.path)
				require.Equal(t, rq.status, rec.Code)
				assert.Equal(t, rq.id, body(t, rec)["id"])

				span := tel.onlySpan(t)
				attrs := attrMap(span.Attributes())
				events := exceptionEvents(span)
				recs := tel.logs.records()
				if !rq.failed {
					assert.Equal(t, codes.Unset, span.Status().Code)
					assert.NotContains(t, attrs, "error.type")
					assert.Equal(t, rq.id, attrs["otelkit.error.id"].AsString())
					assert.Empty(t, events)
					assert.Empty(t, recs)
					return
				}
				assert.Equal(t, codes.Error, span.Status().Code)
				assert.Equal(t, rq.id, attrs["error.type"].AsString())
				require.Len(t, events, m.want.events)
				require.Len(t, recs, m.want.logs)
				for _, ev := range events {
					assert.Equal(t, "http.server.request.exception", ev.Name)
					assert.Equal(t, rq.id, attrMap(ev.Attributes)["otelkit.error.id"].AsString())
				}
				for _, r := range recs {
					assert.Equal(t, "http.server.request.exception", r.EventName())
					assert.Equal(t, otellog.SeverityError, r.Severity())
					assert.Equal(t, span.SpanContext().SpanID(), r.SpanID(), "trace-correlated")
					assert.Equal(t, rq.id, logAttrs(r)["otelkit.error.id"].AsString())
					assert.NotContains(t, logAttrs(r), "exception.escaped")
				}
				if len(events) == 1 && len(recs) == 1 {
					assert.Equal(t, events[0].Time, recs[0].Timestamp())
				}
			})
		}
	}
}
