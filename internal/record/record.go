// Package record turns a resolved error into telemetry, following the
// OpenTelemetry semantic conventions v1.43.0 (the newest package otel-go
// v1.47 ships):
//
//   - a failure (a 5xx, an unregistered error, a panic) sets the span status
//     to Error, error.type = the id on the span and on otelhttp's request
//     metrics, and writes an exception record;
//   - any other rendered error (a 4xx) leaves the status Unset, sets no
//     error.type and writes no exception record: the id goes under
//     otelkit.error.id on the span and, as a bounded label, on the metrics.
//
// The exception record is a span event, a log record or both, as
// OTEL_SEMCONV_EXCEPTION_SIGNAL_OPT_IN (or the process default set by
// otelbridge.Setup, or a per-call [Failure.Signal]) says; see [Signal].
// Its name is http.server.request.exception inside an HTTP server request,
// rpc.server.call.exception inside a server RPC (internal/reqctx says which)
// and exception elsewhere, unless the transport gives its own
// ([Failure.EventName]).
//
// It uses only the OpenTelemetry API, so httpx (which must not import the
// SDK), otelbridge and the other transports share it.
package record

import (
	"encoding/hex"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"math"
	"reflect"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/otel/attribute"

	"github.com/otelkit/otelkit/errorsx"
	"github.com/otelkit/otelkit/internal/keycache"
	"github.com/otelkit/otelkit/mask"
)

// ScopeName is the instrumentation scope of exception log records.
const ScopeName = "github.com/otelkit/otelkit/otelbridge"

// Attribute keys otelkit adds beside the semantic conventions. They live
// under otelkit., which the conventions leave to the kit (error.* belongs
// to the conventions).
const (
	KeyErrorID     = attribute.Key("otelkit.error.id")
	KeyFingerprint = attribute.Key("otelkit.error.fingerprint")
	KeyCaptureKind = attribute.Key("otelkit.capture.kind")
	KeyInfoPrefix  = "otelkit.error.info."
)

// Event names of exception records. The conventions name an exception
// that happens while an HTTP server handles a request
// http.server.request.exception (model/http/events.yaml, severity ERROR);
// plain exception is for failures not tied to an operation
// (model/exceptions); an exception while a server handles an RPC is
// rpc.server.call.exception (rpc/rpc-exceptions.md: "The event name MUST be
// rpc.server.call.exception", severity ERROR).
const (
	EventException           = "exception"
	EventHTTPServerException = "http.server.request.exception"
	EventRPCServerException  = "rpc.server.call.exception"
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
	// taken here: 0 starts at the caller of Record, Span or Exception.
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
	// it always carries a stack and an exception record, and it does not
	// label the request's metrics (the request may well succeed).
	Captured bool
	// Fail makes the error a failure whatever its status (a job has no
	// client, so any error of otelbridge.Track is the job's failure).
	Fail bool
	// Report asks for a log record of a non-failure (a 4xx) too, at
	// severity WARN (httpx.WithClientErrorLogs).
	Report bool
	// EventName names the exception record; "" picks
	// http.server.request.exception inside an HTTP server request,
	// rpc.server.call.exception inside a server RPC and exception
	// elsewhere. Transports pass their convention's name.
	EventName string
	// Signal says where the exception record goes; SignalDefault follows
	// the process default ([DefaultSignal]).
	Signal Signal
	// Frames bounds the stack trace written; FramesDefault follows the
	// process default ([SetDefaultFrames]).
	Frames Frames

	// when is the time of the exception record, shared by its span event
	// and its log record so that a reader of both can pair them.
	when time.Time
}

// Failed reports whether f is a failure by the span-status rules: a 5xx
// (unregistered errors resolve to the internal 500), a panic, or an error
// marked Fail. A 4xx answered to a client is not: the server did its job.
func (f *Failure) Failed() bool {
	return f.Fail || f.Kind == KindPanic || f.Match.Def.Status() >= 500
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
	return f.Captured || f.Failed()
}

// takeStack computes the failure's stack text once, when it needs one. It
// must be called directly by the exported entry points (Record, Span,
// Exception), whose caller is frame 0 of Skip.
func (f *Failure) takeStack() {
	if f.Stack != "" || !f.NeedsStack() {
		return
	}
	if occ := f.Match.Occurrence; occ != nil && len(occ.Stack()) > 0 {
		f.Stack = FormatStack(occ.Stack())
		return
	}
	var pcs [33]uintptr
	n := 0
	if f.Site != 0 {
		pcs[0] = f.Site + 1 // CallersFrames takes return addresses
		n = 1
	}
	n += runtime.Callers(f.Skip+3, pcs[n:])
	f.Stack = FormatStack(pcs[:n])
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
	for _, l := range strings.Split(f.Stack, "\n") {
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

// InfoAttr converts one item of public info to an attribute under
// "otelkit.error.info.<key>", masked with p: a sensitive key masks the value, and
// sensitive keys inside a map, slice or struct are masked in its JSON form.
func InfoAttr(p *mask.Policy, f errorsx.Field) attribute.KeyValue {
	key := KeyInfoPrefix + f.Key
	if keycache.Sensitive(p, f.Key) {
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
		if !math.IsInf(v, 0) && !math.IsNaN(v) {
			return attribute.Float64(key, v)
		}
	case bool:
		return attribute.Bool(key, v)
	case nil:
		return attribute.String(key, "")
	case error:
		// An error in info is written as its masked text, never encoded
		// field by field.
		return attribute.String(key, safeText(p, v.Error))
	case fmt.Stringer:
		return attribute.String(key, safeText(p, v.String))
	}
	// Mask by structure first: the masked form always encodes, and nothing
	// is ever printed unmasked.
	m, _ := p.Value(f.Value)
	if s, ok := m.(string); ok {
		return attribute.String(key, s)
	}
	if b, err := json.Marshal(m); err == nil {
		return attribute.String(key, string(b))
	}
	return attribute.String(key, "[unencodable]")
}

// safeText returns the text of a value's Error or String method masked with
// p, or a marker when the method panics.
func safeText(p *mask.Policy, text func() string) (s string) {
	defer func() {
		if recover() != nil {
			s = "[panicked]"
		}
	}()
	return p.Text(text())
}

// PanicError is the error a recovered panic becomes.
type PanicError struct {
	Value any
}

// Error returns "panic: " and the value's text. A value whose Error or
// String method itself panics (a hostile panic value) is described by its
// type instead, so that recovery always completes.
func (e *PanicError) Error() string {
	return "panic: " + Text(e.Value)
}

// Text returns the text of v: its Error() for an error, else fmt's %v. When
// that panics, it returns v's type and a note instead: it never panics.
func Text(v any) (s string) {
	defer func() {
		if recover() != nil {
			s = fmt.Sprintf("%T (its text panicked)", v)
		}
	}()
	if err, ok := v.(error); ok {
		return err.Error()
	}
	return fmt.Sprintf("%v", v)
}

// Unwrap returns the panic value when it is an error.
func (e *PanicError) Unwrap() error {
	err, _ := e.Value.(error)
	return err
}

// message returns the masked error text, computed once per policy.
func (f *Failure) message(p *mask.Policy) string {
	if f.msgPolicy != p || f.msg == "" {
		f.msg, f.msgPolicy = p.Text(Text(f.Err)), p
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
