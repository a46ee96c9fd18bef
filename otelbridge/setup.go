package otelbridge

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"log/slog"
	"os"
	"reflect"
	"runtime/debug"
	"sync"
	"sync/atomic"

	"go.opentelemetry.io/contrib/bridges/otelslog"
	"go.opentelemetry.io/contrib/exporters/autoexport"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/stdout/stdoutlog"
	"go.opentelemetry.io/otel/exporters/stdout/stdoutmetric"
	"go.opentelemetry.io/otel/exporters/stdout/stdouttrace"
	"go.opentelemetry.io/otel/propagation"
	sdklog "go.opentelemetry.io/otel/sdk/log"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"

	"github.com/otelkit/otelkit/auditx"
	"github.com/otelkit/otelkit/auditx/chain"
	"github.com/otelkit/otelkit/auditx/delivery"
	"github.com/otelkit/otelkit/internal/record"
	"github.com/otelkit/otelkit/mask"
)

// AuditScope is the instrumentation scope of audit records (package auditx).
const AuditScope = auditx.ScopeName

// Option configures [Setup].
type Option interface{ apply(*setupConfig) }

type setupOptionFunc func(*setupConfig)

func (f setupOptionFunc) apply(c *setupConfig) { f(c) }

type setupConfig struct {
	serviceName    string
	attrs          []attribute.KeyValue
	writer         io.Writer
	spanProcessors []sdktrace.SpanProcessor
	logProcessors  []sdklog.Processor
	metricReaders  []sdkmetric.Reader
	slog           bool
	mask           *mask.Policy
	audit          func(ctx context.Context, exp sdklog.Exporter) (sdklog.Processor, error)
	auditSpool     string
	auditOpts      []delivery.Option
	console        ConsoleFormat
	signal         record.Signal
	frames         record.Frames
}

// WithServiceName sets service.name unless OTEL_SERVICE_NAME (or
// OTEL_RESOURCE_ATTRIBUTES) says otherwise.
func WithServiceName(name string) Option {
	return setupOptionFunc(func(c *setupConfig) { c.serviceName = name })
}

// WithResourceAttributes adds resource attributes; the environment wins.
func WithResourceAttributes(attrs ...attribute.KeyValue) Option {
	return setupOptionFunc(func(c *setupConfig) { c.attrs = append(c.attrs, attrs...) })
}

// WithWriter sets where telemetry is written when no exporter or endpoint
// is configured (default os.Stderr).
func WithWriter(w io.Writer) Option {
	return setupOptionFunc(func(c *setupConfig) { c.writer = w })
}

// WithSpanProcessor adds a span processor beside the exporting one.
func WithSpanProcessor(p sdktrace.SpanProcessor) Option {
	return setupOptionFunc(func(c *setupConfig) { c.addSpanProcessor(p) })
}

// addSpanProcessor adds p unless it is there already (an errtrack Tracker
// given to both WithLogProcessor and WithSpanProcessor must not read each
// span twice).
func (c *setupConfig) addSpanProcessor(p sdktrace.SpanProcessor) {
	if t := reflect.TypeOf(p); t != nil && t.Comparable() {
		for _, q := range c.spanProcessors {
			if reflect.TypeOf(q) == t && q == p {
				return
			}
		}
	}
	c.spanProcessors = append(c.spanProcessors, p)
}

// WithLogProcessor adds a log processor beside the exporting ones; it sees
// application logs, exception records and audits (errtrack's Tracker is
// one). A processor that is also an sdktrace.SpanProcessor (the Tracker
// is) is added to the tracer provider too, so that it sees exceptions
// recorded as span events whatever [WithExceptionSignal] chooses.
func WithLogProcessor(p sdklog.Processor) Option {
	return setupOptionFunc(func(c *setupConfig) {
		c.logProcessors = append(c.logProcessors, p)
		if sp, ok := p.(sdktrace.SpanProcessor); ok {
			c.addSpanProcessor(sp)
		}
	})
}

