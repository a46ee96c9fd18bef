package auditx

import (
	"context"
	"strconv"
	"strings"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/log"

	"github.com/otelkit/otelkit/internal/reqctx"
	"github.com/otelkit/otelkit/mask"
)

// Attribute keys auditx adds to every record. Attributes with these keys
// given to Emit are ignored.
const (
	KeyTemplate     = "audit.template"     // the raw template
	KeyRecordID     = "audit.record_id"    // unique per record
	KeyMissing      = "audit.missing"      // string slice: parameters without a value
	KeyUnregistered = "audit.unregistered" // true for a type that is not defined
)

// Attribute keys of the request information carried by the context.
const (
	keyRoute  = "http.route"
	keyMethod = "http.request.method"
	keyClient = "client.address"
	keyUserID = "user.id"
)

// paramUser is the placeholder filled from the request's user id.
const paramUser = "user"

// Sizes of the on-stack buffers of the hot path; larger records spill to
// the heap.
const (
	stackParams = 8
	stackAttrs  = 16
	stackBody   = 256
)

type paramSource uint8

const (
	srcMissing paramSource = iota
	srcCaller              // from the attributes given to Emit
	srcContext             // from the request info or extras of ctx
	srcUser                // {user} from the request's user id
)

// emit renders and emits one record of e through r.
func (r *Registry) emit(ctx context.Context, e *Event, attrs []attribute.KeyValue) {
	if ctx == nil {
		ctx = context.Background()
	}
	logger := r.loggerFor()
	sev := e.level.Severity()
	if !logger.Enabled(ctx, log.EnabledParameters{Severity: sev, EventName: e.typ}) {
		return
	}
	policy := r.maskPolicy()
	sens := e.sensitivity(policy)

	var cbuf [stackParams]attribute.KeyValue
	cattrs, userID := appendContextAttrs(cbuf[:0], ctx, policy)

	// Resolve each parameter: the caller's attribute (the last one with the
	// name), then the context's, then {user} from the request's user id.
	params := e.tmpl.params
	var (
		vbuf [stackParams]attribute.Value
		sbuf [stackParams]paramSource
		vals []attribute.Value
		srcs []paramSource
	)
	if len(params) <= stackParams {
		vals, srcs = vbuf[:len(params)], sbuf[:len(params)]
	} else {
		vals, srcs = make([]attribute.Value, len(params)), make([]paramSource, len(params))
	}
	nMissing := 0
	for i, name := range params {
		if j := lastIndex(attrs, name); j >= 0 {
			vals[i], srcs[i] = attrs[j].Value, srcCaller
		} else if j := lastIndex(cattrs, name); j >= 0 {
			vals[i], srcs[i] = cattrs[j].Value, srcContext
		} else if name == paramUser && userID != "" {
			vals[i], srcs[i] = attribute.StringValue(userID), srcUser
		} else {
			nMissing++
		}
	}

	// Render the body and the record id into one buffer: one allocation.
	var bbuf [stackBody]byte
	b := bbuf[:0]
	for _, s := range e.tmpl.segs {
		switch {
		case s.param < 0:
			b = append(b, s.lit...)
		case srcs[s.param] == srcMissing:
			b = append(b, "<missing "...)
			b = append(b, params[s.param]...)
			b = append(b, '>')
		case sens[s.param]:
			b = append(b, mask.Mask...)
		default:
			b = appendValue(b, vals[s.param])
		}
	}
	bodyLen := len(b)
	b = appendRecordID(b)
	text := string(b)

	var obuf [stackAttrs]attribute.KeyValue
	out := obuf[:0]
	for i, name := range params {
		switch {
		case srcs[i] != srcCaller && srcs[i] != srcUser:
			// Missing, or carried by the context attributes below.
		case sens[i]:
			out = append(out, attribute.String(name, mask.Mask))
		default:
			out = append(out, attribute.KeyValue{Key: attribute.Key(name), Value: vals[i]})
		}
	}
	for _, kv := range attrs {
		if reserved(kv.Key) || isParam(params, kv.Key) {
			continue
		}
		out = append(out, policy.Attr(kv))
	}
	out = append(out,
		attribute.String(KeyTemplate, e.tmpl.raw),
		attribute.String(KeyRecordID, text[bodyLen:]))
	var missing []string
	if nMissing > 0 {
		missing = make([]string, 0, nMissing)
		for i, name := range params {
			if srcs[i] == srcMissing {
				missing = append(missing, name)
			}
		}
		out = append(out, attribute.StringSlice(KeyMissing, missing))
	}
	for _, kv := range cattrs {
		if lastIndex(attrs, string(kv.Key)) < 0 {
			out = append(out, kv)
		}
	}

	var rec log.Record
	rec.SetEventName(e.typ)
	rec.SetTimestamp(time.Now())
	rec.SetSeverity(sev)
	rec.SetSeverityText(e.level.String())
	rec.SetBody(attribute.StringValue(text[:bodyLen]))
	rec.AddAttributes(out...)
	logger.Emit(ctx, rec)

	if missing != nil {
		r.handle(&MissingParamsError{Type: e.typ, Params: missing})
	}
}

