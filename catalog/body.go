package catalog

import (
	"bytes"
	"encoding/json"
	"mime"
	"net/http"
	"net/url"

	"github.com/otelkit/otelkit/httpx"
)

// Body describes the error bodies of a service as its renderer writes
// them ([WithRenderer]). A catalog without one describes the bodies of
// httpx's default renderer, [httpx.ProblemJSON].
type Body struct {
	// ContentTypes are the media types of the bodies, the default first:
	// the renderer's own ([httpx.Describer]) or, for a renderer that does
	// not describe itself, the Content-Type it wrote.
	ContentTypes []string `json:"content_types"`
	// Schema is the JSON Schema of a body ([httpx.Describer.JSONSchema]);
	// empty when the renderer does not describe itself.
	Schema json.RawMessage `json:"schema,omitempty"`
}

// WithRenderer makes the catalog describe the error bodies r writes, the
// renderer the service gives httpx.WithRenderer: [Catalog.Body] holds its
// content types and JSON Schema, and each [Entry.Example] the body r
// writes for that error. Markdown and OpenAPI follow them. Without it the
// catalog describes httpx's default, [httpx.ProblemJSON].
//
// r is called once per entry with the entry's problem (type, title, status
// and id) and a GET request for "/"; a renderer that fails or writes
// nothing leaves the entry without an example.
func WithRenderer(r httpx.Renderer) Option {
	return optionFunc(func(c *config) { c.renderer = r })
}

// describe returns the body description of r; entries gives the content
// type of a renderer that does not describe itself.
func describe(r httpx.Renderer, entries []Entry) Body {
	if d, ok := r.(httpx.Describer); ok {
		b := Body{ContentTypes: d.ContentTypes()}
		if s := d.JSONSchema(); json.Valid(s) {
			b.Schema = compact(s)
		}
		return b
	}
	for _, e := range entries {
		if _, ct := render(r, e); ct != "" {
			return Body{ContentTypes: []string{ct}}
		}
	}
	return Body{}
}

// render returns the body r writes for e and its media type. A body that
// is not JSON is returned as a JSON string.
func render(r httpx.Renderer, e Entry) (json.RawMessage, string) {
	p := &httpx.Problem{Type: e.Type, Title: e.Message, Status: e.Status, ID: e.ID}
	req := &http.Request{Method: http.MethodGet, URL: &url.URL{Path: "/"}, Header: http.Header{}, Host: "example.com", RequestURI: "/"}
	w := &recorder{header: http.Header{}}
	if err := r.Render(w, req, p); err != nil || w.body.Len() == 0 {
		return nil, ""
	}
	ct, _, err := mime.ParseMediaType(w.header.Get("Content-Type"))
	if err != nil {
		ct = ""
	}
	if b := w.body.Bytes(); json.Valid(b) {
		return compact(b), ct
	}
	s, _ := json.Marshal(w.body.String()) // a string always encodes
	return s, ct
}

// recorder is the http.ResponseWriter a renderer writes an example to.
type recorder struct {
	header http.Header
	body   bytes.Buffer
	status int
}

func (w *recorder) Header() http.Header { return w.header }

func (w *recorder) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.body.Write(b)
}

func (w *recorder) WriteHeader(status int) {
	if w.status == 0 {
		w.status = status
	}
}

// body returns the description of the catalog's bodies: [Catalog.Body],
// or httpx's default renderer's.
func (c *Catalog) body() Body {
	if c.Body != nil {
		return *c.Body
	}
	return describe(httpx.ProblemJSON{}, nil)
}

// example returns the example body of e: [Entry.Example], or the body
// httpx's default renderer writes for it.
func (c *Catalog) example(e Entry) json.RawMessage {
	if len(e.Example) > 0 || c.Body != nil {
		return e.Example
	}
	b, _ := render(httpx.ProblemJSON{}, e)
	return b
}

// exampleValue decodes an example body for a document that re-encodes
// it (OpenAPI), keeping its numbers as written.
func exampleValue(b json.RawMessage) any {
	if len(b) == 0 {
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var v any
	if dec.Decode(&v) != nil {
		return string(b)
	}
	return v
}

// schemaHasProperty reports whether a JSON Schema object declares the
// top-level property name.
func schemaHasProperty(schema map[string]any, name string) bool {
	props, _ := schema["properties"].(map[string]any)
	_, ok := props[name]
	return ok
}
