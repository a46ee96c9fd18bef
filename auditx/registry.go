package auditx

import (
	"context"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/log"

	"github.com/otelkit/otelkit/internal/telctx"
	"github.com/otelkit/otelkit/mask"
)

// ScopeName is the instrumentation scope of every audit record, so that a
// processor or collector can route audits apart from application logs.
const ScopeName = "github.com/otelkit/otelkit/auditx"

// Registry holds audit event definitions and emits their records. A
// Registry is safe for concurrent use: events may be defined while other
// goroutines emit.
//
// A registry may have a parent: [Registry.Lookup] and [Registry.Emit]
// consult the child first and the parent after it, and a type defined in a
// parent cannot be defined again in the child.
type Registry struct {
	parent *Registry

	// logger is fixed at construction, or nil when the registry follows
	// the global logger provider (the default registry).
	logger log.Logger
	bound  atomic.Pointer[boundLogger] // cache for the global provider

	required        bool          // WithRequired
	requiredTimeout time.Duration // WithRequiredTimeout; 0: DefaultRequiredTimeout

	policy *mask.Policy    // nil: mask.Default() at emit time
	handle func(err error) // otel.Handle unless WithErrorHandler
	mu     sync.Mutex      // serialises Define
	events sync.Map        // type -> *Event
	order  atomic.Pointer[[]*Event]
}

type boundLogger struct {
	provider log.LoggerProvider
	logger   log.Logger
	cache    bool // provider is comparable, the pair may be reused
}

// Option configures a registry made by [NewRegistry].
type Option interface{ apply(*Registry) }

type optionFunc func(*Registry)

func (f optionFunc) apply(r *Registry) { f(r) }

// WithLoggerProvider makes the registry emit through a logger of p. Without
// it, or with a nil p, NewRegistry uses the global provider,
// [otel.GetLoggerProvider], as it is when the registry is made.
func WithLoggerProvider(p log.LoggerProvider) Option {
	return optionFunc(func(r *Registry) {
		if p != nil {
			r.logger = p.Logger(ScopeName)
		}
	})
}

// WithParent makes parent the registry consulted after the new one.
func WithParent(parent *Registry) Option {
	return optionFunc(func(r *Registry) { r.parent = parent })
}

// WithMask makes p the policy that decides which attribute values are
// masked, in attributes and in rendered bodies. Without it, or with a nil p,
// the registry uses [mask.Default], read when a record is emitted; pass
// mask.New() to mask nothing.
func WithMask(p *mask.Policy) Option {
	return optionFunc(func(r *Registry) { r.policy = p })
}

// WithErrorHandler makes h receive the problems found while emitting
// (missing parameters, unregistered types) instead of [otel.Handle]. The
// record is emitted either way.
func WithErrorHandler(h otel.ErrorHandler) Option {
	return optionFunc(func(r *Registry) {
		if h != nil {
			r.handle = h.Handle
		}
	})
}

// NewRegistry returns an empty registry.
func NewRegistry(opts ...Option) *Registry {
	r := &Registry{handle: otel.Handle}
	for _, o := range opts {
		o.apply(r)
	}
	if r.logger == nil {
		r.logger = otel.GetLoggerProvider().Logger(ScopeName)
	}
	return r
}

var defaultRegistry = &Registry{handle: otel.Handle}

// Default returns the process-wide registry used by the package-level
// functions. Unlike a registry made by NewRegistry it follows the global
// logger provider: records go to whatever provider [otel.SetLoggerProvider]
// installed last, so events may be defined in package-level variables
// before the provider is set up. Until one is installed, records go nowhere
// (the global provider's loggers are disabled).
func Default() *Registry { return defaultRegistry }

// Parent returns the parent registry, or nil.
func (r *Registry) Parent() *Registry { return r.parent }

