package errorsx

import (
	"fmt"
	"log/slog"
	"net/http"
	"strings"

	"golang.org/x/text/language"
)

// Def is a registered error definition: an HTTP status, a stable id and the
// public message a client reads. A *Def is itself an error, so a handler can
// return it as is; [Def.With], [Def.Wrap] and [Def.Join] make occurrences
// that carry more.
//
// A Def is immutable once defined and safe for concurrent use.
type Def struct {
	status      int
	id          string
	message     string
	description string
	messages    []Translation // in definition order
	matcher     language.Matcher
	lang        language.Tag // language of message
	builtin     bool
}

// Translation is a message of a Def in another language.
type Translation struct {
	Tag     language.Tag
	Message string
}

// DefOption configures a definition.
type DefOption interface{ apply(*Def) }

type defOptionFunc func(*Def)

func (f defOptionFunc) apply(d *Def) { f(d) }

// Describe attaches documentation text to a definition. Only the catalog
// shows it; clients and telemetry never do.
func Describe(text string) DefOption {
	return defOptionFunc(func(d *Def) { d.description = strings.TrimSpace(text) })
}

// Translate adds the message of a definition in the language named by tag
// (a BCP 47 tag such as "de" or "pt-BR"). httpx picks one from the request's
// Accept-Language; telemetry always records the default message. A tag that
// does not parse makes Define panic.
func Translate(tag, message string) DefOption {
	return defOptionFunc(func(d *Def) {
		t, err := language.Parse(tag)
		if err != nil {
			panic(fmt.Sprintf("errorsx: Define(%q): Translate(%q): %v", d.id, tag, err))
		}
		if strings.TrimSpace(message) == "" {
			panic(fmt.Sprintf("errorsx: Define(%q): Translate(%q): empty message", d.id, tag))
		}
		for _, m := range d.messages {
			if m.Tag == t {
				panic(fmt.Sprintf("errorsx: Define(%q): Translate(%q) given twice", d.id, tag))
			}
		}
		d.messages = append(d.messages, Translation{Tag: t, Message: message})
	})
}

// Status returns the HTTP status code of the definition.
func (d *Def) Status() int { return d.status }

// ID returns the stable identifier, e.g. "auth.rate-limited".
func (d *Def) ID() string { return d.id }

// Message returns the public message in the default language.
func (d *Def) Message() string { return d.message }

// Description returns the documentation text given with [Describe].
func (d *Def) Description() string { return d.description }

// Translations returns the messages in other languages, in definition order.
func (d *Def) Translations() []Translation { return append([]Translation(nil), d.messages...) }

// Builtin reports whether d is built into the package rather than defined
// by the service: those of [Builtins] and the generic per-status
// definitions of [ForStatus].
func (d *Def) Builtin() bool { return d.builtin }

// Language returns the language of [Def.Message]: the default language of
// the registry it was defined in (English unless [WithDefaultLanguage]
// said otherwise).
func (d *Def) Language() language.Tag { return d.lang }

// Localized returns the message that best matches the accepted languages
// (an Accept-Language header value, matched with golang.org/x/text/language)
// and its language. A definition without translations returns its message
// and language.Und (nothing was negotiated); with translations, no match
// returns the default message and [Def.Language]. Only the entries within
// the first [MaxAcceptLanguage] bytes are read, so a large header costs no
// more than a short one.
func (d *Def) Localized(acceptLanguage string) (string, language.Tag) {
	if len(d.messages) == 0 {
		return d.message, language.Und
	}
	acceptLanguage = boundAcceptLanguage(acceptLanguage)
	if acceptLanguage == "" {
		return d.message, d.lang
	}
	accepted, _, err := language.ParseAcceptLanguage(acceptLanguage)
	if err != nil || len(accepted) == 0 {
		return d.message, d.lang
	}
	_, idx, conf := d.matcher.Match(accepted...)
	if conf == language.No || idx == 0 {
		return d.message, d.lang
	}
	m := d.messages[idx-1]
	return m.Message, m.Tag
}

// MaxAcceptLanguage bounds the Accept-Language value [Def.Localized] reads:
// a longer value is cut after its last whole entry within the bound (an
// entry cut in two would make the whole value unparsable).
const MaxAcceptLanguage = 256

