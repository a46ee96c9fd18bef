package catalog

import (
	"cmp"
	"encoding/json"
	"net/http"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"github.com/otelkit/otelkit/errorsx"
	"github.com/otelkit/otelkit/httpx"
	"github.com/otelkit/otelkit/internal/rpccode"
)

// Catalog is the published contract of a registry: every error a service
// can return, as plain data. Build one with [New]; render it with
// [Catalog.WriteJSON], [Catalog.WriteMarkdown] or [Catalog.WriteOpenAPI].
//
// Entries are sorted by status, then by id, so the output of a service does
// not depend on the order its packages are initialised in, and a change to
// one error is one changed line in review.
type Catalog struct {
	// Title names the catalog (the OpenAPI info title, the Markdown heading).
	Title string `json:"title"`
	// Version is the version of the API the catalog documents.
	Version string `json:"version,omitempty"`
	// BaseURL is the documentation base URL; an entry's Type is BaseURL+ID.
	BaseURL string `json:"base_url,omitempty"`
	// Entries are the definitions, by status then id.
	Entries []Entry `json:"errors"`
	// Body describes the error bodies as the renderer given with
	// [WithRenderer] writes them; nil without it (httpx's default,
	// [httpx.ProblemJSON]).
	Body *Body `json:"body,omitempty"`
}

// Entry is one definition of the catalog.
type Entry struct {
	// ID is the stable identifier, the problem body's "id".
	ID string `json:"id"`
	// Status is the HTTP status code.
	Status int `json:"status"`
	// Message is the public message in the default language, the problem
	// body's "title".
	Message string `json:"message"`
	// Type is the problem body's "type": the documentation URL of the
	// error (base URL + id) when the catalog has a base URL, else
	// [TypeURNPrefix] + id, as httpx writes it.
	Type string `json:"type"`
	// Description is documentation text given with errorsx.Describe.
	Description string `json:"description,omitempty"`
	// Translations are the messages in other languages, by language tag.
	Translations []Translation `json:"translations,omitempty"`
	// MappedFrom lists the existing errors that resolve to this definition.
	MappedFrom []Mapped `json:"mapped_from,omitempty"`
	// GRPCCode is the canonical name of the gRPC status code grpcx answers
	// the definition with by its table ("NOT_FOUND"; grpcx.Code), unless
	// the service overrides it with grpcx.WithCode.
	GRPCCode string `json:"grpc_code"`
	// Builtin is true for the definitions built into errorsx (internal,
	// not-found, method-not-allowed).
	Builtin bool `json:"builtin,omitempty"`
	// Example is the body the renderer given with [WithRenderer] writes
	// for this error (JSON; a JSON string for a body that is not JSON).
	// Empty without it: the body is then httpx's default problem, made
	// from the fields above.
	Example json.RawMessage `json:"example,omitempty"`
}

// Translation is the message of an entry in one language.
type Translation struct {
	// Lang is a BCP 47 language tag, e.g. "de" or "pt-BR".
	Lang string `json:"lang"`
	// Message is the message in that language.
	Message string `json:"message"`
}

// TypeURNPrefix prefixes an entry's Type when no base URL is set; httpx
// uses the same prefix for the problem body's "type".
const TypeURNPrefix = "urn:otelkit:error:"

// Mapped kinds.
const (
	// KindValue is an error value registered with errorsx.Map.
	KindValue = "value"
	// KindType is an error type registered with errorsx.MapType.
	KindType = "type"
	// KindFunc is a predicate registered with errorsx.MapFunc; Type is
	// the function's name.
	KindFunc = "func"
)

