package catalog

import (
	"bytes"
	"embed"
	"encoding/json"
	"html/template"
	"mime"
	"net/http"
	"net/url"
	"path"
	"strconv"
	"strings"

	"github.com/otelkit/otelkit/errorsx"
)

//go:embed templates/*.html
var templateFS embed.FS

var pages = template.Must(template.New("").Funcs(template.FuncMap{
	"statusText": statusText,
}).ParseFS(templateFS, "templates/*.html"))

type handler struct {
	reg    *errorsx.Registry
	opts   []Option
	prefix string // path the handler is mounted at, ends with "/"
}

var _ http.Handler = (*handler)(nil)

// Handler returns an http.Handler that serves the live catalog of reg: the
// catalog is built on every request, so definitions added later show up.
// Nothing is served unless the handler is mounted.
//
// It answers GET and HEAD under the path of the base URL given with
// [WithBaseURL] ("/" without one; use http.StripPrefix to mount it
// elsewhere):
//
//   - the base path itself serves the catalog as JSON ([Catalog.WriteJSON]),
//     or as an HTML list when the client prefers text/html (a browser);
//   - base path + id serves a human HTML page for that error, or its [Entry]
//     as JSON when the client asks for application/json. With the service's
//     docs base URL set to the same URL, the problem body's "type" resolves
//     to this page.
//
// Unknown ids answer 404 and other methods 405, both with an
// application/problem+json body of the built-in definitions.
//
// The handler is meant to be reachable by the service's clients, so it
// leaves out the Go errors mapped to each entry ([Entry.MappedFrom]): Go
// type names, package paths and internal error texts. Give [WithMappings]
// to show them, for an internal deployment only.
//
//	mux.Handle("/errors/", catalog.Handler(errorsx.Default(),
//		catalog.WithBaseURL("https://api.example.com/errors/")))
func Handler(reg *errorsx.Registry, opts ...Option) http.Handler {
	cfg := newConfig(opts)
	prefix := "/"
	if cfg.baseURL != "" {
		if u, err := url.Parse(cfg.baseURL); err == nil && u.Path != "" {
			prefix = u.Path
		}
	}
	if !strings.HasSuffix(prefix, "/") {
		prefix += "/"
	}
	// Mapped errors are private unless an option asks for them.
	opts = append([]Option{WithoutMappings()}, opts...)
	return &handler{reg: reg, opts: opts, prefix: prefix}
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		h.problem(w, r, errorsx.MethodNotAllowed)
		return
	}
	p := r.URL.Path
	if p == strings.TrimSuffix(h.prefix, "/") {
		p += "/"
	}
	rest, ok := strings.CutPrefix(p, h.prefix)
	if !ok || strings.Contains(rest, "/") {
		h.problem(w, r, errorsx.NotFound)
		return
	}
	cat := New(h.reg, h.opts...)
	json, html := accepts(r.Header.Get("Accept"))
	w.Header().Add("Vary", "Accept")
	if rest == "" {
		if html > json {
			h.html(w, r, "index.html", indexPage{Catalog: cat, LinkBase: linkBase(r)})
			return
		}
		h.json(w, r, http.StatusOK, "application/json", cat)
		return
	}
	e, ok := cat.Lookup(rest)
	if !ok {
		h.problem(w, r, errorsx.NotFound)
		return
	}
	if json > html {
		h.json(w, r, http.StatusOK, "application/json", e)
		return
	}
	body := cat.body()
	page := entryPage{Entry: e, Title: cat.Title, Example: exampleJSON(cat.example(e))}
	if len(body.ContentTypes) > 0 {
		page.ContentType = body.ContentTypes[0]
	}
	h.html(w, r, "entry.html", page)
}

type indexPage struct {
	*Catalog
	LinkBase string // relative path from the index to the entry pages
}

type entryPage struct {
	Entry
	Title       string
	ContentType string // of the example body; "" when unknown
	Example     string // the example body, indented
}

// linkBase returns the relative link from the index page to its entries,
// so links hold behind http.StripPrefix and proxies: "./" when the index
// was asked with a trailing slash, "errors/" when asked as ".../errors".
func linkBase(r *http.Request) string {
	p := r.URL.Path
	if u, err := url.ParseRequestURI(r.RequestURI); err == nil && r.RequestURI != "" {
		p = u.Path
	}
	if p == "" || strings.HasSuffix(p, "/") {
		return "./"
	}
	return "./" + path.Base(p) + "/"
}

func (h *handler) html(w http.ResponseWriter, r *http.Request, name string, data any) {
	var buf bytes.Buffer
	if err := pages.ExecuteTemplate(&buf, name, data); err != nil {
		h.problem(w, r, errorsx.Internal)
		return
	}
	hdr := w.Header()
	hdr.Set("Content-Type", "text/html; charset=utf-8")
	hdr.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'")
	hdr.Set("X-Content-Type-Options", "nosniff")
	hdr.Set("Content-Length", strconv.Itoa(buf.Len()))
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		_, _ = w.Write(buf.Bytes())
	}
}

func (h *handler) json(w http.ResponseWriter, r *http.Request, status int, contentType string, v any) {
	var buf bytes.Buffer
	if err := writeJSON(&buf, v); err != nil {
		status, contentType = http.StatusInternalServerError, ProblemMediaType
		buf.Reset()
		_ = writeJSON(&buf, problemBody(errorsx.Internal, r, ""))
	}
	hdr := w.Header()
	hdr.Set("Content-Type", contentType)
	hdr.Set("X-Content-Type-Options", "nosniff")
	hdr.Set("Content-Length", strconv.Itoa(buf.Len()))
	w.WriteHeader(status)
	if r.Method != http.MethodHead {
		_, _ = w.Write(buf.Bytes())
	}
}

func (h *handler) problem(w http.ResponseWriter, r *http.Request, d *errorsx.Def) {
	base := ""
	if cfg := newConfig(h.opts); cfg.baseURL != "" {
		base = cfg.baseURL
	}
	h.json(w, r, d.Status(), ProblemMediaType, problemBody(d, r, base))
}

// exampleJSON indents an example body for a page.
func exampleJSON(b []byte) string {
	var buf bytes.Buffer
	if json.Indent(&buf, b, "", "  ") != nil {
		return string(b)
	}
	return buf.String()
}

// problem is the body of the handler's own errors, in the shape of the
// catalog's Problem schema.
type problem struct {
	Type     string `json:"type"`
	Title    string `json:"title"`
	Status   int    `json:"status"`
	ID       string `json:"id"`
	Instance string `json:"instance,omitempty"`
}

func problemBody(d *errorsx.Def, r *http.Request, base string) problem {
	return problem{Type: typeOf(d.ID(), base), Title: d.Message(), Status: d.Status(), ID: d.ID(), Instance: r.URL.Path}
}

// accepts returns the highest quality the Accept header gives to JSON and
// to HTML; a wildcard counts for neither, so the route's default applies.
func accepts(header string) (json, html float64) {
	for _, part := range strings.Split(header, ",") {
		mt, params, err := mime.ParseMediaType(strings.TrimSpace(part))
		if err != nil {
			continue
		}
		q := 1.0
		if s, ok := params["q"]; ok {
			if v, err := strconv.ParseFloat(s, 64); err == nil {
				q = v
			}
		}
		switch {
		case mt == "application/json" || mt == ProblemMediaType:
			json = max(json, q)
		case mt == "text/html":
			html = max(html, q)
		}
	}
	return json, html
}
