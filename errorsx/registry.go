package errorsx

import (
	"fmt"
	"hash/maphash"
	"net/http"
	"reflect"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"golang.org/x/text/language"
)

// Registry holds definitions and the mappings from existing errors to them.
// A Registry is safe for concurrent use: definitions and mappings may be
// added while other goroutines resolve.
//
// A registry may have a parent. Resolution and lookup consult the child
// first and the parent after it, which is how a group of routes overrides
// the mappings of the whole service.
type Registry struct {
	parent   *Registry
	children []*Registry // guarded by treeMu
	lang     language.Tag

	mu   sync.Mutex // serialises writers; readers never lock
	defs sync.Map   // id -> *Def
	vals sync.Map   // comparable error value -> *Def
	typs sync.Map   // reflect.Type (concrete) -> *Def

	nvals atomic.Int64
	isc   atomic.Pointer[isCache] // see lookupIs
	// filter is a Bloom-style bitset over the dynamic types that have a
	// mapping (a mapped value of the type, or the type itself): a clear bit
	// proves that an error of that type needs no lookup, so the links of a
	// wrap chain that are nobody's mapping (*fmt.wrapError) cost one hash
	// and one load whatever the number of mappings.
	filter [filterWords]atomic.Uint64
	ifaces atomic.Pointer[[]ifaceMapping] // copy-on-write, usually tiny
	funcs  atomic.Pointer[[]funcMapping]  // predicates, see MapFunc
	order  atomic.Pointer[[]*Def]         // definitions in definition order
	maps   atomic.Pointer[[]Mapping]      // mappings in registration order
}

type ifaceMapping struct {
	typ reflect.Type
	def *Def
}

type funcMapping struct {
	match func(error) bool
	def   *Def
}

// Mapping describes one registered mapping, for catalogs and tools.
type Mapping struct {
	// Value is the mapped error value (Map), or nil.
	Value error
	// Type is the mapped error type (MapType), or nil.
	Type reflect.Type
	// Func is the predicate (MapFunc), or nil; FuncName is its name as
	// the runtime knows it, e.g. "example.com/store.isClosed".
	Func     func(error) bool
	FuncName string
	// Def is the definition it resolves to.
	Def *Def
}

// RegistryOption configures a registry made by [NewRegistry].
type RegistryOption interface{ apply(*Registry) }

type registryOptionFunc func(*Registry)

func (f registryOptionFunc) apply(r *Registry) { f(r) }

// WithParent makes parent the registry consulted after the new one.
func WithParent(parent *Registry) RegistryOption {
	return registryOptionFunc(func(r *Registry) { r.parent = parent })
}

// WithDefaultLanguage sets the language of the default messages of the
// registry's definitions (a BCP 47 tag; English when not set, or the
// parent's). It panics when tag does not parse.
func WithDefaultLanguage(tag string) RegistryOption {
	t, err := language.Parse(tag)
	if err != nil {
		panic(fmt.Sprintf("errorsx: WithDefaultLanguage(%q): %v", tag, err))
	}
	return registryOptionFunc(func(r *Registry) { r.lang = t })
}

// language returns the default language of r's messages.
func (r *Registry) language() language.Tag {
	for p := r; p != nil; p = p.parent {
		if p.lang != language.Und {
			return p.lang
		}
	}
	return language.English
}

// NewRegistry returns an empty registry.
func NewRegistry(opts ...RegistryOption) *Registry {
	r := &Registry{}
	for _, o := range opts {
		o.apply(r)
	}
	if r.parent != nil {
		treeMu.Lock()
		r.parent.children = append(r.parent.children, r)
		treeMu.Unlock()
	}
	return r
}

// treeMu serialises definitions across a tree of registries, so that an id
// is unique in the whole tree whatever the order of definition, and guards
// the children lists. Definitions happen at start-up; resolution never
// takes it.
var treeMu sync.Mutex

// Children returns the registries made with r as their parent, in the
// order they were made; tools such as the catalog walk them.
func (r *Registry) Children() []*Registry {
	treeMu.Lock()
	defer treeMu.Unlock()
	return append([]*Registry(nil), r.children...)
}

