package record_test

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	otellog "go.opentelemetry.io/otel/log"
	"go.opentelemetry.io/otel/log/noop"
	sdklog "go.opentelemetry.io/otel/sdk/log"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/otelkit/otelkit/errorsx"
	"github.com/otelkit/otelkit/internal/record"
	"github.com/otelkit/otelkit/internal/reqctx"
	"github.com/otelkit/otelkit/mask"
)

func TestTypeAndInnermost(t *testing.T) {
	pathErr := &fs.PathError{Op: "open", Path: "/x", Err: syscall.ENOENT}
	tests := []struct {
		name string
		err  error
		want string
	}{
		{"nil", nil, ""},
		{"plain", errors.New("x"), "*errors.errorString"},
		{"wrapped", fmt.Errorf("a: %w", pathErr), "syscall.Errno"},
		{"joined takes first branch", errors.Join(pathErr, errors.New("y")), "syscall.Errno"},
		{"empty join", errors.Join(), ""},
		{"panic value", &record.PanicError{Value: "boom"}, "string"},
		{"panic struct value", &record.PanicError{Value: struct{ N int }{1}}, "struct { N int }"},
		{"panic error", &record.PanicError{Value: pathErr}, "syscall.Errno"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, record.Type(tt.err))
		})
	}
	assert.Equal(t, "panic: boom", (&record.PanicError{Value: "boom"}).Error())
	assert.Equal(t, "panic: x", (&record.PanicError{Value: errors.New("x")}).Error())
}

func TestFormatStack(t *testing.T) {
	st := here()
	require.True(t, strings.HasPrefix(st, "github.com/otelkit/otelkit/internal/record_test.here()\n\t"), st)
	assert.Contains(t, st, "record_test.go:")
	assert.Contains(t, st, "TestFormatStack()")
}

//go:noinline
func here() string {
	f := record.Failure{Err: errors.New("x"), Match: errorsx.Match{Def: errorsx.Internal}, Kind: record.KindError}
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(tracetest.NewSpanRecorder()))
	ctx, span := tp.Tracer("t").Start(context.Background(), "s")
	defer span.End()
	record.Record(ctx, nil, nil, &f, nil)
	return f.Stack
}

func TestInfoAttr(t *testing.T) {
	tests := []struct {
		v    any
		want attribute.KeyValue
	}{
		{"s", attribute.String("otelkit.error.info.k", "s")},
		{3, attribute.Int("otelkit.error.info.k", 3)},
		{int64(4), attribute.Int64("otelkit.error.info.k", 4)},
		{1.5, attribute.Float64("otelkit.error.info.k", 1.5)},
		{true, attribute.Bool("otelkit.error.info.k", true)},
		{time.Second, attribute.String("otelkit.error.info.k", "1s")},
		{[]int{1, 2}, attribute.String("otelkit.error.info.k", "[1,2]")},
		{map[string]string{"password": "hunter2", "user": "ada"}, attribute.String("otelkit.error.info.k", `{"password":"**************","user":"ada"}`)},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.v), func(t *testing.T) {
			assert.Equal(t, tt.want, record.InfoAttr(mask.Default(), errorsx.Field{Key: "k", Value: tt.v}))
		})
	}
	assert.Equal(t, attribute.String("otelkit.error.info.api_key", mask.Mask), record.InfoAttr(mask.Default(), errorsx.Field{Key: "api_key", Value: 7}))
}

func TestFingerprint(t *testing.T) {
	reg := errorsx.NewRegistry()
	d := reg.Define(http.StatusConflict, "fp.conflict", "Conflict")
	f := record.Failure{Err: d, Match: reg.Match(d), Kind: record.KindError}
	assert.Equal(t, "fp.conflict", f.Fingerprint())

	unregistered := func() string {
		err := errors.New("x")
		f := record.Failure{Err: err, Match: reg.Match(err), Kind: record.KindError}
		return f.Fingerprint()
	}
	a, b := unregistered(), unregistered()
	assert.Equal(t, a, b)
	assert.True(t, strings.HasPrefix(a, "internal:"), a)
}

func TestSpanWithoutRecordingSpan(t *testing.T) {
	f := record.Failure{Err: errors.New("x"), Match: errorsx.Match{Def: errorsx.Internal}, Kind: record.KindError}
	assert.NotPanics(t, func() { record.Span(context.Background(), &f) })
	assert.Empty(t, f.Stack, "no stack taken without a recording span")
}

type memExporter struct{ recs []sdklog.Record }

