package auditx

import (
	"context"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/log"

	"github.com/otelkit/otelkit/internal/durable"
	"github.com/otelkit/otelkit/internal/plain"
	"github.com/otelkit/otelkit/internal/reqctx"
	"github.com/otelkit/otelkit/mask"
)

// Attribute keys auditx adds to every record. Attributes with these keys
// given to Emit are ignored.
const (
	KeyTemplate     = "otelkit.audit.template"     // the raw template
	KeyRecordID     = "otelkit.audit.record_id"    // unique per record
	KeyMissing      = "otelkit.audit.missing"      // string slice: parameters without a value
	KeyUnregistered = "otelkit.audit.unregistered" // true for a type that is not defined
)

// Attribute keys of the request information carried by the context: an
// HTTP request's (httpx) or a server RPC's (grpcx, connectx).
const (
	keyRoute     = "http.route"
	keyMethod    = "http.request.method"
	keyClient    = "client.address"
	keyUserID    = "user.id"
	keyRPCSystem = "rpc.system.name"
	keyRPCMethod = "rpc.method"
)

// paramUser is the placeholder filled from the request's user id.
const paramUser = "user"

// Sizes of the on-stack buffers of the hot path; larger records spill to
// the heap.
const (
	stackParams = 8
	stackAttrs  = 12
	stackBody   = 256
)

// param is where a parameter's value comes from and, for a value in the
// record's attributes, its index there.
type param struct {
	src   uint8  // one of the src constants
	at    int32  // index in the attributes (srcPlain, srcValue)
	plain string // the value (srcPlain), rendered as it is
}

// Sources of a parameter's value.
const (
	srcMissing   = iota // nowhere
	srcPlain            // the caller's, a short plain string, as it is
	srcValue            // the caller's, masked by the policy
	srcSensitive        // the caller's or the user id, under a sensitive name
	srcContext          // a request attribute or extra of the same name
	srcUser             // {user} from the request's user id
)

// emission is what [Registry.emit] knows about the parameters of the
// record it builds, on the emitting goroutine's stack. The common case, a
// record whose parameters the caller gave, follows the event's plan for
// the keys given (plan.go); the general path and the rare cases (a
// parameter from the context or missing, a value to mask or escape) are
// methods of emission, out of line, so that the code of the common case
// stays small and straight: an audit record shares the instruction cache
// with the SDK code that emits it.
//
// Its slices may point to emit's stack buffers and to the caller's
// attributes. Escape analysis does not tell one field of a struct from
// another, so nothing that may end up on the heap is a field: the
// policy, the request context and the record's attributes (out) are
// passed beside it.
type emission struct {
	params []string             // the template's parameters
	attrs  []attribute.KeyValue // as given to Emit
	sens   []bool               // sens[i]: params[i] is masked by its name (general path)
	ps     []param              // where each parameter's value comes from
	used   uint64               // bit j: attrs[j] is a parameter's value, j < 64 (general path)

	nFromAttrs int // parameters given in attrs (general path)
	nMissing   int // parameters without a value
}

