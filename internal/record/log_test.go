package record_test

import (
	"context"
	"errors"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	otellog "go.opentelemetry.io/otel/log"
	"go.opentelemetry.io/otel/log/noop"

	"github.com/otelkit/otelkit/errorsx"
	"github.com/otelkit/otelkit/internal/record"
	"github.com/otelkit/otelkit/internal/reqctx"
	"github.com/otelkit/otelkit/mask"
)

type requestSource reqctx.Info

func (s requestSource) RequestInfo() reqctx.Info { return reqctx.Info(s) }

// keepLogger is an enabled logger that keeps the last record.
type keepLogger struct {
	noop.Logger
	last otellog.Record
}

func (l *keepLogger) Enabled(context.Context, otellog.EnabledParameters) bool { return true }
func (l *keepLogger) Emit(_ context.Context, r otellog.Record)                { l.last = r }

// TestLogInRequest: inside an HTTP request the record carries, in this
// order, the exception and otelkit attributes, the request's, then info,
// extras and extra.
func TestLogInRequest(t *testing.T) {
	reg := errorsx.NewRegistry()
	d := reg.Define(http.StatusServiceUnavailable, "log.down", "Down")
	occ := d.With("token", "t").Wrap(errors.New("refused"))
	ctx := reqctx.WithSource(context.Background(), requestSource{Route: "/orders/{id}", Method: "GET", UserID: "u-1"})
	ctx = reqctx.WithExtras(ctx, attribute.String("tenant", "acme"))
	f := record.Failure{Err: occ, Match: reg.Match(occ), Kind: record.KindError}
	l := &keepLogger{}
	record.Log(ctx, l, mask.Default(), &f, []attribute.KeyValue{attribute.String("extra", "e")})

	var keys []string
	l.last.WalkAttributes(func(kv attribute.KeyValue) bool { keys = append(keys, string(kv.Key)); return true })
	require.Equal(t, []string{
		"exception.type", "exception.message", "exception.stacktrace",
		"otelkit.error.id", "otelkit.error.fingerprint", "otelkit.capture.kind",
		"http.response.status_code", "http.route", "http.request.method", "user.id",
		"otelkit.error.info.token", "tenant", "extra",
	}, keys)
	assert.Equal(t, record.EventHTTPServerException, l.last.EventName())
}

// TestLogAllocs: the attributes of an exception log record are added in
// one call, so a record with more than five of them grows its overflow
// slice once.
func TestLogAllocs(t *testing.T) {
	if testing.CoverMode() != "" || raceEnabled {
		t.Skip("coverage instrumentation and the race detector change allocation counts")
	}
	reg := errorsx.NewRegistry()
	d := reg.Define(http.StatusServiceUnavailable, "log.allocs", "Down")
	ctx := reqctx.WithSource(context.Background(), requestSource{Route: "/orders/{id}", Method: "GET"})
	f := record.Failure{Err: d, Match: reg.Match(d), Kind: record.KindError, Stack: "main.main()\n\tmain.go:1\n"}
	l := &keepLogger{}
	record.Log(ctx, l, mask.Default(), &f, nil) // masks the message once
	assert.Equal(t, 1.0, testing.AllocsPerRun(100, func() { record.Log(ctx, l, mask.Default(), &f, nil) }))
}