// Mapped is an existing error that resolves to an entry.
type Mapped struct {
	// Kind is [KindValue], [KindType] or [KindFunc].
	Kind string `json:"kind"`
	// Type is the Go type: of the value for [KindValue], the mapped type
	// for [KindType], e.g. "*json.SyntaxError".
	Type string `json:"type"`
	// Package is the import path of the package that declares Type, when
	// it is a named type, e.g. "encoding/json".
	Package string `json:"package,omitempty"`
	// Text is the error text of a mapped value, e.g.
	// "sql: no rows in result set". Empty for [KindType].
	Text string `json:"text,omitempty"`
	// Registry names the registry the mapping is registered in when it is
	// a descendant of the catalogued registry ([WithChildren]): the
	// mapping applies only to the requests handled with that registry
	// (e.g. a route group's). Registries have no names, so they are
	// numbered by creation order ([errorsx.Registry.Children]):
	// "child registry #1" is the first registry made with the catalogued
	// one as its parent, "child registry #1.2" the second registry made
	// with that one as its parent. Go initialises packages in a fixed
	// order, so the numbers are the same on every run of the same
	// program. Empty for the catalogued registry and its parents
	// ([WithParents]), whose mappings apply to every request it handles.
	Registry string `json:"registry,omitempty"`
}

// childLabelPrefix starts [Mapped.Registry] for a descendant registry.
const childLabelPrefix = "child registry #"

// Option configures a catalog.
type Option interface{ apply(*config) }

type optionFunc func(*config)

func (f optionFunc) apply(c *config) { f(c) }

type config struct {
	title    string
	version  string
	baseURL  string
	parents  bool
	children bool
	builtins bool
	mappings bool
	renderer httpx.Renderer
}

func newConfig(opts []Option) config {
	c := config{title: "Errors", builtins: true, mappings: true}
	for _, o := range opts {
		o.apply(&c)
	}
	return c
}

// WithTitle sets the catalog's title; the default is "Errors".
func WithTitle(title string) Option {
	return optionFunc(func(c *config) { c.title = title })
}

// WithVersion sets the version of the API the catalog documents (the
// OpenAPI info version; "0.0.0" when unset).
func WithVersion(version string) Option {
	return optionFunc(func(c *config) { c.version = version })
}

// WithBaseURL sets the documentation base URL: every entry's Type becomes
// baseURL followed by its id, the URI a problem body's "type" holds when
// the service is configured with the same base (httpx.WithDocsBaseURL).
// Without it, Type is [TypeURNPrefix] followed by the id. A relative URL such as
// "/errors/" is allowed. A missing trailing slash is added.
//
// [Handler] serves its pages at the path of the base URL.
func WithBaseURL(baseURL string) Option {
	return optionFunc(func(c *config) {
		if baseURL != "" && !strings.HasSuffix(baseURL, "/") {
			baseURL += "/"
		}
		c.baseURL = baseURL
	})
}

// WithParents includes the definitions and mappings of the registry's
// parents (errorsx.WithParent), as resolution sees them: a registry's own
// mappings come before its parent's.
func WithParents() Option {
	return optionFunc(func(c *config) { c.parents = true })
}

// WithChildren includes the definitions and mappings of the registry's
// descendants: the registries made with it as their parent
// (errorsx.WithParent), their own children, and so on, as a route group's
// registry is made from errorsx.Default(). A descendant's mapping applies
// only where that registry is used, so it is listed with the registry it
// belongs to ([Mapped.Registry]) and does not hide the catalogued
// registry's mapping of the same error. The otelkit catalog command
// catalogs errorsx.Default() with its children.
func WithChildren() Option {
	return optionFunc(func(c *config) { c.children = true })
}

// WithMappings includes the Go errors mapped to each entry
// ([Entry.MappedFrom]): their type names, package paths and error texts.
// [New] includes them by default; [Handler] leaves them out unless given
// this option, because they describe the service's internals to whoever
// can reach the handler. Give it to a handler only for internal
// deployments.
func WithMappings() Option {
	return optionFunc(func(c *config) { c.mappings = true })
}

// WithoutMappings leaves out the Go errors mapped to each entry
// ([Entry.MappedFrom]), for a catalog published to clients. It is the
// default of [Handler].
func WithoutMappings() Option {
	return optionFunc(func(c *config) { c.mappings = false })
}

// WithoutBuiltins leaves out the definitions built into errorsx
// ([errorsx.Builtins]: internal, not-found, method-not-allowed and the
// request decoding ones of httpx.DecodeJSON) unless a mapping refers to
// them.
func WithoutBuiltins() Option {
	return optionFunc(func(c *config) { c.builtins = false })
}

