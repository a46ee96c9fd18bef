// Package record turns a resolved error into telemetry: the attributes,
// status and exception event on the current span, the error.type label on
// otelhttp's request metrics, and an OpenTelemetry log record named
// "exception". It uses only the OpenTelemetry API, so httpx (which must not
// import the SDK) and otelbridge share it.
package record

import (
	"context"
	"encoding/hex"
	"fmt"
	"hash/fnv"
	"reflect"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	otellog "go.opentelemetry.io/otel/log"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"

	"github.com/otelkit/otelkit/errorsx"
	"github.com/otelkit/otelkit/internal/reqctx"
	"github.com/otelkit/otelkit/mask"
)

// ScopeName is the instrumentation scope of exception log records.
const ScopeName = "github.com/otelkit/otelkit/otelbridge"

// Attribute keys otelkit adds beside the semantic conventions.
const (
	KeyErrorID     = attribute.Key("error.id")
	KeyFingerprint = attribute.Key("error.fingerprint")
	KeyCaptureKind = attribute.Key("otelkit.capture.kind")
	KeyInfoPrefix  = "error.info."
)

// Kinds of captured records.
const (
	KindError   = "error"
	KindMessage = "message"
	KindPanic   = "panic"
)

// Failure is one error to record.
type Failure struct {
	Err   error         // what happened (for a panic, an error made from the value)
	Match errorsx.Match // how the registry resolved it
	Kind  string        // KindError, KindMessage or KindPanic
	Stack string        // stack text; computed from the occurrence or here when empty and needed
	// Skip is the number of caller frames to skip when the stack must be
	// taken here: 0 starts at the caller of Span or Log.
	Skip int
	// Site is the entry PC of the function whose returned error this is
	// (an httpx.HandlerFunc), when the error was returned rather than
	// reported where it happened. Its frame heads a stack taken here, so
	// that stacks and fingerprints tell handlers apart.
	Site uintptr

	// memoised by message and typeName: Span and Log both need them.
	msg, typ  string
	msgPolicy *mask.Policy
	// Mask masks the error text written to the span event; nil means
	// mask.Default().
	Mask *mask.Policy
	// Captured marks a failure reported on purpose (otelbridge.Capture,
	// CaptureMessage, Track) rather than rendered as the request's answer:
	// it always carries a stack, and it does not label the request's
	// metrics with error.type (the request may well succeed).
	Captured bool
}

// Type returns the Go type of the innermost cause of err, as
// exception.type wants it.
// For a recovered panic whose value is not an error it is the value's type
// (a panic("boom") is a "string"), never otelkit's wrapper.
func Type(err error) string {
	if err == nil {
		return ""
	}
	in := Innermost(err)
	if pe, ok := in.(*PanicError); ok && pe.Value != nil {
		return reflect.TypeOf(pe.Value).String()
	}
	return reflect.TypeOf(in).String()
}

// Innermost follows Unwrap (the first branch of joined errors) to the
// deepest error.
func Innermost(err error) error {
	for i := 0; i < 100; i++ {
		var next error
		switch u := err.(type) {
		case interface{ Unwrap() error }:
			next = u.Unwrap()
		case interface{ Unwrap() []error }:
			if errs := u.Unwrap(); len(errs) > 0 {
				next = errs[0]
			}
		}
		if next == nil {
			return err
		}
		err = next
	}
	return err
}

// NeedsStack reports whether a failure's records carry a stack trace: 5xx,
// unregistered errors and panics.
func (f *Failure) NeedsStack() bool {
	return f.Captured || f.Kind == KindPanic || f.Match.Def.Status() >= 500
}

// stack returns the failure's stack text, computing it once.
func (f *Failure) stack() string {
	if f.Stack != "" || !f.NeedsStack() {
		return f.Stack
	}
	if occ := f.Match.Occurrence; occ != nil && len(occ.Stack()) > 0 {
		f.Stack = FormatStack(occ.Stack())
		return f.Stack
	}
	var pcs [33]uintptr
	n := 0
	if f.Site != 0 {
		pcs[0] = f.Site + 1 // CallersFrames takes return addresses
		n = 1
	}
	n += runtime.Callers(f.Skip+3, pcs[n:])
	f.Stack = FormatStack(pcs[:n])
	return f.Stack
}

// stackCache maps a hash of program counters to the formatted stack, so the
// same failure site pays for symbolization once. It holds at most
// maxCachedStacks entries; past that, stacks are formatted every time.
var (
	stackCache  sync.Map // uint64 -> *cachedStack
	stackCached atomic.Int32
)