// emitUnregistered emits a record for a type that is not defined: at
// LevelWarn, marked audit.unregistered=true, with the body
// `<type> key=value ...` (values quoted as Go strings when they are text).
func (r *Registry) emitUnregistered(ctx context.Context, typ string, attrs []attribute.KeyValue) {
	if ctx == nil {
		ctx = context.Background()
	}
	logger := r.loggerFor()
	const level = LevelWarn
	if logger.Enabled(ctx, log.EnabledParameters{Severity: level.Severity(), EventName: typ}) {
		policy := r.maskPolicy()
		cattrs, _ := appendContextAttrs(nil, ctx, policy)

		b := appendEscaped(make([]byte, 0, stackBody), typ)
		out := make([]attribute.KeyValue, 0, len(attrs)+len(cattrs)+2)
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
		for _, kv := range cattrs {
			if lastIndex(attrs, string(kv.Key)) < 0 {
				out = append(out, kv)
			}
		}

		var rec log.Record
		rec.SetEventName(typ)
		rec.SetTimestamp(time.Now())
		rec.SetSeverity(level.Severity())
		rec.SetSeverityText(level.String())
		rec.SetBody(attribute.StringValue(text[:bodyLen]))
		rec.AddAttributes(out...)
		logger.Emit(ctx, rec)
	}
	r.handle(&UnregisteredError{Type: typ})
}

// appendContextAttrs appends the request information and the (masked)
// extras carried by ctx to dst, and returns the request's user id.
func appendContextAttrs(dst []attribute.KeyValue, ctx context.Context, policy *mask.Policy) ([]attribute.KeyValue, string) {
	info, ok := reqctx.FromContext(ctx)
	if ok {
		if info.Route != "" {
			dst = append(dst, attribute.String(keyRoute, info.Route))
		}
		if info.Method != "" {
			dst = append(dst, attribute.String(keyMethod, info.Method))
		}
		if info.ClientAddress != "" {
			dst = append(dst, attribute.String(keyClient, info.ClientAddress))
		}
		if info.UserID != "" {
			dst = append(dst, attribute.String(keyUserID, info.UserID))
		}
	}
	for _, kv := range reqctx.Extras(ctx) {
		if !reserved(kv.Key) && lastIndex(dst, string(kv.Key)) < 0 {
			dst = append(dst, policy.Attr(kv))
		}
	}
	return dst, info.UserID
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

// reserved reports whether key is one that auditx sets itself.
func reserved(key attribute.Key) bool {
	if !strings.HasPrefix(string(key), "audit.") {
		return false
	}
	switch key {
	case KeyTemplate, KeyRecordID, KeyMissing, KeyUnregistered:
		return true
	}
	return false
}