// defined returns the definition of id anywhere in the tree under r.
func (r *Registry) defined(id string) (*Def, bool) {
	if d, ok := r.defs.Load(id); ok {
		return d.(*Def), true
	}
	for _, c := range r.children {
		if d, ok := c.defined(id); ok {
			return d, true
		}
	}
	return nil, false
}

var defaultRegistry = NewRegistry()

// Default returns the process-wide registry used by the package-level
// functions.
func Default() *Registry { return defaultRegistry }

// Parent returns the parent registry, or nil.
func (r *Registry) Parent() *Registry { return r.parent }

// Define registers a definition in r and returns it. It panics, naming the
// id, when the id is empty, uses characters outside [a-z0-9._-], is reserved,
// or is already defined anywhere in r's tree of registries (its parents,
// their other children, its own children), when the status is
// outside 400–599, or when the message is empty. Call it from package-level
// var declarations so that a bad definition stops the program at start-up.
func (r *Registry) Define(status int, id, message string, opts ...DefOption) *Def {
	d := newDef(status, id, message, r.language(), opts)
	treeMu.Lock()
	defer treeMu.Unlock()
	root := r
	for root.parent != nil {
		root = root.parent
	}
	if prev, ok := root.defined(id); ok {
		panic(fmt.Sprintf("errorsx: Define(%q): id already defined as %s", id, prev.String()))
	}
	r.defs.Store(id, d)
	appendCOW(&r.order, d)
	return d
}