const maxCachedStacks = 1024

type cachedStack struct {
	pcs  []uintptr
	text string
}

// FormatStack renders program counters in the format of a Go panic.
func FormatStack(pcs []uintptr) string {
	h := uint64(14695981039346656037)
	for _, pc := range pcs {
		h ^= uint64(pc)
		h *= 1099511628211
	}
	if v, ok := stackCache.Load(h); ok {
		if c := v.(*cachedStack); slices.Equal(c.pcs, pcs) {
			return c.text
		}
	}
	text := formatStack(pcs)
	if stackCached.Load() < maxCachedStacks {
		if _, loaded := stackCache.LoadOrStore(h, &cachedStack{pcs: slices.Clone(pcs), text: text}); !loaded {
			stackCached.Add(1)
		}
	}
	return text
}

func formatStack(pcs []uintptr) string {
	var b strings.Builder
	frames := runtime.CallersFrames(pcs)
	for {
		fr, more := frames.Next()
		if fr.Function != "" {
			b.WriteString(fr.Function)
			b.WriteString("()\n\t")
			b.WriteString(fr.File)
			b.WriteByte(':')
			b.WriteString(strconv.Itoa(fr.Line))
			b.WriteByte('\n')
		}
		if !more {
			break
		}
	}
	return b.String()
}

// Fingerprint groups occurrences of the same failure: the registered id, or
// for unregistered errors the innermost cause's type plus the top three
// frames of its stack.
func (f *Failure) Fingerprint() string {
	if f.Kind == KindMessage {
		h := fnv.New64a()
		h.Write([]byte(f.Err.Error()))
		return "message:" + hex.EncodeToString(h.Sum(nil))
	}
	if f.Match.Registered() && f.Kind != KindPanic {
		return f.Match.Def.ID()
	}
	h := fnv.New64a()
	h.Write([]byte(Type(f.Err)))
	n := 0
	for _, l := range strings.Split(f.stack(), "\n") {
		if l == "" || strings.HasPrefix(l, "\t") || ownFrame(l) {
			continue
		}
		if i := strings.LastIndexByte(l, '('); i > 0 {
			l = l[:i] // drop arguments: their addresses differ between runs
		}
		h.Write([]byte{'|'})
		h.Write([]byte(l))
		if n++; n == 3 {
			break
		}
	}
	return f.Match.Def.ID() + ":" + hex.EncodeToString(h.Sum(nil))
}

// ownFrame reports whether a stack line is a frame of the runtime or of
// otelkit's own plumbing, which says nothing about where a failure began.
func ownFrame(l string) bool {
	for _, p := range []string{
		"runtime.", "runtime/debug.", "panic(", "goroutine ",
		"github.com/otelkit/otelkit/httpx.", "github.com/otelkit/otelkit/internal/",
		"github.com/otelkit/otelkit/otelbridge.", "github.com/otelkit/otelkit/errorsx.",
		"net/http.",
	} {
		if strings.HasPrefix(l, p) {
			return true
		}
	}
	return false
}

// PanicStack returns the stack of a panic being recovered, in the format of
// FormatStack, starting at the frame that panicked. Call it from the
// deferred function that recovers.
func PanicStack() string {
	var pcs [64]uintptr
	n := runtime.Callers(2, pcs[:])
	skip := 0
	for i, pc := range pcs[:n] {
		if fn := runtime.FuncForPC(pc - 1); fn != nil && fn.Name() == "runtime.gopanic" {
			skip = i + 1
		}
	}
	return FormatStack(pcs[skip:n])
}

// Span records f on the span in ctx and labels otelhttp's request metrics.
func Span(ctx context.Context, f *Failure) {
	def := f.Match.Def
	id := def.ID()
	if l, ok := otelhttp.LabelerFromContext(ctx); ok && !f.Captured {
		l.Add(semconv.ErrorTypeKey.String(id))
	}
	span := trace.SpanFromContext(ctx)
	if !span.IsRecording() {
		return
	}
	span.SetAttributes(semconv.ErrorTypeKey.String(id))
	server := def.Status() >= 500 || f.Kind == KindPanic
	if server {
		span.SetStatus(codes.Error, id)
	}
	p := f.Mask
	if p == nil {
		p = mask.Default()
	}
	var attrs [5]attribute.KeyValue
	kv := append(attrs[:0],
		semconv.ExceptionType(f.typeName()),
		semconv.ExceptionMessage(f.message(p)),
		KeyErrorID.String(id),
	)
	if server || f.Captured {
		kv = append(kv, semconv.ExceptionStacktrace(f.stack()))
	}
	span.AddEvent("exception", trace.WithAttributes(kv...))
}

