package httpx

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"reflect"
	"strings"

	"github.com/otelkit/otelkit/errorsx"
)

// DefaultMaxBodyBytes is the body limit of [DecodeJSON] unless
// [WithMaxBodyBytes] says otherwise: 1 MiB.
const DefaultMaxBodyBytes = 1 << 20

// DecodeOption configures [DecodeJSON].
type DecodeOption interface{ applyDecode(*decodeConfig) }

type decodeOptionFunc func(*decodeConfig)

func (f decodeOptionFunc) applyDecode(c *decodeConfig) { f(c) }

type decodeConfig struct {
	maxBytes      int64
	refuseUnknown bool
	allowEmpty    bool
}

// WithMaxBodyBytes bounds the body [DecodeJSON] reads (default
// [DefaultMaxBodyBytes]); n <= 0 removes the bound. A larger body is
// [errorsx.BodyTooLarge] (413).
func WithMaxBodyBytes(n int64) DecodeOption {
	return decodeOptionFunc(func(c *decodeConfig) { c.maxBytes = n })
}

// DisallowUnknownFields makes a field of the body that the destination
// struct does not have an [errorsx.UnknownField] (400), as
// json.Decoder.DisallowUnknownFields does. By default such fields are
// ignored.
func DisallowUnknownFields() DecodeOption {
	return decodeOptionFunc(func(c *decodeConfig) { c.refuseUnknown = true })
}

// AllowEmptyBody makes an empty body (or one of white space only) leave v
// untouched and return nil, instead of [errorsx.EmptyBody].
func AllowEmptyBody() DecodeOption {
	return decodeOptionFunc(func(c *decodeConfig) { c.allowEmpty = true })
}

// DecodeJSON decodes the JSON body of r into v. Every failure the client
// causes is a registered 4xx occurrence of a built-in definition that says
// what is wrong and, when known, where (info "field" or "offset"), so that
// returning it from a [HandlerFunc] answers the client, never a 500:
//
//   - a Content-Type that is present and is neither application/json nor
//     a +json type: [errorsx.UnsupportedMediaType] (415); an absent one is
//     accepted;
//   - no body: [errorsx.EmptyBody] (unless [AllowEmptyBody]);
//   - a body over the limit ([WithMaxBodyBytes]; http.MaxBytesError from
//     the request's own http.MaxBytesReader too): [errorsx.BodyTooLarge]
//     (413);
//   - a syntax error: [errorsx.MalformedJSON], with the offset of the
//     offending byte (from 0);
//   - a body that ends inside the value: [errorsx.TruncatedJSON], with
//     the body's length as offset;
//   - a value of the wrong JSON type: [errorsx.JSONTypeMismatch], with the
//     field's path and the expected and received JSON types;
//   - a field the destination does not have, with [DisallowUnknownFields]:
//     [errorsx.UnknownField], with the field;
//   - anything after the value: [errorsx.TrailingData], with the offset
//     where the value ended.
//
// The decoder's own error is the occurrence's cause (telemetry sees it;
// clients do not). An error that is not the client's (v is not a non-nil
// pointer, a read error from the connection) is returned as it is and
// renders as it resolves.
func DecodeJSON(r *http.Request, v any, opts ...DecodeOption) error {
	cfg := decodeConfig{maxBytes: DefaultMaxBodyBytes}
	for _, o := range opts {
		o.applyDecode(&cfg)
	}
	if ct := r.Header.Get("Content-Type"); ct != "" && !isJSONMediaType(ct) {
		return errorsx.UnsupportedMediaType.With("content_type", ct).With("accepted", "application/json")
	}
	if r.Body == nil || r.Body == http.NoBody {
		if cfg.allowEmpty {
			return nil
		}
		return errorsx.EmptyBody
	}
	var body io.Reader = r.Body
	if cfg.maxBytes > 0 {
		// w is nil: DecodeJSON has no writer. The error still tells
		// the limit; the Handler answers 413.
		body = http.MaxBytesReader(nil, r.Body, cfg.maxBytes)
	}
	counted := &countingReader{r: body}
	dec := json.NewDecoder(counted)
	if cfg.refuseUnknown {
		dec.DisallowUnknownFields()
	}
	if err := dec.Decode(v); err != nil {
		if err == io.EOF { // nothing but white space before the end

			if cfg.allowEmpty {
				return nil
			}
			return errorsx.EmptyBody
		}
		return decodeError(err, counted.n)
	}
	// One value only: the next token must be the end of the body.
	end := dec.InputOffset()
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		if err != nil {
			if tooLarge := tooLargeError(err); tooLarge != nil {
				return tooLarge
			}
		}
		return errorsx.TrailingData.With("offset", end).Wrap(errTrailing(err))
	}
	return nil
}

func errTrailing(err error) error {
	if err == nil {
		return errors.New("json: data after the top-level value")
	}
	return fmt.Errorf("json: data after the top-level value: %w", err)
}

func tooLargeError(err error) error {
	var mb *http.MaxBytesError
	if errors.As(err, &mb) {
		return errorsx.BodyTooLarge.With("limit", mb.Limit).Wrap(err)
	}
	return nil
}

// countingReader counts the bytes read through it: the offset of a
// truncated body is its length.
type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// decodeError turns an error of json.Decoder.Decode into the occurrence
// that says what the client got wrong.
func decodeError(err error, read int64) error {
	if e := tooLargeError(err); e != nil {
		return e
	}
	var syntax *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.Is(err, io.ErrUnexpectedEOF):
		return errorsx.TruncatedJSON.With("offset", read).Wrap(err)
	case errors.As(err, &syntax):
		// Offset counts the bytes read up to and including the bad one.
		return errorsx.MalformedJSON.With("offset", max(syntax.Offset-1, 0)).Wrap(err)
	case errors.As(err, &typ):
		occ := errorsx.JSONTypeMismatch.With("field", typ.Field)
		if typ.Field == "" {
			occ = errorsx.JSONTypeMismatch.With("field", ".")
		}
		return occ.With("expected", jsonType(typ.Type)).With("got", firstWord(typ.Value)).With("offset", typ.Offset).Wrap(err)
	}
	// encoding/json reports an unknown field with an error made by
	// fmt.Errorf and no type of its own (decode.go, "json: unknown field
	// %q"): its text is the only way to tell it and to name the field.
	if field, ok := strings.CutPrefix(err.Error(), `json: unknown field "`); ok {
		return errorsx.UnknownField.With("field", strings.TrimSuffix(field, `"`)).Wrap(err)
	}
	return err // not the client's: an *json.InvalidUnmarshalError, a read error
}

// firstWord keeps the JSON type of an UnmarshalTypeError's Value
// ("number -5" gives "number").
func firstWord(s string) string {
	if i := strings.IndexByte(s, ' '); i >= 0 {
		return s[:i]
	}
	return s
}

// jsonType names the JSON type a Go type decodes from.
func jsonType(t reflect.Type) string {
	if t == nil {
		return ""
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.Bool:
		return "boolean"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr,
		reflect.Float32, reflect.Float64:
		return "number"
	case reflect.String:
		return "string"
	case reflect.Slice, reflect.Array:
		return "array"
	case reflect.Struct, reflect.Map:
		return "object"
	}
	return t.String()
}

// isJSONMediaType reports whether a Content-Type value names JSON:
// application/json or a structured syntax suffix +json (RFC 6839), such
// as application/merge-patch+json.
func isJSONMediaType(ct string) bool {
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil {
		return false
	}
	return mt == "application/json" || (strings.HasPrefix(mt, "application/") && strings.HasSuffix(mt, "+json"))
}