// WithMetricReader adds a metric reader beside the exporting one.
func WithMetricReader(r sdkmetric.Reader) Option {
	return setupOptionFunc(func(c *setupConfig) { c.metricReaders = append(c.metricReaders, r) })
}

// WithoutSlog leaves log/slog's default logger alone. By default Setup
// makes slog.Default() write OpenTelemetry log records through the otelslog
// bridge, masked first with the masking policy (mask.NewHandler).
func WithoutSlog() Option {
	return setupOptionFunc(func(c *setupConfig) { c.slog = false })
}

// WithMask makes p the process-wide masking policy (mask.SetDefault) until
// the shutdown function puts the previous one back.
func WithMask(p *mask.Policy) Option {
	return setupOptionFunc(func(c *setupConfig) { c.mask = p })
}

// WithAuditSpool makes the audit pipeline write every audit ahead to a
// spool in dir before exporting it, so that audits survive a collector
// outage and a crash (see package auditx/delivery). Without it (and without
// OTELKIT_AUDIT_SPOOL_DIR) audits are still retried until delivered, from
// memory only. One process per directory.
func WithAuditSpool(dir string) Option {
	return setupOptionFunc(func(c *setupConfig) { c.auditSpool = dir })
}

// WithAuditDelivery passes options to the audit pipeline's delivery
// processor (memory limit, batch size, emit timeout, spool size cap…).
func WithAuditDelivery(opts ...delivery.Option) Option {
	return setupOptionFunc(func(c *setupConfig) { c.auditOpts = append(c.auditOpts, opts...) })
}

// WithAuditProcessor replaces how the audit pipeline is built from its
// exporter (by default the lossless processor of package auditx/delivery).
func WithAuditProcessor(f func(ctx context.Context, exp sdklog.Exporter) (sdklog.Processor, error)) Option {
	return setupOptionFunc(func(c *setupConfig) { c.audit = f })
}

// ExceptionSignal says where exception records go: span events, log
// records or both. See [WithExceptionSignal].
type ExceptionSignal = record.Signal

// Exception signals, after the values of OTEL_SEMCONV_EXCEPTION_SIGNAL_OPT_IN.
const (
	// ExceptionSignalDefault follows OTEL_SEMCONV_EXCEPTION_SIGNAL_OPT_IN.
	ExceptionSignalDefault ExceptionSignal = record.SignalDefault
	// ExceptionSpanEvents: span events only (the variable unset). A
	// failure where no span is recording goes out as a log record.
	ExceptionSpanEvents ExceptionSignal = record.SignalSpanEvents
	// ExceptionLogs: log records only ("logs").
	ExceptionLogs ExceptionSignal = record.SignalLogs
	// ExceptionLogsAndSpanEvents: both ("logs/dup").
	ExceptionLogsAndSpanEvents ExceptionSignal = record.SignalLogsAndSpanEvents
)

// WithExceptionSignal sets the process's exception signal, overriding
// OTEL_SEMCONV_EXCEPTION_SIGNAL_OPT_IN, for httpx handlers (unless given
// their own), [RecordError], [Capture] and [Track]; shutdown restores the
// variable's rule. The semantic conventions deprecate exceptions as span
// events in favour of log records and ask instrumentations to keep span
// events by default until the user opts in ("logs", "logs/dup").
func WithExceptionSignal(s ExceptionSignal) Option {
	return setupOptionFunc(func(c *setupConfig) { c.signal = s })
}

// WithStackFrames sets the process's bound on the stack trace
// (exception.stacktrace) of exception records, span events and log records
// alike: at most n frames, the first ones (where the failure happened),
// then a line saying frames were elided; 0 writes no stack trace; a
// negative n every frame captured. It applies to httpx handlers and grpcx
// interceptors unless given their own (httpx.WithStackFrames,
// grpcx.WithStackFrames), to [RecordError], [Capture], [CaptureMessage],
// [Track] and Recorders without [RecordWithStackFrames]. Without it every
// frame captured is written (at most 32 for an error, 64 for a panic); no
// environment variable changes that. Shutdown puts the default back.
func WithStackFrames(n int) Option {
	f := record.FramesOf(n)
	return setupOptionFunc(func(c *setupConfig) { c.frames = f })
}

