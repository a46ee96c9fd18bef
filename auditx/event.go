package auditx

import (
	"context"
	"sync/atomic"

	"go.opentelemetry.io/otel/attribute"

	"github.com/otelkit/otelkit/internal/plain"
	"github.com/otelkit/otelkit/mask"
)

// Event is a defined audit event: a type, a level and a parsed message
// template. An Event is immutable and safe for concurrent use.
type Event struct {
	typ   string
	level Level
	tmpl  *template
	reg   *Registry
	sens  atomic.Pointer[sensitivity]
	keys  atomic.Pointer[keySensitivity]
	plans atomic.Pointer[[]*plan] // see planFor

	required bool

	// tail is the last two of the attributes Emit builds: the template,
	// otelkit.audit.template, and otelkit.audit.record_id without a value.
	tail    [2]attribute.KeyValue
	sevText string // level.String()
}

// sensitivity caches which parameters a policy masks.
type sensitivity struct {
	policy *mask.Policy
	params []bool
}

// Type returns the event type, e.g. "auth.login_failed". It is the
// EventName of the event's records.
func (e *Event) Type() string { return e.typ }

// Level returns the level the event was defined with.
func (e *Event) Level() Level { return e.level }

// Template returns the message template as it was defined.
func (e *Event) Template() string { return e.tmpl.raw }

// Params returns the names of the template's placeholders, each once, in
// order of first use.
func (e *Event) Params() []string { return append([]string(nil), e.tmpl.params...) }

// Registry returns the registry the event was defined in.
func (e *Event) Registry() *Registry { return e.reg }

// Emit emits one record of the event through its registry's logger: the
// template rendered with attrs as the body, one attribute per template
// parameter, the attributes in attrs that are not parameters, and the
// request information and extras carried by ctx. A record is emitted even
// when parameters are missing; see the package documentation for the
// record's fields.
//
// Emit returns nil, without waiting, unless the event is [Required]: then
// it waits until the record is durably stored and returns an error
// resolving to [ErrUnavailable] (and wrapping [ErrNotStored])
// when it was not within the registry's required timeout.
func (e *Event) Emit(ctx context.Context, attrs ...attribute.KeyValue) error {
	return e.reg.emit(ctx, e, attrs)
}

// sensitivity returns which parameters p masks. The answer for the
// policy of the event's own registry is computed once and kept; for another
// policy (the event emitted by name through a child registry with its own
// WithMask) it is computed into buf.
func (e *Event) sensitivity(p *mask.Policy, buf []bool) []bool {
	if s := e.sens.Load(); s != nil && s.policy == p {
		return s.params
	}
	if p != e.reg.maskPolicy() {
		for _, name := range e.tmpl.params {
			buf = append(buf, p.Sensitive(name))
		}
		return buf
	}
	s := &sensitivity{policy: p, params: make([]bool, len(e.tmpl.params))}
	for i, name := range e.tmpl.params {
		s.params[i] = p.Sensitive(name)
	}
	e.sens.Store(s)
	return s.params
}

// keySensitivity caches which keys of the attributes that are not
// parameters a policy masks: an event is emitted with the same few keys
// again and again.
type keySensitivity struct {
	policy *mask.Policy
	keys   []string
	sens   []bool
}

// maxCachedKeys bounds the keys an event caches the sensitivity of.
const maxCachedKeys = 8

// keySensitive reports whether p masks values under key, as
// p.Sensitive(key) does, keeping the answer for the event's first
// maxCachedKeys keys.
func (e *Event) keySensitive(p *mask.Policy, key string) bool {
	c := e.keys.Load()
	if c != nil && c.policy == p {
		for i, k := range c.keys {
			if k == key {
				return c.sens[i]
			}
		}
	}
	sens := p.Sensitive(key)
	if c == nil || c.policy != p {
		c = &keySensitivity{policy: p}
	}
	if len(c.keys) < maxCachedKeys && p == e.reg.maskPolicy() {
		e.keys.Store(&keySensitivity{
			policy: p,
			keys:   append(c.keys[:len(c.keys):len(c.keys)], key),
			sens:   append(c.sens[:len(c.sens):len(c.sens)], sens),
		})
	}
	return sens
}

// maskAttr masks *kv by p, as p.Attr does: its value becomes [mask.Mask]
// when its key is sensitive; a short plain string is kept without being
// scanned.
func (e *Event) maskAttr(p *mask.Policy, kv *attribute.KeyValue) {
	if p == nil {
		return
	}
	if e.keySensitive(p, string(kv.Key)) {
		kv.Value = attribute.StringValue(mask.Mask)
		return
	}
	if kv.Value.Type() == attribute.STRING && plain.Short(kv.Value.AsString()) {
		return
	}
	if v, changed := p.AttrValue(kv.Value); changed {
		kv.Value = v
	}
}