// New builds the catalog of reg: its definitions, the mappings that resolve
// to them (unless [WithoutMappings] is given) and, unless [WithoutBuiltins]
// is given, the built-in definitions. [WithParents] adds reg's parents,
// [WithChildren] its descendants. A definition of another registry that a
// mapping refers to is included too. The registries are read once; New is
// safe to call while other goroutines use them.
func New(reg *errorsx.Registry, opts ...Option) *Catalog {
	cfg := newConfig(opts)
	cat := &Catalog{Title: cfg.title, Version: cfg.version, BaseURL: cfg.baseURL}

	// regs are reg and its parents, whose mappings resolve as reg
	// resolves: a mapping of reg hides its parents' mapping of the same
	// error. children are the descendants, each with its own scope.
	regs := []*errorsx.Registry{reg}
	if cfg.parents {
		for p := reg.Parent(); p != nil; p = p.Parent() {
			regs = append(regs, p)
		}
	}
	var children []scope
	if cfg.children {
		children = descendants(reg, "", nil)
	}

	index := map[string]int{} // id -> position in cat.Entries
	add := func(d *errorsx.Def) int {
		if i, ok := index[d.ID()]; ok {
			return i
		}
		index[d.ID()] = len(cat.Entries)
		cat.Entries = append(cat.Entries, entryOf(d, cfg.baseURL))
		return len(cat.Entries) - 1
	}
	if cfg.builtins {
		for _, d := range errorsx.Builtins() {
			add(d)
		}
	}
	for _, r := range regs {
		for _, d := range r.Defs() {
			add(d)
		}
	}
	for _, c := range children {
		for _, d := range c.reg.Defs() {
			add(d)
		}
	}

	// mapped holds each entry's mappings with the position of their
	// scope: 0 for reg and its parents, 1+i for children[i].
	type scoped struct {
		scope int
		m     Mapped
	}
	mapped := map[int][]scoped{}
	seen := map[any]bool{} // mapped error value or reflect.Type
	for _, r := range regs {
		for _, m := range r.Mappings() {
			var key any = m.Type
			switch {
			case m.Value != nil:
				key = m.Value
			case m.Func != nil:
				key = &m // a predicate is never shadowed
			}
			if seen[key] {
				continue // shadowed by a child registry's mapping
			}
			seen[key] = true
			i := add(m.Def)
			mapped[i] = append(mapped[i], scoped{0, mappedOf(m)})
		}
	}
	for ci, c := range children {
		for _, m := range c.reg.Mappings() {
			mm := mappedOf(m)
			mm.Registry = c.label
			i := add(m.Def)
			mapped[i] = append(mapped[i], scoped{1 + ci, mm})
		}
	}
	if cfg.mappings {
		for i, ms := range mapped {
			slices.SortStableFunc(ms, func(a, b scoped) int {
				return cmp.Or(cmp.Compare(a.scope, b.scope), compareMapped(a.m, b.m))
			})
			for _, s := range ms {
				cat.Entries[i].MappedFrom = append(cat.Entries[i].MappedFrom, s.m)
			}
		}
	}
	slices.SortFunc(cat.Entries, func(a, b Entry) int {
		return cmp.Or(cmp.Compare(a.Status, b.Status), strings.Compare(a.ID, b.ID))
	})
	if cfg.renderer != nil {
		for i := range cat.Entries {
			cat.Entries[i].Example, _ = render(cfg.renderer, cat.Entries[i])
		}
		body := describe(cfg.renderer, cat.Entries)
		cat.Body = &body
	}
	return cat
}

// scope is a descendant registry and its [Mapped.Registry] label.
type scope struct {
	reg   *errorsx.Registry
	label string
}

// descendants appends the descendants of r to out, depth first in creation
// order, labelled by their path from the catalogued registry ("1", "1.2").
func descendants(r *errorsx.Registry, path string, out []scope) []scope {
	for i, c := range r.Children() {
		p := strconv.Itoa(i + 1)
		if path != "" {
			p = path + "." + p
		}
		out = append(out, scope{reg: c, label: childLabelPrefix + p})
		out = descendants(c, p, out)
	}
	return out
}