// emit renders and emits one record of e through r.
func (r *Registry) emit(ctx context.Context, e *Event, attrs []attribute.KeyValue) error {
	if ctx == nil {
		ctx = context.Background()
	}
	logger := r.loggerFor(ctx)
	// No logger.Enabled pre-check: audits are meant to be always on, so it
	// would cost every record (about 5%) to save work only in a
	// misconfiguration; the SDK's processors still decide in Emit.
	policy := r.maskPolicy()
	var (
		m    emission
		rc   requestContext
		sbuf [stackParams]bool
		pbuf [stackParams]param
		obuf [stackAttrs]attribute.KeyValue
		bbuf [stackBody]byte
	)
	m.params, m.attrs = e.tmpl.params, attrs
	m.ps = pbuf[:]
	if len(m.params) > stackParams {
		m.ps = make([]param, len(m.params))
	}
	rc.read(ctx)

	// The record's attributes: the parameters', masked, then the caller's
	// other attributes, masked (as the event's plan for these keys says, or
	// by the general path), then the template and the record id, whose
	// value is set once the id is made.
	out := obuf[:0]
	if pl := e.planFor(policy, attrs); pl != nil {
		out = m.follow(pl, policy, out)
	} else {
		m.sens = e.sensitivity(policy, sbuf[:0])
		out = m.resolve(&rc, policy, out)
		if m.nFromAttrs < len(attrs) { // some attributes are not parameters
			out = m.appendOthers(e, policy, out)
		}
	}
	out = append(out, e.tail[:]...)

	// Render the body and the record id into one buffer: one allocation.
	b := bbuf[:0]
	for _, s := range e.tmpl.steps {
		b = append(b, s.lit...)
		if s.param < 0 {
			break // the last literal
		}
		if p := &m.ps[s.param]; p.src == srcPlain {
			b = append(b, p.plain...)
		} else {
			b = m.appendParam(b, s.param, &rc, policy, out)
		}
	}
	bodyLen := len(b)
	b = appendRecordID(b)
	text := string(b)

	// The record; after the attributes above come the missing parameters'
	// names and the context's attributes, when there are any.
	var rec log.Record
	rec.SetEventName(e.typ)
	rec.SetTimestamp(time.Now())
	rec.SetSeverity(e.level.Severity())
	rec.SetSeverityText(e.sevText)
	rec.SetBody(attribute.StringValue(text[:bodyLen]))
	out[len(out)-1].Value = attribute.StringValue(text[bodyLen:])
	rec.AddAttributes(out...)
	var missing []string
	if m.nMissing > 0 || rc.inReq || len(rc.extras) > 0 {
		missing = m.addMissingAndContext(&rec, &rc, policy, out[len(out):])
	}
	if e.required || r.required || missing != nil {
		return r.emitRequiredOrIncomplete(ctx, logger, e, &rec, missing)
	}
	logger.Emit(ctx, rec)
	return nil
}

// take appends attrs[j], the value of parameter i, to out. A short plain
// string (plain.Short) is one that masking leaves as it is under every
// policy and that needs no escaping: it is neither scanned nor escaped;
// any other value is masked by maskParam.
func (m *emission) take(i, j int, policy *mask.Policy, out []attribute.KeyValue) []attribute.KeyValue {
	m.nFromAttrs++
	if j < 64 {
		m.used |= 1 << j
	}
	m.ps[i] = param{src: srcPlain, at: int32(len(out))}
	out = append(out, m.attrs[j]) // its key is params[i]
	kv := &out[len(out)-1]
	if !m.sens[i] && kv.Value.Type() == attribute.STRING {
		if s := kv.Value.AsString(); plain.Short(s) {
			m.ps[i].plain = s
			return out
		}
	}
	m.maskParam(i, policy, kv)
	return out
}

// maskParam masks *kv, the value the caller gave for parameter i: all of
// it under a sensitive name, else what the policy finds in it (a value
// that is not sensitive by its name may still hold secrets: a map's inner
// keys, a password=… in a string).
func (m *emission) maskParam(i int, policy *mask.Policy, kv *attribute.KeyValue) {
	if m.sens[i] {
		m.ps[i].src = srcSensitive
		kv.Value = attribute.StringValue(mask.Mask)
		return
	}
	m.ps[i].src = srcValue
	kv.Value, _ = policy.AttrValue(kv.Value)
}

// resolve resolves each parameter, in order: from the caller's attribute
// (the last one with the name), else the context's, else {user} from the
// request's user id, else it is missing; the attributes of those with a
// value go to out.
func (m *emission) resolve(rc *requestContext, policy *mask.Policy, out []attribute.KeyValue) []attribute.KeyValue {
	for i, name := range m.params {
		switch j := lastIndex(m.attrs, name); {
		case j >= 0:
			out = m.take(i, j, policy, out)
		case rc.has(name):
			m.ps[i].src = srcContext
		case name == paramUser && rc.info.UserID != "":
			m.ps[i].src = srcUser
			v := rc.info.UserID
			if m.sens[i] {
				m.ps[i].src = srcSensitive
				v = mask.Mask
			}
			out = append(out, attribute.String(name, v))
		default:
			m.ps[i].src = srcMissing
			m.nMissing++
		}
	}
	return out
}

// appendParam appends to b the rendered value of parameter i when it is
// not a short plain string the caller gave: escaped, masked, from the
// context, or "<missing name>"; out holds the parameters' attributes.
func (m *emission) appendParam(b []byte, i int, rc *requestContext, policy *mask.Policy, out []attribute.KeyValue) []byte {
	switch p := m.ps[i]; p.src {
	case srcPlain:
		return append(b, p.plain...)
	case srcValue:
		return appendValue(b, out[p.at].Value)
	case srcSensitive:
		return append(b, mask.Mask...)
	case srcUser:
		return appendEscaped(b, rc.info.UserID)
	case srcContext:
		if m.sens[i] {
			return append(b, mask.Mask...)
		}
		return appendValue(b, rc.value(m.params[i], policy))
	}
	b = append(b, "<missing "...)
	b = append(b, m.params[i]...)
	return append(b, '>')
}

