package connectx

import (
	"context"
	"fmt"

	"connectrpc.com/connect"
	"go.opentelemetry.io/otel"
	otellog "go.opentelemetry.io/otel/log"

	"github.com/otelkit/otelkit/errorsx"
	"github.com/otelkit/otelkit/internal/record"
	"github.com/otelkit/otelkit/internal/rpcstatus"
	"github.com/otelkit/otelkit/mask"
)

// Option configures [NewInterceptor].
type Option interface{ apply(*config) }

type optionFunc func(*config)

func (f optionFunc) apply(c *config) { f(c) }

type config struct {
	registry *errorsx.Registry
	mask     *mask.Policy
	user     func(context.Context) string
	logger   otellog.Logger
	domain   string
	codes    map[*errorsx.Def]connect.Code
	signal   record.Signal
	frames   record.Frames
	builder  rpcstatus.Builder
}

// DefaultDomain is the ErrorInfo domain when [WithDomain] is not given
// (the same as grpcx's).
const DefaultDomain = rpcstatus.DefaultDomain

// WithRegistry sets the registry errors resolve through (handlers) and
// reasons are looked up in (clients); errorsx.Default() when not set.
func WithRegistry(reg *errorsx.Registry) Option {
	return optionFunc(func(c *config) { c.registry = reg })
}

// WithMask sets the policy that masks public info in ErrorInfo metadata and
// telemetry; mask.Default() when not set.
func WithMask(p *mask.Policy) Option {
	return optionFunc(func(c *config) { c.mask = p })
}

// WithUser sets how the caller's user id is found (for user.id on exception
// log records); none when not set.
func WithUser(f func(context.Context) string) Option {
	return optionFunc(func(c *config) { c.user = f })
}

// WithLoggerProvider sets the provider of exception log records; the
// global one when not set.
func WithLoggerProvider(lp otellog.LoggerProvider) Option {
	return optionFunc(func(c *config) { c.logger = lp.Logger(record.ScopeName) })
}

// WithDomain sets the ErrorInfo domain ("the logical grouping to which the
// reason belongs", typically the service name); [DefaultDomain] when not set.
func WithDomain(domain string) Option {
	return optionFunc(func(c *config) { c.domain = domain })
}

// WithCode answers def with code instead of [Code](def.Status()). code
// must be an error code (1 to 16): [NewInterceptor] panics otherwise.
func WithCode(def *errorsx.Def, code connect.Code) Option {
	return optionFunc(func(c *config) {
		if c.codes == nil {
			c.codes = make(map[*errorsx.Def]connect.Code)
		}
		c.codes[def] = code
	})
}

// ExceptionSignal says where exception records go (see httpx.ExceptionSignal).
type ExceptionSignal = record.Signal

// WithExceptionSignal overrides OTEL_SEMCONV_EXCEPTION_SIGNAL_OPT_IN for
// the interceptor (httpx.ExceptionLogs and the other httpx.Exception*
// values).
func WithExceptionSignal(s ExceptionSignal) Option {
	return optionFunc(func(c *config) { c.signal = s })
}

// WithStackFrames bounds the stack trace (exception.stacktrace) of the
// interceptor's server exception records: at most n frames, 0 none, a
// negative n every frame captured (see httpx.WithStackFrames and
// grpcx.WithStackFrames). Without it the interceptor follows
// otelbridge.Setup's WithStackFrames, else writes every frame captured.
func WithStackFrames(n int) Option {
	f := record.FramesOf(n)
	return optionFunc(func(c *config) { c.frames = f })
}

func newConfig(opts []Option) *config {
	c := &config{domain: DefaultDomain}
	for _, o := range opts {
		o.apply(c)
	}
	if c.registry == nil {
		c.registry = errorsx.Default()
	}
	if c.mask == nil {
		c.mask = mask.Default()
	}
	if c.logger == nil {
		c.logger = otel.GetLoggerProvider().Logger(record.ScopeName)
	}
	for def, code := range c.codes {
		if code < connect.CodeCanceled || code > connect.CodeUnauthenticated {
			panic(fmt.Sprintf("connectx: WithCode(%s, %d): not an error code", def.ID(), code))
		}
	}
	c.builder = rpcstatus.Builder{Registry: c.registry, Mask: c.mask, Domain: c.domain}
	return c
}

// code returns the code def is answered with.
func (c *config) code(def *errorsx.Def) connect.Code {
	if code, ok := c.codes[def]; ok {
		return code
	}
	return Code(def.Status())
}
