package httpx

import (
	"context"
	"net/http"
	"net/url"
	"sync/atomic"

	"go.opentelemetry.io/otel/trace"
	"golang.org/x/text/language"

	"github.com/otelkit/otelkit/errorsx"
	"github.com/otelkit/otelkit/internal/publicinfo"
)

// Problem is what a renderer writes: the RFC 9457 problem details of one
// error, already made safe for the client (no cause, stack or Go type;
// info masked; for 5xx only type, title, status, id, instance and trace id).
type Problem struct {
	Type     string          // "type": base URL + id, or "urn:otelkit:error:" + id
	Title    string          // "title": the registered message, localized
	Status   int             // "status"
	ID       string          // "id": the registered id
	Instance string          // "instance": the request path
	Detail   string          // "detail": per-occurrence public detail (4xx only)
	Info     []errorsx.Field // "info": public info, masked (4xx only)
	TraceID  string          // "trace_id": when the request has a valid span
	Errors   []Entry         // "errors": the entries of a joined error
	Language string          // the Content-Language of Title; "" when the definition has no translations

	// head is the JSON of type, title, status and id made for the
	// definition, or nil; ProblemJSON writes it when those fields still
	// hold the values it was made from.
	head *problemHead
	// traceID is the trace id of a problem rendered by the default
	// renderer, which writes it when TraceID is empty; a Renderer of the
	// service's own gets TraceID instead (and this is zero).
	traceID trace.TraceID
}

// problemHead is the start of a problem+json body, which depends on the
// definition only: made once per definition (in its registered language),
// it spares escaping the same strings on every error.
type problemHead struct {
	typ, title, id string
	status         int
	json           []byte // {"type":…,"title":…,"status":…,"id":…
}

// matches reports whether h was made from p's type, title, status and id.
// Comparing strings that share their bytes costs no more than comparing
// their lengths and pointers.
func (h *problemHead) matches(p *Problem) bool {
	return h.status == p.Status && h.typ == p.Type && h.title == p.Title && h.id == p.ID
}

// defInfo is what a config keeps per definition.
type defInfo struct {
	typ  string // the problem type
	head atomic.Pointer[problemHead]
}

// Entry is one error of a joined error.
type Entry struct {
	ID     string
	Title  string
	Status int
	Detail string
	Info   []errorsx.Field
}

// TypeURNPrefix prefixes the "type" of problems when no docs base URL is
// configured.
const TypeURNPrefix = "urn:otelkit:error:"

func (c *config) problem(ctx context.Context, r *http.Request, m errorsx.Match, p *Problem) {
	def := m.Def
	lang := headerValue(r.Header, "Accept-Language")
	title, tag := def.Localized(lang)
	p.Status = def.Status()
	p.ID = def.ID()
	p.Title = title
	di := c.defInfo(def)
	p.Type = di.typ
	if tag == language.Und {
		p.head = di.headFor(p)
	} else {
		p.Language = tag.String()
	}
	p.Instance = escapedPath(r.URL) // a URI reference, as RFC 9457 wants
	if sc := trace.SpanContextFromContext(ctx); sc.IsValid() {
		p.traceID = sc.TraceID()
	}
	if occ := m.Occurrence; occ != nil && p.Status < 500 {
		p.Detail = occ.Detail()
		p.Info = c.maskInfo(occ.Info())
		if entries := occ.Entries(); len(entries) > 0 {
			p.Errors = c.entries(entries, lang)
		}
	}
}

// entries returns the entries of a joined error.
func (c *config) entries(errs []error, lang string) []Entry {
	out := make([]Entry, 0, len(errs))
	for _, err := range errs {
		em := c.registry.Match(err)
		ed := em.Def
		et, _ := ed.Localized(lang)
		e := Entry{ID: ed.ID(), Title: et, Status: ed.Status()}
		if em.Occurrence != nil && ed.Status() < 500 {
			e.Detail = em.Occurrence.Detail()
			e.Info = c.maskInfo(em.Occurrence.Info())
		}
		out = append(out, e)
	}
	return out
}

// headFor returns the head of p's body made for the definition, made
// again when p's title is not the one it was made with (a translation
// registered for an undetermined language). p's type, status and id are
// the definition's, which the head was made from.
func (di *defInfo) headFor(p *Problem) *problemHead {
	if h := di.head.Load(); h != nil && h.title == p.Title {
		return h
	}
	return di.newHead(p)
}

// newHead makes the head of p's body, the first time p's definition is
// rendered.
func (di *defInfo) newHead(p *Problem) *problemHead {
	h := &problemHead{typ: p.Type, title: p.Title, id: p.ID, status: p.Status}
	h.json = appendHead(nil, p.Type, p.Title, p.Status, p.ID)
	di.head.Store(h)
	return h
}

// escapedPath returns u.EscapedPath(): the path itself when it has no
// RawPath and no byte to escape, as most have, found in one pass over
// pathPlain (net/url counts the bytes to escape and then copies).
func escapedPath(u *url.URL) string {
	if u.RawPath == "" {
		p := u.Path
		i := 0
		for i < len(p) && pathPlain[p[i]] {
			i++
		}
		if i == len(p) {
			return p
		}
	}
	return u.EscapedPath()
}

// pathPlain[c] reports whether net/url leaves byte c of a path as it is:
// RFC 3986's unreserved characters and every reserved one but '?'
// (TestPathPlain checks it against (*url.URL).EscapedPath).
var pathPlain = func() (t [256]bool) {
	for _, c := range []byte("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~$&+,/:;=@") {
		t[c] = true
	}
	return t
}()

// defInfo returns what c keeps for def, made once per definition: its
// problem type (the docs base URL, or the URN prefix, followed by the id)
// and the head of its bodies. Definitions are made at start-up; the map is
// copied on write (a plain map keyed by pointer costs a third of a
// sync.Map's interface hashing).
func (c *config) defInfo(def *errorsx.Def) *defInfo {
	if di, ok := c.types.Load(def); ok {
		return di
	}
	return c.types.LoadOrMake(def, 0, func() *defInfo {
		base := c.docsBase
		if base == "" {
			base = TypeURNPrefix
		}
		return &defInfo{typ: base + def.ID()}
	})
}

// maskInfo returns info with sensitive values masked, at any depth, and the
// errors it holds (at any depth) replaced by their ids; info itself is left
// alone (an occurrence may be shared) and returned as is when nothing
// changes.
func (c *config) maskInfo(info []errorsx.Field) []errorsx.Field {
	return publicinfo.Mask(c.mask, info, c.errorIDValue)
}

// errorID returns the id err resolves to: an error's text is internal, only
// its id is public.
func (c *config) errorID(err error) string { return c.registry.Match(err).Def.ID() }

func (c *config) errorIDValue(err error) any { return c.errorID(err) }
