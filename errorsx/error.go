package errorsx

import (
	"fmt"
	"log/slog"
	"runtime"
	"slices"
	"strings"

	"github.com/otelkit/otelkit/mask"
)

// Field is one item of public info: a key and a JSON-encodable value.
type Field struct {
	Key   string
	Value any
}

// Error is an occurrence of a [Def]: the definition plus what this one
// failure carries (public info and detail, an internal cause, joined
// entries). errors.Is(e, def) reports true for its definition.
//
// Methods that add to an occurrence return a new *Error and leave the
// receiver unchanged, so an occurrence may be shared.
type Error struct {
	def  *Def
	rare *rare // nil unless the occurrence has a detail, entries, a stack, 2+ info fields, or a cause and one field
	// one holds the info of an occurrence with a single field whose key
	// is not empty (a field with an empty key goes to rare), so that
	// d.With(key, value) costs one allocation (as slog.Record keeps its
	// first attributes inline). With an empty key it holds the cause
	// instead, in Value (nil if none): the cause is there whenever the
	// field is unused, and in rare when a field is inline, so that
	// d.With and a 4xx d.Wrap fit a 48-byte allocation.
	one [1]Field
}

// rare holds what most occurrences do not carry, so that the common ones
// (d.With, a 4xx d.Wrap) fit a 48-byte allocation instead of 144. It is
// never changed once an *Error points to it: copies share it, and a method
// that changes one of its fields gives the copy a new one (allocated with
// the copy, see withRare).
type rare struct {
	detail  string
	entries []error
	pcs     []uintptr // where a 5xx occurrence was made
	info    []Field   // the info when it has two fields or more
	cause   error     // the cause when a field is inline (see Error.one)
}

// errorWithRare is an occurrence and its rare part in one allocation.
type errorWithRare struct {
	e Error
	r rare
}

// occurrenceWithRare returns a new occurrence of d with an empty rare
// part, to be filled before the occurrence is returned.
func (d *Def) occurrenceWithRare() (*Error, *rare) {
	b := &errorWithRare{e: Error{def: d}}
	b.e.rare = &b.r
	return &b.e, &b.r
}

// withRare returns a copy of e whose rare part is its own copy of e's, to
// be filled before the copy is returned.
func (e *Error) withRare() (*Error, *rare) {
	b := &errorWithRare{e: *e}
	if e.rare != nil {
		b.r = *e.rare
	}
	b.e.rare = &b.r
	return &b.e, &b.r
}

// Def returns the definition of the occurrence.
func (e *Error) Def() *Def { return e.def }

// Detail returns the per-occurrence public detail set by [Def.Detailf] or
// [Error.Detailf], if any.
func (e *Error) Detail() string {
	if e.rare == nil {
		return ""
	}
	return e.rare.detail
}

// Info returns the public info in the order it was added. The slice must not
// be modified.
func (e *Error) Info() []Field {
	if e.one[0].Key != "" {
		return e.one[:1:1]
	}
	if e.rare != nil {
		return e.rare.info
	}
	return nil
}

// Entries returns the joined errors of an occurrence made by [Def.Join].
func (e *Error) Entries() []error {
	if e.rare == nil {
		return nil
	}
	return e.rare.entries
}

// Cause returns the internal cause given to [Def.Wrap], or nil.
func (e *Error) Cause() error {
	if e.one[0].Key == "" {
		c, _ := e.one[0].Value.(error)
		return c
	}
	if e.rare != nil {
		return e.rare.cause
	}
	return nil
}

// setCause sets the cause of c, a copy whose rare part r is its own: in
// the unused field, or in r when a field is inline.
func (c *Error) setCause(r *rare, err error) {
	if c.one[0].Key == "" {
		c.one[0].Value = err
		return
	}
	r.cause = err
}

// Stack returns the program counters recorded when a 5xx occurrence was
// made by [Def.Wrap], for stack traces in telemetry.
func (e *Error) Stack() []uintptr {
	if e.rare == nil {
		return nil
	}
	return e.rare.pcs
}

// With returns a copy of e with key set to value in its public info; a key
// given again replaces its earlier value.
func (e *Error) With(key string, value any) *Error {
	info := e.Info()
	at := slices.IndexFunc(info, func(f Field) bool { return f.Key == key })
	n := len(info)
	if at < 0 {
		at = n
		n++
	}
	if n == 1 && key != "" {
		if e.one[0].Key == "" && e.one[0].Value != nil {
			// The cause makes room for the field: it moves to rare.
			c, r := e.withRare()
			r.cause = e.Cause()
			c.one[0] = Field{Key: key, Value: value}
			return c
		}
		c := *e
		c.one[0] = Field{Key: key, Value: value}
		return &c
	}
	c, r := e.withRare()
	if c.one[0].Key != "" {
		// The inline field moves to r.info: the cause takes its place.
		c.one[0] = Field{Value: r.cause}
		r.cause = nil
	}
	r.info = make([]Field, n)
	copy(r.info, info)
	r.info[at] = Field{Key: key, Value: value}
	return c
}