// Setup builds the tracer, meter and logger providers from the OTEL_*
// environment variables, installs them as the global providers with W3C
// trace-context and baggage propagators, and, unless [WithoutSlog], makes
// slog.Default() an otelslog logger. It returns a function that flushes and
// shuts everything down; call it before the process exits. With no
// exporter and no OTLP endpoint configured, telemetry is written to stderr,
// one line per span, log record and metric (see [WithConsole] for the full
// JSON dump).
//
// Go's log package keeps writing to its own output (stderr by default), so
// log.Fatal(http.ListenAndServe(...)) still shows why the process ended.
// The shutdown function puts back the slog default, the log package's
// output and flags, and the mask policy replaced by [WithMask]; the global
// OpenTelemetry providers stay installed (shut down, they record nothing).
func Setup(ctx context.Context, opts ...Option) (shutdown func(context.Context) error, err error) {
	cfg := setupConfig{writer: os.Stderr, slog: true}
	for _, o := range opts {
		o.apply(&cfg)
	}
	var restoreMask func(context.Context) error
	if cfg.mask != nil {
		prev := mask.Default()
		mask.SetDefault(cfg.mask)
		restoreMask = func(context.Context) error { mask.SetDefault(prev); return nil }
	}
	if cfg.signal != record.SignalDefault {
		record.SetDefaultSignal(cfg.signal)
	}
	if cfg.frames != record.FramesDefault {
		record.SetDefaultFrames(cfg.frames)
	}

	res, err := newResource(ctx, &cfg)
	if err != nil {
		return nil, err
	}

	var shutdowns []func(context.Context) error
	if restoreMask != nil {
		shutdowns = append(shutdowns, restoreMask) // last: the providers flush masked
	}
	var (
		shutdownOnce sync.Once
		shutdownErr  error
	)
	// Later calls return the first call's result: the accounting of
	// undelivered audits is not lost to a second call.
	shutdown = func(ctx context.Context) error {
		shutdownOnce.Do(func() {
			var errs []error
			for i := len(shutdowns) - 1; i >= 0; i-- {
				errs = append(errs, shutdowns[i](ctx))
			}
			shutdownErr = errors.Join(errs...)
		})
		return shutdownErr
	}
	fail := func(err error) (func(context.Context) error, error) {
		return nil, errors.Join(err, shutdown(ctx))
	}

	local := !endpointConfigured()
	format, err := consoleFormat(cfg.console)
	if err != nil {
		return fail(err)
	}
	con := newConsole(cfg.writer)
	if format == ConsoleOff {
		con = newConsole(io.Discard)
	}
	if local && format == ConsoleLines {
		fmt.Fprintf(cfg.writer, "otelkit: service.name=%s: no OTLP endpoint set (OTEL_EXPORTER_OTLP_ENDPOINT), telemetry follows, "+
			"one line per span, log record and metric; OTELKIT_CONSOLE=json for the full dump, =off for none\n", serviceName(res))
	}

	// Traces.
	var spanOpts []autoexport.SpanOption
	if local {
		spanOpts = append(spanOpts, autoexport.WithFallbackSpanExporter(func(context.Context) (sdktrace.SpanExporter, error) {
			if format == ConsoleJSON {
				return stdouttrace.New(stdouttrace.WithWriter(cfg.writer), stdouttrace.WithPrettyPrint())
			}
			return consoleSpans{con}, nil
		}))
	}
	spanExp, err := autoexport.NewSpanExporter(ctx, spanOpts...)
	if err != nil {
		return fail(fmt.Errorf("otelbridge: span exporter: %w", err))
	}
	tpOpts := []sdktrace.TracerProviderOption{
		sdktrace.WithResource(res),
		sdktrace.WithSpanProcessor(ErrorStatusProcessor(sdktrace.NewBatchSpanProcessor(spanExp))),
	}
	for _, p := range cfg.spanProcessors {
		tpOpts = append(tpOpts, sdktrace.WithSpanProcessor(ErrorStatusProcessor(p)))
	}
	tp := sdktrace.NewTracerProvider(tpOpts...)
	shutdowns = append(shutdowns, tp.Shutdown)
	if cfg.signal != record.SignalDefault {
		shutdowns = append(shutdowns, func(context.Context) error {
			record.SetDefaultSignal(record.SignalDefault)
			return nil
		})
	}
	if cfg.frames != record.FramesDefault {
		shutdowns = append(shutdowns, func(context.Context) error {
			record.SetDefaultFrames(record.FramesDefault)
			return nil
		})
	}

	// Metrics.
	var metricOpts []autoexport.MetricOption
	if local {
		metricOpts = append(metricOpts, autoexport.WithFallbackMetricReader(func(context.Context) (sdkmetric.Reader, error) {
			if format != ConsoleJSON {
				return sdkmetric.NewPeriodicReader(consoleMetrics{con}), nil
			}
			exp, err := stdoutmetric.New(stdoutmetric.WithWriter(cfg.writer), stdoutmetric.WithPrettyPrint())
			if err != nil {
				return nil, err
			}
			return sdkmetric.NewPeriodicReader(exp), nil
		}))
	}
	reader, err := autoexport.NewMetricReader(ctx, metricOpts...)
	if err != nil {
		return fail(fmt.Errorf("otelbridge: metric reader: %w", err))
	}
	mpOpts := []sdkmetric.Option{sdkmetric.WithResource(res), sdkmetric.WithReader(reader)}
	for _, r := range cfg.metricReaders {
		mpOpts = append(mpOpts, sdkmetric.WithReader(r))
	}
	mp := sdkmetric.NewMeterProvider(mpOpts...)
	shutdowns = append(shutdowns, mp.Shutdown)

	// Logs: application logs and audits in separate pipelines.
	newLogExporter := func() (sdklog.Exporter, error) {
		var logOpts []autoexport.LogOption
		if local {
			logOpts = append(logOpts, autoexport.WithFallbackLogExporter(func(context.Context) (sdklog.Exporter, error) {
				if format == ConsoleJSON {
					return stdoutlog.New(stdoutlog.WithWriter(cfg.writer), stdoutlog.WithPrettyPrint())
				}
				return consoleLogs{con}, nil
			}))
		}
		return autoexport.NewLogExporter(ctx, logOpts...)
	}
	appExp, err := newLogExporter()
	if err != nil {
		return fail(fmt.Errorf("otelbridge: log exporter: %w", err))
	}
	auditExp, err := newLogExporter()
	if err != nil {
		return fail(fmt.Errorf("otelbridge: audit log exporter: %w", err))
	}
	var auditProc sdklog.Processor
	if cfg.audit != nil {
		if auditProc, err = cfg.audit(ctx, auditExp); err != nil {
			return fail(fmt.Errorf("otelbridge: audit pipeline: %w", err))
		}
	} else {
		dir := cfg.auditSpool
		if dir == "" {
			dir = os.Getenv("OTELKIT_AUDIT_SPOOL_DIR")
		}
		// Exported audits are hash-chained, with checkpoints signed by the
		// key in OTELKIT_AUDIT_SIGNING_KEY(_FILE) when one is set (package
		// auditx/chain); WithAuditDelivery(delivery.WithoutChain()) turns it
		// off. On the local console (no endpoint, no key) there is nothing
		// to verify and the chain attributes would only clutter the lines.
		signer, err := chain.SignerFromEnv()
		if err != nil {
			return fail(fmt.Errorf("otelbridge: audit signing key: %w", err))
		}
		opts := []delivery.Option{delivery.WithMeterProvider(mp)}
		if !local || signer != nil {
			opts = append(opts, delivery.WithChain(delivery.WithSigner(signer)))
		}
		if dir != "" {
			opts = append(opts, delivery.WithSpoolDir(dir))
		}
		// The exporter's own retries are bounded by the processor's export
		// timeout; the processor retries without a time limit.
		if auditProc, err = delivery.NewProcessor(auditExp, append(opts, cfg.auditOpts...)...); err != nil {
			return fail(fmt.Errorf("otelbridge: audit pipeline: %w", err))
		}
	}
	// The provider is never shut down itself: once LoggerProvider.Shutdown
	// begins, the SDK stops handing records to processors, so an audit
	// emitted during or after shutdown would vanish without a count, and a
	// context already done would skip every processor's Shutdown (no
	// accounting). Setup's shutdown function shuts the processors down
	// itself, audits first, each with the caller's context whatever its
	// state. Afterwards audits still reach the delivery processor, which
	// counts them as dropped with reason "shutdown"; the other processors
	// are closed off by a guard.
	procs := []sdklog.Processor{
		scopeRoute{next: auditProc, audit: true},
		newGuard(scopeRoute{next: sdklog.NewBatchProcessor(appExp), audit: false}),
	}
	for _, p := range cfg.logProcessors {
		procs = append(procs, newGuard(p))
	}
	lpOpts := []sdklog.LoggerProviderOption{sdklog.WithResource(res)}
	for _, p := range procs {
		lpOpts = append(lpOpts, sdklog.WithProcessor(p))
	}
	lp := sdklog.NewLoggerProvider(lpOpts...)
	shutdowns = append(shutdowns, func(ctx context.Context) error {
		var errs []error
		for _, p := range procs {
			errs = append(errs, p.Shutdown(ctx))
		}
		return errors.Join(errs...)
	})

	otel.SetTracerProvider(tp)
	otel.SetMeterProvider(mp)
	otel.SetLoggerProvider(lp)
	otel.SetTextMapPropagator(propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, propagation.Baggage{}))
	if cfg.slog {
		// slog.SetDefault also redirects the log package's default logger
		// into the new handler. Go's log keeps writing where it wrote
		// (stderr by default) with its flags: its messages are start-up
		// and fatal ones, and log.Fatal exits before any export could
		// show them.
		prev, logOut, logFlags := slog.Default(), log.Writer(), log.Flags()
		// Records pass the masking policy before the bridge sees them.
		bridge := otelslog.NewHandler(serviceScope(res), otelslog.WithLoggerProvider(lp))
		slog.SetDefault(slog.New(mask.NewHandler(bridge, nil)))
		log.SetOutput(logOut)
		log.SetFlags(logFlags)
		shutdowns = append([]func(context.Context) error{func(context.Context) error {
			slog.SetDefault(prev)
			log.SetOutput(logOut)
			log.SetFlags(logFlags)
			return nil
		}}, shutdowns...)
	}
	return shutdown, nil
}