// appendOthers appends to out the caller's attributes that are not
// parameters, masked, leaving out the reserved keys.
func (m *emission) appendOthers(e *Event, policy *mask.Policy, out []attribute.KeyValue) []attribute.KeyValue {
	for j := range m.attrs {
		if j < 64 && m.used&(1<<j) != 0 {
			continue
		}
		if k := m.attrs[j].Key; reserved(k) || isParam(m.params, k) {
			continue
		}
		out = append(out, m.attrs[j])
		e.maskAttr(policy, &out[len(out)-1])
	}
	return out
}

// addMissingAndContext adds to rec otelkit.audit.missing, the names of the
// parameters without a value (which it returns), then the request
// attributes and extras rc holds, through buf.
func (m *emission) addMissingAndContext(rec *log.Record, rc *requestContext, policy *mask.Policy, buf []attribute.KeyValue) []string {
	var missing []string
	if m.nMissing > 0 {
		missing = make([]string, 0, m.nMissing)
		for i, name := range m.params {
			if m.ps[i].src == srcMissing {
				missing = append(missing, name)
			}
		}
		buf = append(buf, attribute.StringSlice(KeyMissing, missing))
	}
	buf = rc.appendAttrs(buf, m.attrs, policy)
	rec.AddAttributes(buf...)
	return missing
}

// emitRequiredOrIncomplete emits rec for the records that need more than
// logger.Emit: of a required event (it waits until the record is durably
// stored) or with missing parameters (reported to the error handler once
// the record is emitted).
func (r *Registry) emitRequiredOrIncomplete(ctx context.Context, logger log.Logger, e *Event, rec *log.Record, missing []string) error {
	var w *durable.Waiter
	if e.required || r.required {
		ctx, w = requiredContext(ctx)
	}
	logger.Emit(ctx, *rec)
	if missing != nil {
		r.handle(&MissingParamsError{Type: e.typ, Params: missing})
	}
	if w != nil {
		return r.await(e.typ, w)
	}
	return nil
}

// emitUnregistered emits a record for a type that is not defined: at
// LevelWarn, marked otelkit.audit.unregistered=true, with the body
// `<type> key=value ...` (values quoted as Go strings when they are text).
func (r *Registry) emitUnregistered(ctx context.Context, typ string, attrs []attribute.KeyValue) error {
	if ctx == nil {
		ctx = context.Background()
	}
	logger := r.loggerFor(ctx)
	const level = LevelWarn
	var err error
	if logger.Enabled(ctx, log.EnabledParameters{Severity: level.Severity(), EventName: typ}) {
		policy := r.maskPolicy()
		var rc requestContext
		rc.read(ctx)

		b := appendEscaped(make([]byte, 0, stackBody), typ)
		out := make([]attribute.KeyValue, 0, len(attrs)+len(rc.extras)+6)
		for _, kv := range attrs {
			if reserved(kv.Key) {
				continue
			}
			kv = policy.Attr(kv)
			out = append(out, kv)
			b = append(b, ' ')
			b = appendEscaped(b, string(kv.Key))
			b = append(b, '=')
			switch kv.Value.Type() {
			case attribute.BOOL, attribute.INT64, attribute.FLOAT64:
				b = appendValue(b, kv.Value)
			default:
				b = strconv.AppendQuote(b, kv.Value.String())
			}
		}
		bodyLen := len(b)
		b = appendRecordID(b)
		text := string(b)
		out = append(out,
			attribute.Bool(KeyUnregistered, true),
			attribute.String(KeyRecordID, text[bodyLen:]))
		out = rc.appendAttrs(out, attrs, policy)

		var rec log.Record
		rec.SetEventName(typ)
		rec.SetTimestamp(time.Now())
		rec.SetSeverity(level.Severity())
		rec.SetSeverityText(level.String())
		rec.SetBody(attribute.StringValue(text[:bodyLen]))
		rec.AddAttributes(out...)
		if r.required {
			rctx, w := requiredContext(ctx)
			logger.Emit(rctx, rec)
			err = r.await(typ, w)
		} else {
			logger.Emit(ctx, rec)
		}
	} else if r.required {
		err = r.await(typ, durable.NewWaiter()) // nobody took it
	}
	r.handle(&UnregisteredError{Type: typ})
	return err
}

