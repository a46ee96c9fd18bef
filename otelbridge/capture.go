package otelbridge

import (
	"context"
	"errors"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	otellog "go.opentelemetry.io/otel/log"
	"go.opentelemetry.io/otel/trace"

	"github.com/otelkit/otelkit/errorsx"
	"github.com/otelkit/otelkit/internal/record"
	"github.com/otelkit/otelkit/internal/reqctx"
	"github.com/otelkit/otelkit/internal/telctx"
	"github.com/otelkit/otelkit/mask"
)

// Recorder records and captures errors with an explicit registry,
// providers and masking policy, for code that must not depend on the
// process-wide ones: two registries kept apart in one service, tests run
// with t.Parallel(). The package-level [RecordError], [Capture],
// [CaptureMessage] and [Track] use a Recorder that follows the globals.
//
// Resolution uses the registry of the httpx Handler serving ctx's request
// when there is one and the Recorder has none of its own. Providers that
// ctx carries (package otelkittest) come before the Recorder's.
type Recorder struct {
	reg    *errorsx.Registry      // nil: the request's, else errorsx.Default()
	lp     otellog.LoggerProvider // nil: the global one
	tp     trace.TracerProvider   // nil: the global one
	policy *mask.Policy           // nil: mask.Default()
	frames record.Frames          // 0: the process default
	logger otellog.Logger
}

// RecorderOption configures a [Recorder].
type RecorderOption interface{ applyRecorder(*Recorder) }

type recorderOptionFunc func(*Recorder)

func (f recorderOptionFunc) applyRecorder(r *Recorder) { f(r) }

// RecordWithRegistry makes the Recorder resolve errors with reg, also
// inside an httpx request.
func RecordWithRegistry(reg *errorsx.Registry) RecorderOption {
	return recorderOptionFunc(func(r *Recorder) { r.reg = reg })
}

// RecordWithLoggerProvider makes the Recorder write exception records
// through lp instead of the global provider.
func RecordWithLoggerProvider(lp otellog.LoggerProvider) RecorderOption {
	return recorderOptionFunc(func(r *Recorder) { r.lp = lp })
}

// RecordWithTracerProvider makes [Recorder.Track] start its spans with tp
// instead of the global provider.
func RecordWithTracerProvider(tp trace.TracerProvider) RecorderOption {
	return recorderOptionFunc(func(r *Recorder) { r.tp = tp })
}

// RecordWithMask makes the Recorder mask with p instead of mask.Default().
func RecordWithMask(p *mask.Policy) RecorderOption {
	return recorderOptionFunc(func(r *Recorder) { r.policy = p })
}

// RecordWithStackFrames bounds the stack trace (exception.stacktrace) of
// the Recorder's exception records: at most n frames, 0 none, a negative n
// every frame captured (see httpx.WithStackFrames). Without it the
// Recorder follows [WithStackFrames] given to [Setup], else writes every
// frame captured.
func RecordWithStackFrames(n int) RecorderOption {
	f := record.FramesOf(n)
	return recorderOptionFunc(func(r *Recorder) { r.frames = f })
}

// NewRecorder returns a Recorder; without options it behaves as the
// package-level functions.
func NewRecorder(opts ...RecorderOption) *Recorder {
	r := &Recorder{}
	for _, o := range opts {
		o.applyRecorder(r)
	}
	if r.lp != nil {
		r.logger = r.lp.Logger(record.ScopeName)
	}
	return r
}

var globalRecorder = &Recorder{}

// RecordError records err on the span in ctx exactly as httpx records a
// rendered error. A failure (5xx, unregistered) sets status Error and
// error.type = id on the span and on otelhttp's metrics when ctx is a
// request's, and writes an exception record (a span event, a log record or
// both: see [WithExceptionSignal]). Any other error (a 4xx) sets
// otelkit.error.id instead, leaves the status Unset and writes no exception
// record. err is resolved like httpx does (the request's registry, else
// errorsx.Default()). A nil err records nothing. See [Recorder] for the
// same without the globals.
func RecordError(ctx context.Context, err error) { globalRecorder.recordError(ctx, err) }