func newResource(ctx context.Context, cfg *setupConfig) (*resource.Resource, error) {
	var attrs []attribute.KeyValue
	if v := buildVersion(); v != "" {
		// service.version is Recommended on the resource; the main
		// module's version is the best default. WithResourceAttributes
		// and OTEL_RESOURCE_ATTRIBUTES override it.
		attrs = append(attrs, semconv.ServiceVersion(v))
	}
	attrs = append(attrs, cfg.attrs...)
	if cfg.serviceName != "" {
		attrs = append(attrs, semconv.ServiceName(cfg.serviceName))
	}
	res, err := resource.New(ctx,
		resource.WithTelemetrySDK(),
		resource.WithHost(),
		resource.WithProcessRuntimeName(),
		resource.WithProcessRuntimeVersion(),
		resource.WithProcessPID(),
		resource.WithAttributes(attrs...),
		resource.WithFromEnv(), // the environment wins
	)
	if err != nil && !errors.Is(err, resource.ErrPartialResource) {
		return nil, fmt.Errorf("otelbridge: resource: %w", err)
	}
	return resource.Merge(resource.Default(), res)
}

// buildVersion returns the main module's version from the build info: its
// module version when it has one, else the VCS revision the binary was
// built from (with "-dirty" for uncommitted changes), else Go's "(devel)".
func buildVersion() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return ""
	}
	if v := bi.Main.Version; v != "" && v != "(devel)" {
		return v
	}
	var rev string
	dirty := false
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			dirty = s.Value == "true"
		}
	}
	if rev == "" {
		// No VCS stamp (go build -buildvcs=false, go run): Go's own
		// "(devel)" still says the binary is a development build.
		return bi.Main.Version
	}
	if len(rev) > 12 {
		rev = rev[:12]
	}
	if dirty {
		rev += "-dirty"
	}
	return rev
}