func boundAcceptLanguage(v string) string {
	if len(v) <= MaxAcceptLanguage {
		return v
	}
	v = v[:MaxAcceptLanguage+1] // a comma right after the bound still ends an entry
	if i := strings.LastIndexByte(v, ','); i >= 0 {
		return v[:i]
	}
	return ""
}

// Error returns the public message, so a *Def reads well in logs too.
func (d *Def) Error() string { return d.message }

// ErrorType returns the id. go.opentelemetry.io/otel/semconv's ErrorType and
// other instrumentation use it as the error.type attribute.
func (d *Def) ErrorType() string { return d.id }

// LogValue makes slog log a definition as a group of id, status and message.
func (d *Def) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("id", d.id),
		slog.Int("status", d.status),
		slog.String("message", d.message),
	)
}

// String returns "id (status): message", for debugging.
func (d *Def) String() string {
	return fmt.Sprintf("%s (%d): %s", d.id, d.status, d.message)
}

// With returns an occurrence of d that carries public info: a key and a
// value the client sees in the body's "info" object (masked when the key is
// sensitive). Info is not shown for 5xx definitions.
func (d *Def) With(key string, value any) *Error {
	if key == "" {
		return (&Error{def: d}).With(key, value)
	}
	// The common case, made as Error.With makes it for an occurrence
	// without info or cause: the field inline.
	return &Error{def: d, one: [1]Field{{Key: key, Value: value}}}
}

// Wrap returns an occurrence of d caused by err. The cause is internal: it
// reaches telemetry and errors.Is/As, never the client.
func (d *Def) Wrap(err error) *Error {
	if d.status >= 500 {
		e, r := d.occurrenceWithRare()
		e.one[0].Value = err
		r.pcs = callers(2)
		return e
	}
	return &Error{def: d, one: [1]Field{{Value: err}}}
}

// Detailf returns an occurrence of d with a per-occurrence public detail
// (the problem body's "detail"), formatted as with fmt.Sprintf; read it
// back with [Error.Detail]. Detail is not shown for 5xx definitions.
func (d *Def) Detailf(format string, args ...any) *Error {
	e, r := d.occurrenceWithRare()
	r.detail = fmt.Sprintf(format, args...)
	return e
}

// Join returns an occurrence of d that carries several errors, each shown
// to the client as its own entry with its own id, message and info (the
// flask-apiexceptions shape). Nil errors are dropped.
func (d *Def) Join(errs ...error) *Error {
	e, r := d.occurrenceWithRare()
	r.entries = compact(errs)
	return e
}

func compact(errs []error) []error {
	out := make([]error, 0, len(errs))
	for _, err := range errs {
		if err != nil {
			out = append(out, err)
		}
	}
	return out
}

var (
	// Internal is what every unregistered error resolves to: 500 "internal".
	Internal = builtin(http.StatusInternalServerError, "internal", "Internal server error")
	// NotFound answers requests that match no route: 404 "not-found".
	NotFound = builtin(http.StatusNotFound, "not-found", "The requested resource was not found")
	// MethodNotAllowed answers a known route asked with a wrong method: 405
	// "method-not-allowed".
	MethodNotAllowed = builtin(http.StatusMethodNotAllowed, "method-not-allowed", "The method is not allowed for the requested resource")
)