// Log emits f as an "exception" log record through logger. extra are added
// after the standard attributes; info, extras and extra are masked with p.
func Log(ctx context.Context, logger otellog.Logger, p *mask.Policy, f *Failure, extra []attribute.KeyValue) {
	var rec otellog.Record
	rec.SetEventName("exception")
	rec.SetSeverity(otellog.SeverityError)
	rec.SetSeverityText("ERROR")
	if !logger.Enabled(ctx, otellog.EnabledParameters{Severity: otellog.SeverityError, EventName: "exception"}) {
		return
	}
	now := time.Now()
	rec.SetTimestamp(now)
	rec.SetObservedTimestamp(now)
	msg := f.message(p)
	rec.SetBody(attribute.StringValue(msg))
	def := f.Match.Def
	rec.AddAttributes(
		semconv.ExceptionType(f.typeName()),
		semconv.ExceptionMessage(msg),
		KeyFingerprint.String(f.Fingerprint()),
		KeyCaptureKind.String(f.Kind),
	)
	if st := f.stack(); st != "" {
		rec.AddAttributes(semconv.ExceptionStacktrace(st))
	}
	if f.Kind == KindMessage {
		// A message is not an error of the registry: no id, no status.
		rec.AddAttributes(KeyErrorID.String(KindMessage))
	} else {
		rec.AddAttributes(KeyErrorID.String(def.ID()), semconv.HTTPResponseStatusCode(def.Status()))
	}
	if f.Kind == KindPanic {
		rec.AddAttributes(attribute.Bool("exception.escaped", true))
	}
	if info, ok := reqctx.FromContext(ctx); ok {
		if info.Route != "" {
			rec.AddAttributes(semconv.HTTPRoute(info.Route))
		}
		if info.Method != "" {
			rec.AddAttributes(semconv.HTTPRequestMethodKey.String(info.Method))
		}
		if info.UserID != "" {
			rec.AddAttributes(semconv.UserID(info.UserID))
		}
	}
	if occ := f.Match.Occurrence; occ != nil {
		for _, fld := range occ.Info() {
			rec.AddAttributes(InfoAttr(p, fld))
		}
	}
	for _, kv := range reqctx.Extras(ctx) {
		rec.AddAttributes(p.Attr(kv))
	}
	for _, kv := range extra {
		rec.AddAttributes(p.Attr(kv))
	}
	logger.Emit(ctx, rec)
}

// InfoAttr converts one item of public info to an attribute under
// "error.info.<key>", masked with p: a sensitive key masks the value, and
// sensitive keys inside a map, slice or struct are masked in its JSON form.
func InfoAttr(p *mask.Policy, f errorsx.Field) attribute.KeyValue {
	key := KeyInfoPrefix + f.Key
	if p.Sensitive(f.Key) {
		return attribute.String(key, mask.Mask)
	}
	switch v := f.Value.(type) {
	case string:
		return attribute.String(key, v)
	case int:
		return attribute.Int(key, v)
	case int64:
		return attribute.Int64(key, v)
	case float64:
		return attribute.Float64(key, v)
	case bool:
		return attribute.Bool(key, v)
	case fmt.Stringer:
		return attribute.String(key, v.String())
	case nil:
		return attribute.String(key, "")
	}
	if b, err := p.JSON(f.Value); err == nil {
		return attribute.String(key, string(b))
	}
	return attribute.String(key, fmt.Sprint(f.Value))
}

// PanicError is the error a recovered panic becomes.
type PanicError struct {
	Value any
}

func (e *PanicError) Error() string {
	if err, ok := e.Value.(error); ok {
		return "panic: " + err.Error()
	}
	return fmt.Sprintf("panic: %v", e.Value)
}

// Unwrap returns the panic value when it is an error.
func (e *PanicError) Unwrap() error {
	err, _ := e.Value.(error)
	return err
}

// message returns the masked error text, computed once per policy.
func (f *Failure) message(p *mask.Policy) string {
	if f.msgPolicy != p || f.msg == "" {
		f.msg, f.msgPolicy = p.Text(f.Err.Error()), p
	}
	return f.msg
}

// typeName returns Type(f.Err), computed once.
func (f *Failure) typeName() string {
	if f.typ == "" {
		f.typ = Type(f.Err)
	}
	return f.typ
}