func serviceScope(res *resource.Resource) string {
	if n := serviceName(res); n != "" {
		return n
	}
	return "github.com/otelkit/otelkit/otelbridge/slog"
}

func serviceName(res *resource.Resource) string {
	v, _ := res.Set().Value(semconv.ServiceNameKey)
	return v.AsString()
}

// endpointConfigured reports whether the environment names an exporter or
// an OTLP endpoint.
func endpointConfigured() bool {
	for _, k := range []string{
		"OTEL_EXPORTER_OTLP_ENDPOINT",
		"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
		"OTEL_EXPORTER_OTLP_METRICS_ENDPOINT",
		"OTEL_EXPORTER_OTLP_LOGS_ENDPOINT",
	} {
		if os.Getenv(k) != "" {
			return true
		}
	}
	return false
}

// scopeRoute passes to next only the records of the audit scope (audit) or
// only the others (!audit), so audits and application logs have separate
// pipelines in one logger provider.
type scopeRoute struct {
	next  sdklog.Processor
	audit bool
}

func (s scopeRoute) OnEmit(ctx context.Context, r *sdklog.Record) error {
	if (r.InstrumentationScope().Name == AuditScope) != s.audit {
		return nil
	}
	return s.next.OnEmit(ctx, r)
}

func (s scopeRoute) Shutdown(ctx context.Context) error   { return s.next.Shutdown(ctx) }
func (s scopeRoute) ForceFlush(ctx context.Context) error { return s.next.ForceFlush(ctx) }

func (s scopeRoute) Enabled(ctx context.Context, p sdklog.EnabledParameters) bool {
	if (p.InstrumentationScope.Name == AuditScope) != s.audit {
		return false
	}
	return s.next.Enabled(ctx, p)
}

// guard passes calls to a log processor until its Shutdown; from then on
// the processor sees nothing (the provider itself is never shut down, see
// Setup).
type guard struct {
	next   sdklog.Processor
	closed *atomic.Bool
}

func newGuard(next sdklog.Processor) guard { return guard{next: next, closed: new(atomic.Bool)} }

func (g guard) OnEmit(ctx context.Context, r *sdklog.Record) error {
	if g.closed.Load() {
		return nil
	}
	return g.next.OnEmit(ctx, r)
}

func (g guard) Enabled(ctx context.Context, p sdklog.EnabledParameters) bool {
	if g.closed.Load() {
		return false
	}
	return g.next.Enabled(ctx, p)
}

func (g guard) Shutdown(ctx context.Context) error {
	if g.closed.Swap(true) {
		return nil
	}
	return g.next.Shutdown(ctx)
}

func (g guard) ForceFlush(ctx context.Context) error {
	if g.closed.Load() {
		return nil
	}
	return g.next.ForceFlush(ctx)
}
