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
	src uint8 // one of the src constants
	at  int32 // index in the attributes (srcPlain, srcValue)
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

// emit renders and emits one record of e through r.
func (r *Registry) emit(ctx context.Context, e *Event, attrs []attribute.KeyValue) error {
	if ctx == nil {
		ctx = context.Background()
	}
	logger := r.loggerFor(ctx)
	sev := e.level.Severity()
	// No logger.Enabled pre-check: audits are meant to be always on, so it
	// would cost every record (about 5%) to save work only in a
	// misconfiguration; the SDK's processors still decide in Emit.
	policy := r.maskPolicy()
	var sbuf [stackParams]bool
	sens := e.sensitivity(policy, sbuf[:0])
	var rc requestContext
	rc.read(ctx)

	// Resolve each parameter, in order: the caller's attribute (the last
	// one with the name), then the context's, then {user} from the
	// request's user id. The parameters' attributes go to out, masked: a
	// value that is not sensitive by its parameter's name may still hold
	// secrets (a map's inner keys, a password=… in a string). A short plain
	// string (plain.Short) is one that masking leaves as it is under every
	// policy and that needs no escaping: it is neither scanned nor escaped.
	params := e.tmpl.params
	var pbuf [stackParams]param
	ps := pbuf[:]
	if len(params) > stackParams {
		ps = make([]param, len(params))
	}
	var obuf [stackAttrs]attribute.KeyValue
	out := obuf[:0]
	var used uint64 // bit j: attrs[j] is a parameter's value (j < 64)
	nMissing, nFromAttrs := 0, 0
	for i, name := range params {
		p := &ps[i]
		switch j := lastIndex(attrs, name); {
		case j >= 0:
			nFromAttrs++
			if j < 64 {
				used |= 1 << j
			}
			p.at = int32(len(out))
			out = append(out, attrs[j]) // its key is name
			kv := &out[len(out)-1]
			switch {
			case sens[i]:
				p.src = srcSensitive
				kv.Value = attribute.StringValue(mask.Mask)
			case kv.Value.Type() == attribute.STRING && plain.Short(kv.Value.AsString()):
				p.src = srcPlain
			default:
				p.src = srcValue
				kv.Value, _ = policy.AttrValue(kv.Value)
			}
		case rc.has(name):
			p.src = srcContext
		case name == paramUser && rc.info.UserID != "":
			p.src = srcUser
			v := rc.info.UserID
			if sens[i] {
				p.src = srcSensitive
				v = mask.Mask
			}
			out = append(out, attribute.String(name, v))
		default:
			p.src = srcMissing
			nMissing++
		}
	}

	// Render the body and the record id into one buffer: one allocation.
	var bbuf [stackBody]byte
	b := bbuf[:0]
	for _, s := range e.tmpl.steps {
		b = append(b, s.lit...)
		if s.param < 0 {
			break // the last literal
		}
		switch p := ps[s.param]; p.src {
		case srcPlain:
			b = append(b, out[p.at].Value.AsString()...)
		case srcValue:
			b = appendValue(b, out[p.at].Value)
		case srcSensitive:
			b = append(b, mask.Mask...)
		case srcUser:
			b = appendEscaped(b, rc.info.UserID)
		case srcContext:
			if sens[s.param] {
				b = append(b, mask.Mask...)
			} else {
				b = appendValue(b, rc.value(params[s.param], policy))
			}
		default:
			b = append(b, "<missing "...)
			b = append(b, params[s.param]...)
			b = append(b, '>')
		}
	}
	bodyLen := len(b)
	b = appendRecordID(b)
	text := string(b)

	if nFromAttrs < len(attrs) { // some attributes are not parameters
		for j := range attrs {
			if j < 64 && used&(1<<j) != 0 {
				continue
			}
			if k := attrs[j].Key; reserved(k) || isParam(params, k) {
				continue
			}
			out = append(out, attrs[j])
			e.maskAttr(policy, &out[len(out)-1])
		}
	}
	out = append(out, e.tmplAttr, attribute.String(KeyRecordID, text[bodyLen:]))
	var missing []string
	if nMissing > 0 {
		missing = make([]string, 0, nMissing)
		for i, name := range params {
			if ps[i].src == srcMissing {
				missing = append(missing, name)
			}
		}
		out = append(out, attribute.StringSlice(KeyMissing, missing))
	}
	out = rc.appendAttrs(out, attrs, policy)

	var rec log.Record
	rec.SetEventName(e.typ)
	rec.SetTimestamp(time.Now())
	rec.SetSeverity(sev)
	rec.SetSeverityText(e.sevText)
	rec.SetBody(attribute.StringValue(text[:bodyLen]))
	rec.AddAttributes(out...)
	if e.required || r.required {
		rctx, w := requiredContext(ctx)
		logger.Emit(rctx, rec)
		if missing != nil {
			r.handle(&MissingParamsError{Type: e.typ, Params: missing})
		}
		return r.await(e.typ, w)
	}
	logger.Emit(ctx, rec)

	if missing != nil {
		r.handle(&MissingParamsError{Type: e.typ, Params: missing})
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
		for i, kv := range [...]attribute.KeyValue{
			attribute.String(keyRoute, c.info.Route),
			attribute.String(keyMethod, c.info.Method),
			attribute.String(keyClient, c.info.ClientAddress),
			attribute.String(keyUserID, c.info.UserID),
			attribute.String(keyRPCSystem, c.info.RPCSystem),
			attribute.String(keyRPCMethod, c.info.RPCMethod),
		} {
			if kv.Value.AsString() == "" || lastIndex(attrs, string(kv.Key)) >= 0 {
				continue
			}
			if sens[i] {
				kv.Value = attribute.StringValue(mask.Mask)
			}
			dst = append(dst, kv)
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