// requestContext is what a context tells about the request it belongs to.
type requestContext struct {
	info   reqctx.Info
	inReq  bool
	extras []attribute.KeyValue
}

// read fills c from ctx.
func (c *requestContext) read(ctx context.Context) {
	if src, _ := ctx.Value(reqctx.SourceKey).(reqctx.Source); src != nil {
		c.info, c.inReq = src.RequestInfo(), true
	}
	c.extras = reqctx.Extras(ctx)
}

// request returns the value of a request attribute, or "" when key is not
// one or the request does not have it.
func (c *requestContext) request(key string) string {
	if !c.inReq {
		return ""
	}
	switch key {
	case keyRoute:
		return c.info.Route
	case keyMethod:
		return c.info.Method
	case keyClient:
		return c.info.ClientAddress
	case keyUserID:
		return c.info.UserID
	case keyRPCSystem:
		return c.info.RPCSystem
	case keyRPCMethod:
		return c.info.RPCMethod
	}
	return ""
}

// has reports whether the context has a request attribute or an extra
// named key.
func (c *requestContext) has(key string) bool {
	return c.request(key) != "" || lastIndex(c.extras, key) >= 0
}

// value returns the context's value for key, masked by policy; the request
// attributes win over extras of the same name.
func (c *requestContext) value(key string, policy *mask.Policy) attribute.Value {
	if v := c.request(key); v != "" {
		return attribute.StringValue(policy.String(key, v))
	}
	if j := lastIndex(c.extras, key); j >= 0 {
		return policy.Attr(c.extras[j]).Value
	}
	return attribute.Value{}
}

// appendAttrs appends the request attributes and the masked extras to dst,
// leaving out those the caller gave in attrs and extras named like a
// request attribute the request has.
func (c *requestContext) appendAttrs(dst, attrs []attribute.KeyValue, policy *mask.Policy) []attribute.KeyValue {
	if c.inReq {
		sens := requestSensitivity(policy)
		values := [len(requestKeys)]string{c.info.Route, c.info.Method, c.info.ClientAddress,
			c.info.UserID, c.info.RPCSystem, c.info.RPCMethod}
		for i, v := range values {
			if v == "" || lastIndex(attrs, requestKeys[i]) >= 0 {
				continue
			}
			if sens[i] {
				v = mask.Mask
			}
			dst = append(dst, attribute.String(requestKeys[i], v))
		}
	}
	for _, kv := range c.extras {
		if reserved(kv.Key) || c.request(string(kv.Key)) != "" || lastIndex(attrs, string(kv.Key)) >= 0 {
			continue
		}
		dst = append(dst, policy.Attr(kv))
	}
	return dst
}

// requestKeys are the keys of the request attributes, in the order
// appendAttrs writes them.
var requestKeys = [...]string{keyRoute, keyMethod, keyClient, keyUserID, keyRPCSystem, keyRPCMethod}

// requestSens caches which request attributes a policy masks; they are
// masked nowhere under the default policy, but a policy may say otherwise.
var requestSens atomic.Pointer[requestSensitivityCache]

type requestSensitivityCache struct {
	policy *mask.Policy
	sens   [len(requestKeys)]bool
}

func requestSensitivity(p *mask.Policy) *[len(requestKeys)]bool {
	if c := requestSens.Load(); c != nil && c.policy == p {
		return &c.sens
	}
	c := &requestSensitivityCache{policy: p}
	for i, k := range requestKeys {
		c.sens[i] = p.Sensitive(k)
	}
	requestSens.Store(c)
	return &c.sens
}

// lastIndex returns the index of the last attribute with key, or -1.
func lastIndex(attrs []attribute.KeyValue, key string) int {
	for i := len(attrs) - 1; i >= 0; i-- {
		if string(attrs[i].Key) == key {
			return i
		}
	}
	return -1
}

// isParam reports whether key names one of params.
func isParam(params []string, key attribute.Key) bool {
	for _, p := range params {
		if p == string(key) {
			return true
		}
	}
	return false
}

// reserved reports whether key is one that auditx sets itself: every key
// under otelkit.audit. is the kit's.
func reserved(key attribute.Key) bool {
	return strings.HasPrefix(string(key), "otelkit.audit.")
}