// RecordError is [RecordError] with r's registry, providers and policy.
func (r *Recorder) RecordError(ctx context.Context, err error) { r.recordError(ctx, err) }

func (r *Recorder) recordError(ctx context.Context, err error) {
	if err == nil {
		return
	}
	f := record.Failure{Err: err, Match: r.registry(ctx).Match(err), Kind: record.KindError, Skip: 2}
	f.Frames = r.frames
	record.Record(ctx, r.loggerFor(ctx), r.mask(), &f, nil)
}

// Capture reports err on purpose, with a stack, attrs and the context's
// extras (masked), so that it is grouped on /dev/errors and can notify. A
// failure (5xx, unregistered) is recorded on the current span as
// RecordError does, exception record included, but leaves the request's
// metrics alone: a captured error does not make the request fail. Any
// other error (a 4xx) leaves the span alone and is written as a log record
// at severity WARN. Inside an httpx request it resolves with that
// Handler's registry. A nil err captures nothing. See [Recorder] for the
// same without the globals.
func Capture(ctx context.Context, err error, attrs ...attribute.KeyValue) {
	globalRecorder.capture(ctx, err, attrs)
}

// Capture is [Capture] with r's registry, providers and policy.
func (r *Recorder) Capture(ctx context.Context, err error, attrs ...attribute.KeyValue) {
	r.capture(ctx, err, attrs)
}

func (r *Recorder) capture(ctx context.Context, err error, attrs []attribute.KeyValue) {
	if err == nil {
		return
	}
	f := record.Failure{Err: err, Match: r.registry(ctx).Match(err), Kind: record.KindError, Skip: 2, Captured: true}
	f.Frames = r.frames
	record.Record(ctx, r.loggerFor(ctx), r.mask(), &f, attrs)
}

// CaptureMessage emits msg as a log record of kind "message", named like
// exception records, grouped by its text, with attrs and the context's
// extras. The current span gets an event "otelkit.message" with the text
// under otelkit.message.
func CaptureMessage(ctx context.Context, msg string, attrs ...attribute.KeyValue) {
	globalRecorder.captureMessage(ctx, msg, attrs)
}

// CaptureMessage is [CaptureMessage] with r's providers and policy.
func (r *Recorder) CaptureMessage(ctx context.Context, msg string, attrs ...attribute.KeyValue) {
	r.captureMessage(ctx, msg, attrs)
}

func (r *Recorder) captureMessage(ctx context.Context, msg string, attrs []attribute.KeyValue) {
	f := record.Failure{Err: errors.New(msg), Match: errorsx.Match{Def: errorsx.Internal}, Kind: record.KindMessage, Skip: 2, Captured: true}
	if span := trace.SpanFromContext(ctx); span.IsRecording() {
		span.AddEvent(KeyMessage, trace.WithAttributes(attribute.String(KeyMessage, r.mask().Text(msg))))
	}
	f.Frames = r.frames
	record.Record(ctx, r.loggerFor(ctx), r.mask(), &f, attrs)
}

// KeyMessage names the span event of [CaptureMessage] and its attribute.
const KeyMessage = "otelkit.message"

// WithExtras returns a copy of ctx carrying attrs; they are attached
// (masked) to every error captured and every audit emitted under it. A key
// set again replaces its earlier value.
func WithExtras(ctx context.Context, attrs ...attribute.KeyValue) context.Context {
	return reqctx.WithExtras(ctx, attrs...)
}

// Extras returns the extras carried by ctx.
func Extras(ctx context.Context) []attribute.KeyValue {
	return append([]attribute.KeyValue(nil), reqctx.Extras(ctx)...)
}

// TrackOption configures [Track].
type TrackOption interface{ apply(*trackConfig) }

type trackConfig struct {
	silent bool
	attrs  []attribute.KeyValue
}

type trackOptionFunc func(*trackConfig)

func (f trackOptionFunc) apply(c *trackConfig) { f(c) }