// Map registers an existing error value: an error that is, or wraps, err
// (compared with ==, as errors.Is does) resolves to def. It panics when err
// or def is nil, when err is not comparable, or when err is already mapped
// to another definition in r.
func (r *Registry) Map(err error, def *Def) {
	if err == nil || def == nil {
		panic(fmt.Sprintf("errorsx: Map(%v, %v): nil error or definition", err, def))
	}
	if !reflect.TypeOf(err).Comparable() {
		panic(fmt.Sprintf("errorsx: Map(%q -> %q): %T is not comparable; map its type with MapType", err, def.id, err))
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if prev, ok := r.vals.Load(err); ok {
		if prev.(*Def) == def {
			return
		}
		panic(fmt.Sprintf("errorsx: Map(%q -> %q): already mapped to %q", err, def.id, prev.(*Def).id))
	}
	r.vals.Store(err, def)
	r.nvals.Add(1)
	r.isc.Store(nil) // a new value may change what an Is method matches
	r.markType(reflect.TypeOf(err))
	appendCOW(&r.maps, Mapping{Value: err, Def: def})
}

// MapTypeOf registers an error type given as a reflect.Type; see [MapType].
func (r *Registry) MapTypeOf(t reflect.Type, def *Def) {
	if t == nil || def == nil {
		panic("errorsx: MapType: nil type or definition")
	}
	errType := reflect.TypeFor[error]()
	if !t.Implements(errType) {
		panic(fmt.Sprintf("errorsx: MapType[%v](%q): type does not implement error", t, def.id))
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if t.Kind() == reflect.Interface {
		cur := r.ifaces.Load()
		var list []ifaceMapping
		if cur != nil {
			list = *cur
		}
		for _, m := range list {
			if m.typ == t {
				if m.def == def {
					return
				}
				panic(fmt.Sprintf("errorsx: MapType[%v](%q): already mapped to %q", t, def.id, m.def.id))
			}
		}
		next := append(append(make([]ifaceMapping, 0, len(list)+1), list...), ifaceMapping{t, def})
		r.ifaces.Store(&next)
	} else {
		if prev, ok := r.typs.Load(t); ok {
			if prev.(*Def) == def {
				return
			}
			panic(fmt.Sprintf("errorsx: MapType[%v](%q): already mapped to %q", t, def.id, prev.(*Def).id))
		}
		r.typs.Store(t, def)
		r.markType(t)
	}
	appendCOW(&r.maps, Mapping{Type: t, Def: def})
}

// MapFunc registers a predicate: an error for which match reports true
// resolves to def, for errors that have neither an exported value nor a
// type of their own (database/sql's "database is closed"). Predicates are
// the last resort: they are consulted, in registration order and child
// before parent, only when no link of the error's chain is a definition,
// an occurrence, a mapped value or a value of a mapped type, so resolving
// the errors mapped exactly never runs them. match is given the whole
// error (use errors.Is/errors.As inside it to look through wrapping) and
// must be safe for concurrent use. It panics when match or def is nil.
func (r *Registry) MapFunc(match func(error) bool, def *Def) {
	if match == nil || def == nil {
		panic("errorsx: MapFunc: nil predicate or definition")
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	appendCOW(&r.funcs, funcMapping{match: match, def: def})
	name := ""
	if f := runtime.FuncForPC(reflect.ValueOf(match).Pointer()); f != nil {
		name = f.Name()
	}
	appendCOW(&r.maps, Mapping{Func: match, FuncName: name, Def: def})
}

// MapTypeIn registers the error type T in r: an error that is, or wraps, a
// value of type T resolves to def. T may be an interface type (matched as
// errors.As does); concrete types are matched exactly and cost the same
// however many are registered.
func MapTypeIn[T error](r *Registry, def *Def) {
	r.MapTypeOf(reflect.TypeFor[T](), def)
}

// Lookup returns the definition with id from r, its parents, or the
// built-in ones.
func (r *Registry) Lookup(id string) (*Def, bool) {
	for p := r; p != nil; p = p.parent {
		if d, ok := p.defs.Load(id); ok {
			return d.(*Def), true
		}
	}
	if d := builtinByID(id); d != nil {
		return d, true
	}
	return nil, false
}

// Defs returns the definitions registered in r (not its parents), in
// definition order.
func (r *Registry) Defs() []*Def {
	if p := r.order.Load(); p != nil {
		return append([]*Def(nil), (*p)...)
	}
	return nil
}

// Mappings returns the mappings registered in r (not its parents), in
// registration order.
func (r *Registry) Mappings() []Mapping {
	if p := r.maps.Load(); p != nil {
		return append([]Mapping(nil), (*p)...)
	}
	return nil
}

// Match is the outcome of resolving an error.
type Match struct {
	// Def is the definition the error resolves to; never nil.
	Def *Def
	// Occurrence is the *Error found in the chain, when the match was an
	// occurrence; it carries detail, info and entries.
	Occurrence *Error
	// Matched is the error in the chain that resolved (nil when nothing
	// did and Def is Internal).
	Matched error
}

// Registered reports whether the error resolved to something other than
// the fallback.
func (m Match) Registered() bool { return m.Matched != nil }

// Resolve returns the definition err resolves to; see [Registry.Match].
// It is never nil: an unregistered error, and nil, resolve to [Internal].
func (r *Registry) Resolve(err error) *Def { return r.Match(err).Def }

// Match resolves err. It walks the wrap chain from the outermost error
// inwards (depth first through joined errors) and stops at the first error
// that is a *Def, an occurrence, a mapped value or a value of a mapped type,
// consulting r before its parents at each step. Of joined errors
// (errors.Join, fmt.Errorf with several %w) the first that resolves wins,
// unless another resolves to a 5xx: then the request failed, and the first
// 5xx wins. Only when nothing in the chain matched are the predicates of
// [Registry.MapFunc] asked. The cost does not grow with the number of
// registered definitions or concrete mappings, nor with the number of
// predicates for an error matched before them.
func (r *Registry) Match(err error) Match {
	if err == nil {
		return Match{Def: Internal}
	}
	if m, ok := r.match(err, 0); ok {
		return m
	}
	for p := r; p != nil; p = p.parent {
		if list := p.funcs.Load(); list != nil {
			for _, f := range *list {
				if f.match(err) {
					return Match{Def: f.def, Matched: err}
				}
			}
		}
	}
	return Match{Def: Internal}
}

const maxDepth = 100 // guards against cyclic Unwrap chains

func (r *Registry) match(err error, depth int) (Match, bool) {
	for err != nil && depth < maxDepth {
		switch e := err.(type) {
		case *Def:
			return Match{Def: e, Matched: e}, true
		case *Error:
			return Match{Def: e.def, Occurrence: e, Matched: e}, true
		}
		if d := r.lookupErr(err); d != nil {
			return Match{Def: d, Matched: err}, true
		}
		switch u := err.(type) {
		case interface{ Unwrap() error }:
			err = u.Unwrap()
		case interface{ Unwrap() []error }:
			// The first branch that resolves wins, unless a later one
			// resolves to a 5xx while it does not: when any of the joined
			// errors is a failure of the server, the request failed, and
			// its status and telemetry say so together (errors.Join of a
			// 4xx and a 5xx answers the 5xx). Unregistered branches do not
			// count: `fmt.Errorf("%w: %w", errBadInput, strconv.ErrSyntax)`
			// stays the 4xx with its cause.
			var first Match
			found := false
			for _, inner := range u.Unwrap() {
				m, ok := r.match(inner, depth+1)
				if !ok {
					continue
				}
				if m.Def.Status() >= 500 {
					return m, true
				}
				if !found {
					first, found = m, true
				}
			}
			return first, found
		default:
			return Match{}, false
		}
		depth++
	}
	return Match{}, false
}

// lookupErr finds a mapping for one error of a chain, child before parent.
func (r *Registry) lookupErr(err error) *Def {
	t := reflect.TypeOf(err)
	comparable := t.Comparable()
	isser, hasIs := err.(interface{ Is(error) bool })
	word, bit := filterBit(t)
	for p := r; p != nil; p = p.parent {
		if p.filter[word].Load()&bit == 0 && !hasIs {
			// No value or type mapping for t in p; only interface
			// mappings may still match.
			if list := p.ifaces.Load(); list != nil {
				for _, m := range *list {
					if t.Implements(m.typ) {
						return m.def
					}
				}
			}
			continue
		}
		if p.nvals.Load() > 0 {
			if comparable {
				if d := loadValue(&p.vals, err); d != nil {
					return d
				}
			}
			if hasIs {
				if d := p.lookupIs(err, isser, comparable); d != nil {
					return d
				}
			}
		}
		if d, ok := p.typs.Load(t); ok {
			return d.(*Def)
		}
		if list := p.ifaces.Load(); list != nil {
			for _, m := range *list {
				if t.Implements(m.typ) {
					return m.def
				}
			}
		}
	}
	return nil
}

// loadValue looks err up among the mapped values. A value of a comparable
// type may still hold an uncomparable one (a struct with an error field
// holding a slice type), which cannot be hashed: such a value is mapped to
// nothing rather than panicking while an error is being handled.
// isCache remembers, per error value, what a scan of the mapped values for
// an error with an Is method found, so that syscall.ECONNREFUSED and its
// kind pay for the scan once rather than on every resolution.
type isCache struct {
	m sync.Map // comparable error value -> *Def (nil: no mapping)
	n atomic.Int32
}

// maxIsCache bounds the cache: errors with Is methods and many distinct
// values (a message field) fall back to the scan past it.
const maxIsCache = 1024

// lookupIs finds a mapped value that err declares itself equivalent to
// through its Is method (syscall.Errno and fs.ErrNotExist).
func (r *Registry) lookupIs(err error, isser interface{ Is(error) bool }, comparable bool) *Def {
	n0 := r.nvals.Load()
	c := r.isc.Load()
	if c != nil && comparable {
		if v, ok := loadAny(&c.m, err); ok {
			return v.(*Def)
		}
	}
	var found *Def
	r.vals.Range(func(k, v any) bool {
		if isser.Is(k.(error)) {
			found = v.(*Def)
			return false
		}
		return true
	})
	if comparable && r.nvals.Load() == n0 { // no Map raced the scan
		if c == nil {
			r.isc.CompareAndSwap(nil, new(isCache))
			c = r.isc.Load()
		}
		if c != nil && c.n.Load() < maxIsCache && storeAny(&c.m, err, found) {
			c.n.Add(1)
		}
	}
	return found
}

// loadAny and storeAny use err as a sync.Map key, treating a value that
// cannot be hashed (a comparable type holding an uncomparable value) as a
// miss.
func loadAny(m *sync.Map, err error) (v any, ok bool) {
	defer func() {
		if recover() != nil {
			v, ok = nil, false
		}
	}()
	return m.Load(err)
}

func storeAny(m *sync.Map, err error, d *Def) (ok bool) {
	defer func() {
		if recover() != nil {
			ok = false
		}
	}()
	_, loaded := m.LoadOrStore(err, d)
	return !loaded
}

func loadValue(vals *sync.Map, err error) (d *Def) {
	defer func() {
		if recover() != nil {
			d = nil
		}
	}()
	if v, ok := vals.Load(err); ok {
		return v.(*Def)
	}
	return nil
}

// appendCOW publishes cur+v. Writers hold r.mu, so appending in place into
// spare capacity is safe: readers only see elements below the length they
// loaded, and those are never written again. Growth is amortised, so
// registering n mappings costs O(n), not O(n²).
func appendCOW[T any](p *atomic.Pointer[[]T], v T) {
	var cur []T
	if c := p.Load(); c != nil {
		cur = *c
	}
	next := append(cur, v)
	p.Store(&next)
}

// Package-level functions act on the default registry.

// Define registers a definition in the default registry; see
// [Registry.Define].
func Define(status int, id, message string, opts ...DefOption) *Def {
	return defaultRegistry.Define(status, id, message, opts...)
}

// Map registers an error value in the default registry; see [Registry.Map].
func Map(err error, def *Def) { defaultRegistry.Map(err, def) }

// MapFunc registers a predicate in the default registry; see
// [Registry.MapFunc].
func MapFunc(match func(error) bool, def *Def) { defaultRegistry.MapFunc(match, def) }

// MapType registers the error type T in the default registry; see
// [MapTypeIn].
func MapType[T error](def *Def) { MapTypeIn[T](defaultRegistry, def) }

// Resolve resolves err with the default registry; see [Registry.Resolve].
func Resolve(err error) *Def { return defaultRegistry.Resolve(err) }

// Lookup finds a definition by id in the default registry; see
// [Registry.Lookup].
func Lookup(id string) (*Def, bool) { return defaultRegistry.Lookup(id) }

// Generic definitions of ForStatus, made on first use.
var statusDefs [200]atomic.Pointer[Def]

// statusDef returns the generic definition of a 4xx or 5xx status: id
// "http.<status>" and the status text as message. 404, 405 and 500 (and any
// status outside 400–599) use the built-in definitions, so that one id
// never names two definitions.
func statusDef(status int) *Def {
	switch {
	case status < 400 || status > 599 || status == http.StatusInternalServerError:
		return Internal
	case status == http.StatusNotFound:
		return NotFound
	case status == http.StatusMethodNotAllowed:
		return MethodNotAllowed
	}
	slot := &statusDefs[status-400]
	if d := slot.Load(); d != nil {
		return d
	}
	text := http.StatusText(status)
	if text == "" {
		text = fmt.Sprintf("HTTP %d", status)
	}
	id := "http." + strconv.Itoa(status)
	slot.CompareAndSwap(nil, &Def{status: status, id: id, message: text, builtin: true})
	return slot.Load()
}

// statusFromID returns the status of a generic id "http.<status>", or 0.
func statusFromID(id string) int {
	rest, ok := strings.CutPrefix(id, "http.")
	if !ok || len(rest) != 3 {
		return 0
	}
	n, err := strconv.Atoi(rest)
	if err != nil || n < 400 || n > 599 {
		return 0
	}
	return n
}

const filterWords = 1024 // 65,536 bits: 8 KiB per registry

var filterSeed = maphash.MakeSeed()

func filterBit(t reflect.Type) (int, uint64) {
	h := maphash.Comparable(filterSeed, t)
	return int(h % filterWords), 1 << (h >> 58)
}

// markType sets the filter bit of t.
func (r *Registry) markType(t reflect.Type) {
	w, b := filterBit(t)
	r.filter[w].Or(b)
}