// Detailf returns a copy of e with a public detail, formatted as with
// fmt.Sprintf (see [Def.Detailf]); a detail set before is replaced.
func (e *Error) Detailf(format string, args ...any) *Error {
	c, r := e.withRare()
	r.detail = fmt.Sprintf(format, args...)
	return c
}

// Wrap returns a copy of e with err as its internal cause.
func (e *Error) Wrap(err error) *Error {
	if e.def.status >= 500 && e.Stack() == nil {
		c, r := e.withRare()
		c.setCause(r, err)
		r.pcs = callers(2)
		return c
	}
	if e.one[0].Key != "" {
		c, r := e.withRare() // a field is inline: the cause goes to rare
		r.cause = err
		return c
	}
	c := *e
	c.one[0].Value = err
	return &c
}

// Error returns the message, then the detail, then the cause's text (all of
// it, for logs and telemetry; clients never see the cause).
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.def.message)
	if d := e.Detail(); d != "" {
		b.WriteString(": ")
		b.WriteString(d)
	}
	for i, err := range e.Entries() {
		if i == 0 {
			b.WriteString(": ")
		} else {
			b.WriteString("; ")
		}
		b.WriteString(err.Error())
	}
	if cause := e.Cause(); cause != nil {
		b.WriteString(": ")
		b.WriteString(cause.Error())
	}
	return b.String()
}

// Unwrap returns the cause and the joined entries, so errors.Is and
// errors.As see all of them.
func (e *Error) Unwrap() []error {
	entries := e.Entries()
	cause := e.Cause()
	if cause == nil {
		return entries
	}
	if len(entries) == 0 {
		return []error{cause}
	}
	return append([]error{cause}, entries...)
}

// Is reports whether target is the definition of e.
func (e *Error) Is(target error) bool {
	d, ok := target.(*Def)
	return ok && d == e.def
}

// ErrorType returns the id of the definition (see [Def.ErrorType]).
func (e *Error) ErrorType() string { return e.def.id }

// LogValue makes slog log an occurrence as a group of id, status, message,
// detail, info and cause, masked with mask.Default(): sensitive info keys
// (at any depth) and secrets quoted in the cause's text.
func (e *Error) LogValue() slog.Value {
	p := mask.Default()
	attrs := make([]slog.Attr, 0, 6)
	attrs = append(attrs,
		slog.String("id", e.def.id),
		slog.Int("status", e.def.status),
		slog.String("message", e.def.message))
	if d := e.Detail(); d != "" {
		attrs = append(attrs, slog.String("detail", d))
	}
	if fields := e.Info(); len(fields) > 0 {
		info := make([]slog.Attr, len(fields))
		for i, f := range fields {
			v := f.Value
			if p.Sensitive(f.Key) {
				v = mask.Mask
			} else {
				v, _ = p.Value(v)
			}
			info[i] = slog.Any(f.Key, v)
		}
		attrs = append(attrs, slog.Attr{Key: "info", Value: slog.GroupValue(info...)})
	}
	if cause := e.Cause(); cause != nil {
		attrs = append(attrs, slog.String("cause", p.Text(cause.Error())))
	}
	return slog.GroupValue(attrs...)
}

// Format prints the error text for %s and %v, and adds the id for %+v.
func (e *Error) Format(f fmt.State, verb rune) {
	if verb == 'v' && f.Flag('+') {
		fmt.Fprintf(f, "%s (%d): %s", e.def.id, e.def.status, e.Error())
		return
	}
	fmt.Fprint(f, e.Error())
}

// ForStatus returns the generic built-in definition of an HTTP status (id
// "http.<status>", message the status text), for an answer that needs no
// definition of its own, such as several problems reported at once:
// errorsx.ForStatus(422).Join(errs...). 404, 405 and 500 give the built-in
// definitions. A status outside 400–599 is a programming error that
// ForStatus does not panic on at request time: it gives [Internal] (500),
// which telemetry shows. Prefer a registered definition when the answer
// has a meaning of its own.
func ForStatus(status int) *Def {
	return statusDef(status)
}

// callers returns the program counters of the stack above the function
// that calls callers, skipping skip frames: callers(2) called from Wrap
// starts at the caller of Wrap.
func callers(skip int) []uintptr {
	var buf [32]uintptr
	n := runtime.Callers(skip+1, buf[:])
	return slices.Clone(buf[:n])
}