// Silent makes Track capture the error or panic and return nil.
func Silent() TrackOption {
	return trackOptionFunc(func(c *trackConfig) { c.silent = true })
}

// TrackAttributes adds attributes to the job's span and captures.
func TrackAttributes(attrs ...attribute.KeyValue) TrackOption {
	return trackOptionFunc(func(c *trackConfig) { c.attrs = append(c.attrs, attrs...) })
}

// KeyJob names the job of a Track call on its span and captures.
const KeyJob = attribute.Key("otelkit.job")

// Track runs fn as the job name in a span of its own and captures what goes
// wrong: a returned error is captured and returned; a panic is recovered,
// captured with its stack and returned as a *[PanicError]. With [Silent]
// Track returns nil instead.
func Track(ctx context.Context, name string, fn func(context.Context) error, opts ...TrackOption) error {
	return globalRecorder.Track(ctx, name, fn, opts...)
}

// Track is [Track] with r's registry, providers and policy.
func (r *Recorder) Track(ctx context.Context, name string, fn func(context.Context) error, opts ...TrackOption) (err error) {
	var cfg trackConfig
	for _, o := range opts {
		o.apply(&cfg)
	}
	attrs := append([]attribute.KeyValue{KeyJob.String(name)}, cfg.attrs...)
	r.mask().Attrs(attrs[1:]) // the span gets them as they are
	ctx, span := r.tracer(ctx).Start(ctx, name, trace.WithAttributes(attrs...))
	defer span.End()
	defer func() {
		if v := recover(); v != nil {
			perr := &PanicError{Value: v}
			f := record.Failure{Err: perr, Match: errorsx.Match{Def: errorsx.Internal}, Kind: record.KindPanic, Stack: record.PanicStack(), Captured: true}
			f.Frames = r.frames
			record.Record(ctx, r.loggerFor(ctx), r.mask(), &f, attrs)
			err = perr
		}
		if cfg.silent {
			err = nil
		}
	}()
	if err = fn(ctx); err != nil {
		// A job has no client: any error is the job's failure (Fail).
		f := record.Failure{Err: err, Match: r.registry(ctx).Match(err), Kind: record.KindError, Captured: true, Fail: true}
		f.Frames = r.frames
		record.Record(ctx, r.loggerFor(ctx), r.mask(), &f, attrs)
	}
	return err
}

// PanicError is the error a panic recovered by [Track] (or httpx) becomes;
// Value is what was passed to panic. It unwraps to Value when that is an
// error.
type PanicError = record.PanicError

// registry returns the registry of the httpx Handler serving ctx's request,
// so that a capture resolves an error as the route's renderer does, or
// errorsx.Default() outside a request.
func (r *Recorder) registry(ctx context.Context) *errorsx.Registry {
	if r.reg != nil {
		return r.reg
	}
	if ctx != nil {
		if s, ok := ctx.Value(reqctx.SourceKey).(interface{ Registry() *errorsx.Registry }); ok {
			return s.Registry()
		}
	}
	return errorsx.Default()
}

// logger returns the logger of exception records: the one of the provider
// ctx carries (a test's, see package otelkittest), else the global one.
func (r *Recorder) loggerFor(ctx context.Context) otellog.Logger {
	if p := telctx.FromContext(ctx); p != nil && p.Logger != nil {
		return telctx.Logger(ctx, record.ScopeName, nil)
	}
	if r.logger != nil {
		return r.logger
	}
	return otel.GetLoggerProvider().Logger(record.ScopeName)
}

// tracer returns the tracer of Track's spans: the provider ctx carries,
// else r's, else the global one.
func (r *Recorder) tracer(ctx context.Context) trace.Tracer {
	if p := telctx.FromContext(ctx); (p == nil || p.Tracer == nil) && r.tp != nil {
		return r.tp.Tracer(record.ScopeName)
	}
	return telctx.Tracer(ctx, record.ScopeName)
}

func (r *Recorder) mask() *mask.Policy {
	if r.policy != nil {
		return r.policy
	}
	return mask.Default()
}