// Define registers an event of type typ in r and returns it. The template
// is the body of every record of the event, with {name} placeholders filled
// from the attributes given to Emit; "{{" and "}}" stand for literal braces.
//
// Define panics, naming the type, when typ is empty, uses characters
// outside [a-z0-9._-], or is already defined in r or one of its parents,
// when level is not one of the Level constants, or when the template is
// empty or does not parse (unbalanced braces, an empty placeholder, a
// placeholder name outside [A-Za-z_][A-Za-z0-9_.-]* or one of the audit.*
// keys). Call it from package-level var
// declarations so that a bad definition stops the program at start-up.
func (r *Registry) Define(typ string, level Level, tmpl string, opts ...DefineOption) *Event {
	if !validType(typ) {
		panic(fmt.Sprintf("auditx: Define(%q): type must be non-empty and use only [a-z0-9._-]", typ))
	}
	if !level.valid() {
		panic(fmt.Sprintf("auditx: Define(%q): invalid level %v", typ, level))
	}
	if strings.TrimSpace(tmpl) == "" {
		panic(fmt.Sprintf("auditx: Define(%q): empty template", typ))
	}
	t, err := parseTemplate(tmpl)
	if err != nil {
		panic(fmt.Sprintf("auditx: Define(%q): %v", typ, err))
	}
	e := &Event{typ: typ, level: level, tmpl: t, reg: r,
		tail:    [2]attribute.KeyValue{attribute.String(KeyTemplate, tmpl), {Key: KeyRecordID}},
		sevText: level.String()}
	for _, o := range opts {
		if o != nil {
			o.applyEvent(e)
		}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	for p := r; p != nil; p = p.parent {
		if _, ok := p.events.Load(typ); ok {
			panic(fmt.Sprintf("auditx: Define(%q): type already defined", typ))
		}
	}
	r.events.Store(typ, e)
	var list []*Event
	if cur := r.order.Load(); cur != nil {
		list = *cur
	}
	next := append(append(make([]*Event, 0, len(list)+1), list...), e)
	r.order.Store(&next)
	return e
}

// Lookup returns the event of type typ defined in r or one of its parents.
func (r *Registry) Lookup(typ string) (*Event, bool) {
	for p := r; p != nil; p = p.parent {
		if e, ok := p.events.Load(typ); ok {
			return e.(*Event), true
		}
	}
	return nil, false
}

// Events returns the events defined in r, not its parents, in definition
// order.
func (r *Registry) Events() []*Event {
	cur := r.order.Load()
	if cur == nil {
		return nil
	}
	return append([]*Event(nil), (*cur)...)
}

// Emit emits a record of the event of type typ through r's logger, the way
// [Event.Emit] does. A type that is not defined in r or its parents is still
// emitted, marked otelkit.audit.unregistered=true, at LevelWarn, with a body made of
// the type and the attributes, and the problem is reported as an
// [*UnregisteredError].
//
// It returns an error only for a required event (see [Required] and
// [WithRequired]) whose record was not durably stored.
func (r *Registry) Emit(ctx context.Context, typ string, attrs ...attribute.KeyValue) error {
	if e, ok := r.Lookup(typ); ok {
		return r.emit(ctx, e, attrs)
	}
	return r.emitUnregistered(ctx, typ, attrs)
}

// loggerFor returns the logger records are emitted through: the one of
// the provider ctx carries (a test's, see package otelkittest), else the
// registry's.
func (r *Registry) loggerFor(ctx context.Context) log.Logger {
	if p := telctx.FromContext(ctx); p != nil && p.Logger != nil {
		return telctx.Logger(ctx, ScopeName, nil)
	}
	if r.logger != nil {
		return r.logger
	}
	p := otel.GetLoggerProvider()
	if b := r.bound.Load(); b != nil && b.cache && b.provider == p {
		return b.logger
	}
	b := &boundLogger{provider: p, logger: p.Logger(ScopeName), cache: reflect.TypeOf(p).Comparable()}
	r.bound.Store(b)
	return b.logger
}

// maskPolicy returns the policy in force.
func (r *Registry) maskPolicy() *mask.Policy {
	if r.policy != nil {
		return r.policy
	}
	return mask.Default()
}

// Define registers an event in the default registry; see [Registry.Define].
func Define(typ string, level Level, tmpl string, opts ...DefineOption) *Event {
	return defaultRegistry.Define(typ, level, tmpl, opts...)
}

// Lookup returns the event of type typ in the default registry.
func Lookup(typ string) (*Event, bool) { return defaultRegistry.Lookup(typ) }

// Emit emits a record of the event of type typ defined in the default
// registry; see [Registry.Emit].
func Emit(ctx context.Context, typ string, attrs ...attribute.KeyValue) error {
	return defaultRegistry.Emit(ctx, typ, attrs...)
}