// The request decoding definitions: what httpx.DecodeJSON returns for a
// request body it cannot decode, each a client error (the client sent it).
var (
	// EmptyBody: 400 "empty-body", the request has no body (or only
	// white space) where one is required.
	EmptyBody = builtin(http.StatusBadRequest, "empty-body", "The request body is empty")
	// MalformedJSON: 400 "malformed-json", the body is not JSON; info
	// "offset" is the byte offset of the error.
	MalformedJSON = builtin(http.StatusBadRequest, "malformed-json", "The request body is not valid JSON")
	// TruncatedJSON: 400 "truncated-json", the body ends inside a JSON
	// value (io.ErrUnexpectedEOF).
	TruncatedJSON = builtin(http.StatusBadRequest, "truncated-json", "The request body ends before its JSON value does")
	// JSONTypeMismatch: 400 "json-type-mismatch", a value has the wrong
	// JSON type; info "field" (the path, e.g. "items.0.qty"), "expected"
	// and "got" (JSON types) and "offset".
	JSONTypeMismatch = builtin(http.StatusBadRequest, "json-type-mismatch", "A value in the request body has the wrong type")
	// UnknownField: 400 "unknown-field", the body has a field the
	// endpoint does not accept (when unknown fields are refused); info
	// "field".
	UnknownField = builtin(http.StatusBadRequest, "unknown-field", "The request body has a field that is not accepted")
	// TrailingData: 400 "trailing-data", the body goes on after its JSON
	// value; info "offset".
	TrailingData = builtin(http.StatusBadRequest, "trailing-data", "The request body has data after its JSON value")
	// BodyTooLarge: 413 "body-too-large", the body is over the limit;
	// info "limit" (bytes).
	BodyTooLarge = builtin(http.StatusRequestEntityTooLarge, "body-too-large", "The request body is too large")
	// UnsupportedMediaType: 415 "unsupported-media-type", the body's
	// Content-Type is not one the endpoint reads; info "content_type"
	// (what was sent) and "accepted".
	UnsupportedMediaType = builtin(http.StatusUnsupportedMediaType, "unsupported-media-type", "The request body's media type is not supported")
)

func builtin(status int, id, msg string) *Def {
	return &Def{status: status, id: id, message: msg, builtin: true}
}

// Builtins returns the fixed built-in definitions ([Internal], [NotFound],
// [MethodNotAllowed] and the request decoding ones such as [EmptyBody]) in
// a stable order; the generic definitions of [ForStatus] are not listed.
func Builtins() []*Def {
	return []*Def{Internal, NotFound, MethodNotAllowed,
		EmptyBody, MalformedJSON, TruncatedJSON, JSONTypeMismatch, UnknownField,
		TrailingData, BodyTooLarge, UnsupportedMediaType}
}

func builtinByID(id string) *Def {
	for _, d := range Builtins() {
		if d.id == id {
			return d
		}
	}
	if status := statusFromID(id); status != 0 {
		if d := statusDef(status); d.id == id {
			return d
		}
	}
	return nil
}

// reservedID reports whether id belongs to the built-in definitions: the
// ids of Builtins and every "http.<status>"
// of the generic definitions of ForStatus.
func reservedID(id string) bool {
	return builtinByID(id) != nil || statusFromID(id) != 0
}

// newDef validates and builds a definition; it panics naming the id.
func newDef(status int, id, message string, lang language.Tag, opts []DefOption) *Def {
	if id == "" {
		panic(fmt.Sprintf("errorsx: Define(%d, %q, %q): empty id", status, id, message))
	}
	if !validID(id) {
		panic(fmt.Sprintf("errorsx: Define(%q): id must use only a-z, 0-9, '.', '_' and '-'", id))
	}
	if reservedID(id) {
		panic(fmt.Sprintf("errorsx: Define(%q): id is reserved for the built-in definition", id))
	}
	if status < 400 || status > 599 {
		panic(fmt.Sprintf("errorsx: Define(%q): status %d is outside 400-599", id, status))
	}
	if strings.TrimSpace(message) == "" {
		panic(fmt.Sprintf("errorsx: Define(%q): empty message", id))
	}
	d := &Def{status: status, id: id, message: message, lang: lang}
	for _, o := range opts {
		o.apply(d)
	}
	if len(d.messages) > 0 {
		// The first supported tag is the default message's language, and
		// the matcher's fallback.
		tags := make([]language.Tag, 0, len(d.messages)+1)
		tags = append(tags, lang)
		for _, m := range d.messages {
			if m.Tag == lang {
				panic(fmt.Sprintf("errorsx: Define(%q): Translate(%q) is the default language", id, m.Tag))
			}
			tags = append(tags, m.Tag)
		}
		d.matcher = language.NewMatcher(tags)
	}
	return d
}

func validID(id string) bool {
	for i := 0; i < len(id); i++ {
		c := id[i]
		if ('a' <= c && c <= 'z') || ('0' <= c && c <= '9') || c == '.' || c == '_' || c == '-' {
			continue
		}
		return false
	}
	return true
}
