package httpx

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"slices"
	"strings"

	"github.com/otelkit/otelkit/errorsx"
)

// MaxErrorBody is how much of a response body [ResponseErr] reads at most.
const MaxErrorBody = 64 << 10

// ResponseErr turns the answer of a call to another service into the
// error it stands for: nil for a 2xx; for any other status, a
// *[ResponseError] that unwraps to the registered definition when the body
// is problem details (application/problem+json or application/json, as
// [ProblemJSON] writes them) or an {"errors":[…]} list ([ErrorList]) whose
// id is registered in reg (errorsx.Default() when nil). So
// errors.Is(err, def) and reg.Resolve(err) == def hold in the client, and
// the public detail, info (values as encoding/json decodes them) and
// joined entries are readable through the *errorsx.Error it unwraps to. A
// list of several entries unwraps to all of them, as errors.Join would.
//
// An unknown id, a body that is not JSON, or one larger than
// [MaxErrorBody] gives a *ResponseError that unwraps to no definition and
// says why. ResponseErr reads at most MaxErrorBody+1 bytes of the body and
// does not close it.
func ResponseErr(resp *http.Response, reg *errorsx.Registry) error {
	if resp == nil {
		return errors.New("httpx.ResponseErr: nil response")
	}
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return nil
	}
	if reg == nil {
		reg = errorsx.Default()
	}
	// The error and the document the body decodes into share one
	// allocation (the document escapes into encoding/json): one fewer per
	// answer. The document lives as long as the error, and holds nothing
	// more than what the error shows (its strings are copies, not the
	// body).
	b := &responseDoc{e: ResponseError{StatusCode: resp.StatusCode, ContentType: resp.Header.Get("Content-Type")}}
	e, doc := &b.e, &b.doc
	mt, _, _ := mime.ParseMediaType(e.ContentType)
	if mt != "application/json" && mt != "application/problem+json" && !strings.HasSuffix(mt, "+json") {
		e.why = fmt.Errorf("body is %q, not JSON", e.ContentType)
		return e
	}
	if resp.Body == nil {
		e.why = errors.New("no body")
		return e
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, MaxErrorBody+1))
	if err != nil {
		e.why = fmt.Errorf("reading the body: %w", err)
		return e
	}
	if len(body) > MaxErrorBody {
		e.why = fmt.Errorf("body larger than %d bytes", MaxErrorBody)
		return e
	}
	if err := json.Unmarshal(body, doc); err != nil {
		e.why = fmt.Errorf("body is not the JSON of an error: %w", err)
		return e
	}
	entries := make([]error, 0, len(doc.Errors))
	for _, x := range doc.Errors {
		id := cmp(x.ID, x.Code)
		if d, ok := reg.Lookup(id); ok {
			entries = append(entries, occurrence(d, x.Detail, x.Info, nil))
		}
	}
	e.ID, e.Title = doc.ID, doc.Title
	if e.ID == "" && strings.HasPrefix(doc.Type, TypeURNPrefix) {
		e.ID = strings.TrimPrefix(doc.Type, TypeURNPrefix)
	}
	switch {
	case e.ID != "":
		if d, ok := reg.Lookup(e.ID); ok {
			e.err = occurrence(d, doc.Detail, doc.Info, entries)
		} else {
			e.why = fmt.Errorf("id %q is not registered", e.ID)
		}
	case len(doc.Errors) == 1 && len(entries) == 1:
		// The list shape of a single error.
		e.ID, e.Title, e.err = cmp(doc.Errors[0].ID, doc.Errors[0].Code), cmp(doc.Errors[0].Title, doc.Errors[0].Message), entries[0]
	case len(entries) > 0:
		e.err = errors.Join(entries...)
	default:
		e.why = errors.New("body names no registered error")
	}
	return e
}

// problemDoc is what ResponseErr reads of an error body: problem details
// or an {"errors":[…]} list.
type problemDoc struct {
	ID     string         `json:"id"`
	Type   string         `json:"type"`
	Title  string         `json:"title"`
	Detail string         `json:"detail"`
	Info   map[string]any `json:"info"`
	Errors []struct {
		ID      string         `json:"id"`
		Code    string         `json:"code"`
		Title   string         `json:"title"`
		Message string         `json:"message"`
		Detail  string         `json:"detail"`
		Info    map[string]any `json:"info"`
	} `json:"errors"`
}

// responseDoc is a ResponseError and the document it is read from, in one
// allocation.
type responseDoc struct {
	e   ResponseError
	doc problemDoc
}

func cmp(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// occurrence rebuilds what a body showed of an occurrence of d. It starts
// from what the occurrence carries first (entries, else the detail, else
// the first info field, which d.With keeps inline), so that the common
// answer, one info field, costs one allocation instead of the empty
// occurrence and its copy.
func occurrence(d *errorsx.Def, detail string, info map[string]any, entries []error) error {
	if detail == "" && len(info) == 0 && len(entries) == 0 {
		return d
	}
	keys := make([]string, 0, len(info))
	for k := range info {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var o *errorsx.Error
	switch {
	case len(entries) > 0:
		o = d.Join(entries...)
	case detail != "":
		o, detail = d.Detailf("%s", detail), ""
	default:
		o, keys = d.With(keys[0], info[keys[0]]), keys[1:]
	}
	if detail != "" {
		o = o.Detailf("%s", detail)
	}
	for _, k := range keys {
		o = o.With(k, info[k])
	}
	return o
}

// ResponseError is a non-2xx answer read by [ResponseErr].
type ResponseError struct {
	StatusCode  int    // the response's status
	ContentType string // its Content-Type
	ID          string // the id the body named, if any
	Title       string // the body's title (or list message), if any

	err error // the definition, occurrence or joined entries
	why error // why no definition was found
}

// Error returns the status, then the id and title, or why the body named
// no registered error.
func (e *ResponseError) Error() string {
	s := fmt.Sprintf("httpx: %d %s", e.StatusCode, http.StatusText(e.StatusCode))
	if e.ID != "" {
		s += ": " + e.ID
	}
	if e.Title != "" {
		s += ": " + e.Title
	}
	if e.why != nil {
		s += " (" + e.why.Error() + ")"
	}
	return s
}

// Unwrap returns the registered error the body stood for, or nil.
func (e *ResponseError) Unwrap() error { return e.err }