func (e *memExporter) Export(_ context.Context, recs []sdklog.Record) error {
	for _, r := range recs {
		e.recs = append(e.recs, r.Clone())
	}
	return nil
}
func (e *memExporter) Shutdown(context.Context) error   { return nil }
func (e *memExporter) ForceFlush(context.Context) error { return nil }

func TestLog(t *testing.T) {
	exp := &memExporter{}
	lp := sdklog.NewLoggerProvider(sdklog.WithProcessor(sdklog.NewSimpleProcessor(exp)))
	t.Cleanup(func() { _ = lp.Shutdown(context.Background()) })
	logger := lp.Logger(record.ScopeName)

	reg := errorsx.NewRegistry()
	d := reg.Define(http.StatusBadGateway, "log.upstream", "Upstream failed")
	occ := d.With("token", "t").With("n", 1).Wrap(errors.New("refused"))
	ctx := reqctx.WithExtras(context.Background(), attribute.String("tenant", "acme"), attribute.String("session_cookie", "c"))
	f := record.Failure{Err: occ, Match: reg.Match(occ), Kind: record.KindError}
	record.Log(ctx, logger, mask.Default(), &f, []attribute.KeyValue{attribute.String("password", "p"), attribute.String("extra", "e")})

	require.Len(t, exp.recs, 1)
	r := exp.recs[0]
	assert.Equal(t, "exception", r.EventName(), "outside a request")
	assert.Equal(t, otellog.SeverityError, r.Severity())
	got := map[string]attribute.Value{}
	r.WalkAttributes(func(kv attribute.KeyValue) bool { got[string(kv.Key)] = kv.Value; return true })
	assert.Equal(t, "Upstream failed: refused", r.Body().AsString())
	assert.Equal(t, "*errors.errorString", got["exception.type"].AsString())
	assert.Equal(t, "log.upstream", got["otelkit.error.id"].AsString())
	assert.Equal(t, "log.upstream", got["otelkit.error.fingerprint"].AsString())
	assert.NotContains(t, got, "http.response.status_code", "no request, no response")
	assert.Equal(t, mask.Mask, got["otelkit.error.info.token"].AsString())
	assert.EqualValues(t, 1, got["otelkit.error.info.n"].AsInt64())
	assert.Equal(t, "acme", got["tenant"].AsString())
	assert.Equal(t, mask.Mask, got["session_cookie"].AsString())
	assert.Equal(t, mask.Mask, got["password"].AsString())
	assert.Equal(t, "e", got["extra"].AsString())
	assert.True(t, strings.HasPrefix(got["exception.stacktrace"].AsString(), "github.com/otelkit/otelkit/internal/record_test.TestLog()"),
		"5xx occurrences made by Wrap carry the stack of their creation")
	_, hasRoute := got["http.route"]
	assert.False(t, hasRoute, "no request, no route")

	assert.NotPanics(t, func() {
		record.Log(ctx, noop.NewLoggerProvider().Logger("x"), mask.Default(), &f, nil)
	})
}

// TestLogInRPC: inside a server RPC the record is named
// rpc.server.call.exception and carries the RPC's facts, not HTTP's.
func TestLogInRPC(t *testing.T) {
	exp := &memExporter{}
	lp := sdklog.NewLoggerProvider(sdklog.WithProcessor(sdklog.NewSimpleProcessor(exp)))
	t.Cleanup(func() { _ = lp.Shutdown(context.Background()) })

	reg := errorsx.NewRegistry()
	d := reg.Define(http.StatusServiceUnavailable, "rpc.down", "Down")
	ctx := &reqctx.RPC{Context: context.Background(), System: "grpc", Method: "pkg.Svc/Get", Peer: "192.0.2.1:4000",
		User: func(context.Context) string { return "u-3" }}
	f := record.Failure{Err: d, Match: reg.Match(d), Kind: record.KindError}
	assert.Equal(t, record.EventRPCServerException, f.Name(ctx))
	record.Log(ctx, lp.Logger(record.ScopeName), mask.Default(), &f, nil)

	require.Len(t, exp.recs, 1)
	r := exp.recs[0]
	assert.Equal(t, "rpc.server.call.exception", r.EventName())
	got := map[string]string{}
	r.WalkAttributes(func(kv attribute.KeyValue) bool { got[string(kv.Key)] = kv.Value.String(); return true })
	assert.Equal(t, "grpc", got["rpc.system.name"])
	assert.Equal(t, "pkg.Svc/Get", got["rpc.method"])
	assert.Equal(t, "192.0.2.1", got["client.address"])
	assert.Equal(t, "u-3", got["user.id"])
	assert.NotContains(t, got, "http.response.status_code")
	assert.NotContains(t, got, "http.request.method")
}