func entryOf(d *errorsx.Def, baseURL string) Entry {
	e := Entry{
		ID:          d.ID(),
		Status:      d.Status(),
		Message:     d.Message(),
		Description: d.Description(),
		Builtin:     d.Builtin(),
		GRPCCode:    rpccode.Name(rpccode.ForStatus(d.Status())),
	}
	e.Type = typeOf(d.ID(), baseURL)
	for _, t := range d.Translations() {
		e.Translations = append(e.Translations, Translation{Lang: t.Tag.String(), Message: t.Message})
	}
	slices.SortFunc(e.Translations, func(a, b Translation) int { return strings.Compare(a.Lang, b.Lang) })
	return e
}

func typeOf(id, baseURL string) string {
	if baseURL != "" {
		return baseURL + id
	}
	return TypeURNPrefix + id
}

func mappedOf(m errorsx.Mapping) Mapped {
	if m.Value != nil {
		t := reflect.TypeOf(m.Value)
		return Mapped{Kind: KindValue, Type: t.String(), Package: pkgPath(t), Text: m.Value.Error()}
	}
	if m.Func != nil {
		return Mapped{Kind: KindFunc, Type: m.FuncName}
	}
	return Mapped{Kind: KindType, Type: m.Type.String(), Package: pkgPath(m.Type)}
}

func pkgPath(t reflect.Type) string {
	for t.Kind() == reflect.Pointer && t.Name() == "" {
		t = t.Elem()
	}
	return t.PkgPath()
}

// compareMapped orders values before types, then by type and text.
func compareMapped(a, b Mapped) int {
	return cmp.Or(
		-strings.Compare(a.Kind, b.Kind), // "value" before "type"
		strings.Compare(a.Package, b.Package),
		strings.Compare(a.Type, b.Type),
		strings.Compare(a.Text, b.Text),
	)
}

// Lookup returns the entry with id.
func (c *Catalog) Lookup(id string) (Entry, bool) {
	for _, e := range c.Entries {
		if e.ID == id {
			return e, true
		}
	}
	return Entry{}, false
}

// Statuses returns the distinct statuses of the entries, ascending.
func (c *Catalog) Statuses() []int {
	var out []int
	for _, e := range c.Entries {
		if n := len(out); n == 0 || out[n-1] != e.Status {
			out = append(out, e.Status)
		}
	}
	return out
}

// Languages returns the language tags used by any entry, sorted.
func (c *Catalog) Languages() []string {
	set := map[string]bool{}
	for _, e := range c.Entries {
		for _, t := range e.Translations {
			set[t.Lang] = true
		}
	}
	out := make([]string, 0, len(set))
	for l := range set {
		out = append(out, l)
	}
	slices.Sort(out)
	return out
}

// Missing is an entry that lacks some of the catalog's languages.
type Missing struct {
	// ID is the entry's id.
	ID string `json:"id"`
	// Languages are the tags present in some entry but not in this one.
	Languages []string `json:"languages"`
}

// MissingTranslations reports, for every entry defined by the service, the
// languages present in any entry but missing in this one. Built-in entries
// cannot carry translations and are not reported. The result is empty when
// every entry has every language, or when no entry has a translation.
func (c *Catalog) MissingTranslations() []Missing {
	langs := c.Languages()
	var out []Missing
	for _, e := range c.Entries {
		if e.Builtin {
			continue
		}
		var miss []string
		for _, l := range langs {
			if !slices.ContainsFunc(e.Translations, func(t Translation) bool { return t.Lang == l }) {
				miss = append(miss, l)
			}
		}
		if len(miss) > 0 {
			out = append(out, Missing{ID: e.ID, Languages: miss})
		}
	}
	return out
}

// statusText is http.StatusText with a fallback for unnamed codes.
func statusText(code int) string {
	if t := http.StatusText(code); t != "" {
		return t
	}
	return "HTTP " + strconv.Itoa(code)
}
