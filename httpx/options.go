package httpx

import (
	"net"
	"net/http"
	"strings"
	"sync"

	"go.opentelemetry.io/otel"
	otellog "go.opentelemetry.io/otel/log"

	"github.com/otelkit/otelkit/errorsx"
	"github.com/otelkit/otelkit/internal/cowmap"
	"github.com/otelkit/otelkit/internal/record"
	"github.com/otelkit/otelkit/mask"
)

// Option configures a [Handler].
//
// A Handler nested inside another (a route group's, mounted under the
// service's) inherits every option of the Handlers around it unless it sets
// that option itself: the outer options apply first, then its own. So an
// inner Handler given only WithRegistry renders with the outer renderer,
// mask, docs base URL, user resolver and so on.
type Option interface{ apply(*config) }

type optionFunc func(*config)

func (f optionFunc) apply(c *config) { f(c) }

type config struct {
	opts        []Option // the options applied, outer Handlers' first
	registry    *errorsx.Registry
	renderer    Renderer
	mask        *mask.Policy
	user        func(*http.Request) string
	clientAddr  func(*http.Request) string
	logger      otellog.Logger
	docsBase    string
	routeErrors bool
	nested      bool // the configuration of a Handler inside another (handler.under)
	logClient   bool // log exception records for 4xx too
	signal      record.Signal
	frames      record.Frames                      // 0: the process default
	types       cowmap.Map[*errorsx.Def, *defInfo] // what defInfo keeps per definition
}

// WithRegistry makes the handler resolve errors with reg instead of
// errorsx.Default(). Give a child registry (errorsx.WithParent) to a group
// of routes to override the service's mappings there.
func WithRegistry(reg *errorsx.Registry) Option {
	return optionFunc(func(c *config) { c.registry = reg })
}

// WithRenderer replaces the problem+json renderer, e.g. with [ErrorList] or
// a renderer of the service's own.
func WithRenderer(r Renderer) Option {
	return optionFunc(func(c *config) { c.renderer = r })
}

// WithMask replaces the masking policy (default mask.Default()) used for
// public info in bodies and telemetry.
func WithMask(p *mask.Policy) Option {
	return optionFunc(func(c *config) { c.mask = p })
}

// WithUser configures how the handler learns the user of a request. The
// function runs lazily, only when an error or an audit event needs the
// user; it returns "" for anonymous requests. The result becomes user.id in
// audit and exception records.
func WithUser(resolve func(*http.Request) string) Option {
	return optionFunc(func(c *config) { c.user = resolve })
}

// WithClientAddress replaces how client.address is taken from a request
// (default: the host of r.RemoteAddr). Use it behind a trusted proxy.
func WithClientAddress(f func(*http.Request) string) Option {
	return optionFunc(func(c *config) { c.clientAddr = f })
}

// WithLoggerProvider sets the provider of the logger that emits exception
// records for 5xx errors and panics; by default the global provider at the
// time the handler is built.
func WithLoggerProvider(lp otellog.LoggerProvider) Option {
	if lp == nil {
		panic("httpx: WithLoggerProvider(nil)")
	}
	return optionFunc(func(c *config) { c.logger = lp.Logger(record.ScopeName) })
}

// WithDocsBaseURL makes the body's "type" a resolvable URI: base + id. The
// catalog handler can serve a page per id at that path.
func WithDocsBaseURL(base string) Option {
	return optionFunc(func(c *config) { c.docsBase = base })
}

// WithoutRouteErrors leaves the router's own 404 and 405 responses alone
// instead of answering them with the registered not-found and
// method-not-allowed bodies.
func WithoutRouteErrors() Option {
	return optionFunc(func(c *config) { c.routeErrors = false })
}

// WithClientErrorLogs makes 4xx errors emit log records too, at severity
// WARN, named like exception records (by default only failures, 5xx errors
// and panics, have an exception record; a 4xx only sets otelkit.error.id on
// the span and the request metrics).
func WithClientErrorLogs() Option {
	return optionFunc(func(c *config) { c.logClient = true })
}

// ExceptionSignal says where exception records go: span events, log
// records or both. See [WithExceptionSignal].
type ExceptionSignal = record.Signal

// Exception signals, after the values of OTEL_SEMCONV_EXCEPTION_SIGNAL_OPT_IN.
const (
	// ExceptionSignalDefault follows otelbridge.Setup's
	// WithExceptionSignal, else OTEL_SEMCONV_EXCEPTION_SIGNAL_OPT_IN.
	ExceptionSignalDefault ExceptionSignal = record.SignalDefault
	// ExceptionSpanEvents: span events only (the variable unset). A
	// failure where no span is recording goes out as a log record.
	ExceptionSpanEvents ExceptionSignal = record.SignalSpanEvents
	// ExceptionLogs: log records only ("logs").
	ExceptionLogs ExceptionSignal = record.SignalLogs
	// ExceptionLogsAndSpanEvents: both ("logs/dup").
	ExceptionLogsAndSpanEvents ExceptionSignal = record.SignalLogsAndSpanEvents
)

// WithExceptionSignal chooses where the handler writes exception records
// of failures (5xx errors, unregistered errors, panics), overriding
// OTEL_SEMCONV_EXCEPTION_SIGNAL_OPT_IN and otelbridge.Setup's choice. Their
// name is http.server.request.exception (semconv model/http/events.yaml).
func WithExceptionSignal(s ExceptionSignal) Option {
	return optionFunc(func(c *config) { c.signal = s })
}

// WithStackFrames bounds the stack trace (exception.stacktrace) of the
// handler's exception records, span events and log records alike: at most
// n frames, the first ones (where the failure happened), then a line that
// says frames were elided; 0 writes no stack trace; a negative n every
// frame captured. Without it the handler follows otelbridge.Setup's
// WithStackFrames, else writes every frame captured (at most 32 for a
// returned error, 64 for a panic); no environment variable changes it.
// Fingerprints are computed from the whole stack either way, so bounding
// it does not regroup failures.
func WithStackFrames(n int) Option {
	f := record.FramesOf(n)
	return optionFunc(func(c *config) { c.frames = f })
}

func newConfig(opts []Option) *config {
	c := &config{routeErrors: true, opts: opts}
	for _, o := range opts {
		if o == nil {
			panic("httpx: nil Option")
		}
		o.apply(c)
	}
	if c.registry == nil {
		c.registry = errorsx.Default()
	}
	if c.renderer == nil {
		c.renderer = ProblemJSON{}
	}
	if c.mask == nil {
		c.mask = mask.Default()
	}
	if c.clientAddr == nil {
		c.clientAddr = remoteHost
	}
	if c.logger == nil {
		c.logger = otel.GetLoggerProvider().Logger(record.ScopeName)
	}
	if c.docsBase != "" && !strings.HasSuffix(c.docsBase, "/") {
		c.docsBase += "/"
	}
	return c
}

// defaultConfig serves WriteError calls made outside any Handler.
var defaultConfig = sync.OnceValue(func() *config { return newConfig(nil) })

// remoteHost returns the host of r.RemoteAddr: "192.0.2.7" for
// "192.0.2.7:1234", "2001:db8::1" for "[2001:db8::1]:443", and an address
// without a port as it is.
func remoteHost(r *http.Request) string {
	addr := r.RemoteAddr
	if host, _, err := net.SplitHostPort(addr); err == nil {
		return host
	}
	return strings.TrimSuffix(strings.TrimPrefix(addr, "["), "]")
}
