package errorsx_test

import (
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"os"
	"reflect"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/otelkit/otelkit/errorsx"
)

// multiErr is a joined error of its own type (Unwrap() []error).
type multiErr []error

func (m multiErr) Error() string   { return fmt.Sprint([]error(m)) }
func (m multiErr) Unwrap() []error { return m }

// codeErr is a comparable error type whose values are mapped by value.
type codeErr int

func (c codeErr) Error() string { return "code " + strconv.Itoa(int(c)) }

// tempErr is a concrete type implementing an interface that is mapped.
type tempErr struct{}

func (tempErr) Error() string   { return "temporary" }
func (tempErr) Retryable() bool { return true }

type temporary interface {
	error
	Retryable() bool
}

func TestResolve(t *testing.T) {
	parent := errorsx.NewRegistry()
	notFound := parent.Define(http.StatusNotFound, "res.not-found", "Not found")
	badJSON := parent.Define(http.StatusBadRequest, "res.bad-json", "Bad JSON")
	gone := parent.Define(http.StatusGone, "res.gone", "Gone")
	noFile := parent.Define(http.StatusNotFound, "res.no-file", "No such file")
	temp := parent.Define(http.StatusServiceUnavailable, "res.temporary", "Try again")
	eof := parent.Define(http.StatusBadRequest, "res.eof", "Truncated body")
	outer := parent.Define(http.StatusConflict, "res.outer", "Outer")
	code := parent.Define(http.StatusTeapot, "res.code", "Code 7")
	parent.Map(sql.ErrNoRows, notFound)
	parent.Map(fs.ErrNotExist, noFile)
	parent.Map(io.ErrUnexpectedEOF, eof)
	parent.Map(codeErr(7), code)
	errorsx.MapTypeIn[*json.SyntaxError](parent, badJSON)
	errorsx.MapTypeIn[temporary](parent, temp)

	child := errorsx.NewRegistry(errorsx.WithParent(parent))
	childNotFound := child.Define(http.StatusNotFound, "res.child-not-found", "Not found here")
	childBadJSON := child.Define(http.StatusUnprocessableEntity, "res.child-bad-json", "Bad JSON here")
	child.Map(sql.ErrNoRows, childNotFound)
	errorsx.MapTypeIn[*json.SyntaxError](child, childBadJSON)

	var syntaxErr *json.SyntaxError
	require.Error(t, json.Unmarshal([]byte("{"), new(any)))
	syntaxErr = json.Unmarshal([]byte("{x"), new(any)).(*json.SyntaxError)
	pathErr := &fs.PathError{Op: "open", Path: "/nope", Err: syscall.ENOENT}
	_, osErr := os.Open("/definitely/not/here")

	tests := []struct {
		name string
		reg  *errorsx.Registry
		err  error
		want *errorsx.Def
	}{
		{"nil", parent, nil, errorsx.Internal},
		{"unregistered", parent, errors.New("boom"), errorsx.Internal},
		{"unregistered wrapped", parent, fmt.Errorf("a: %w", errors.New("boom")), errorsx.Internal},
		{"mapped value", parent, sql.ErrNoRows, notFound},
		{"mapped value wrapped", parent, fmt.Errorf("a: %w", fmt.Errorf("b: %w", sql.ErrNoRows)), notFound},
		{"mapped comparable value", parent, fmt.Errorf("a: %w", codeErr(7)), code},
		{"other value of mapped value's type", parent, codeErr(8), errorsx.Internal},
		{"mapped concrete type", parent, syntaxErr, badJSON},
		{"mapped concrete type wrapped", parent, fmt.Errorf("decode: %w", syntaxErr), badJSON},
		{"mapped interface type", parent, fmt.Errorf("dial: %w", tempErr{}), temp},
		{"Is-equivalence (PathError wraps ENOENT)", parent, pathErr, noFile},
		{"Is-equivalence from os.Open", parent, osErr, noFile},
		{"Is-equivalence, wrapped", parent, fmt.Errorf("load: %w", pathErr), noFile},
		{"unmapped errno", parent, syscall.EPERM, errorsx.Internal},
		{"def in chain", parent, fmt.Errorf("x: %w", gone), gone},
		{"outermost first", parent, fmt.Errorf("x: %w", outer.Wrap(sql.ErrNoRows)), outer},
		{"occurrence beats mapping of its cause", parent, notFound.Wrap(io.ErrUnexpectedEOF), notFound},
		{"mapped value outside a mapped type", parent, fmt.Errorf("%w: %w", io.ErrUnexpectedEOF, syntaxErr), eof},
		{"errors.Join first registered entry", parent, errors.Join(errors.New("x"), sql.ErrNoRows, syntaxErr), notFound},
		{"errors.Join nested", parent, fmt.Errorf("w: %w", errors.Join(errors.New("x"), fmt.Errorf("y: %w", syntaxErr))), badJSON},
		{"own Unwrap []error", parent, multiErr{errors.New("x"), gone}, gone},
		{"joined, nothing registered", parent, errors.Join(errors.New("x"), errors.New("y")), errorsx.Internal},
		{"child mapping before parent", child, sql.ErrNoRows, childNotFound},
		{"child type before parent", child, fmt.Errorf("d: %w", syntaxErr), childBadJSON},
		{"parent mapping when child has none", child, fmt.Errorf("x: %w", osErr), noFile},
		{"parent def in child", child, gone, gone},
		{"child before parent per element, outermost first", child,
			fmt.Errorf("%w", multiErr{io.ErrUnexpectedEOF, sql.ErrNoRows}), eof},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := tt.reg.Resolve(tt.err)
			require.NotNil(t, got)
			assert.Equal(t, tt.want.ID(), got.ID())
			assert.Same(t, tt.want, got)
		})
	}
}

func TestMatch(t *testing.T) {
	r := errorsx.NewRegistry()
	d := r.Define(http.StatusBadRequest, "match.bad", "Bad")
	r.Map(io.ErrUnexpectedEOF, d)

	occ := d.With("k", "v")
	m := r.Match(fmt.Errorf("x: %w", occ))
	assert.Same(t, d, m.Def)
	assert.Same(t, occ, m.Occurrence)
	assert.Same(t, occ, m.Matched)
	assert.True(t, m.Registered())

	wrapped := fmt.Errorf("x: %w", io.ErrUnexpectedEOF)
	m = r.Match(wrapped)
	assert.Same(t, d, m.Def)
	assert.Nil(t, m.Occurrence)
	assert.Equal(t, io.ErrUnexpectedEOF, m.Matched)

	m = r.Match(errors.New("x"))
	assert.Same(t, errorsx.Internal, m.Def)
	assert.False(t, m.Registered())
	assert.False(t, r.Match(nil).Registered())
}

// cyclic unwraps to itself forever.
type cyclic struct{}

func (c *cyclic) Error() string { return "cyclic" }
func (c *cyclic) Unwrap() error { return c }

func TestResolveCyclicChainTerminates(t *testing.T) {
	assert.Same(t, errorsx.Internal, errorsx.NewRegistry().Resolve(&cyclic{}))
}

// uncomparable is an error type that cannot be used as a map key.
type uncomparable []string

func (u uncomparable) Error() string { return "uncomparable" }

// holder is comparable as a type, but holds an uncomparable value.
type holder struct{ err error }

func (h holder) Error() string { return "holder" }
func (h holder) Unwrap() error { return h.err }

func TestResolveUncomparable(t *testing.T) {
	r := errorsx.NewRegistry()
	d := r.Define(http.StatusBadRequest, "unc.bad", "Bad")
	r.Map(io.EOF, d)
	assert.Same(t, d, r.Resolve(fmt.Errorf("%w: %w", uncomparable{"a"}, io.EOF)))
	assert.Same(t, d, r.Resolve(holder{err: fmt.Errorf("x: %w", io.EOF)}))
	assert.NotPanics(t, func() { r.Resolve(holder{err: uncomparable{"a"}}) })
	assert.Same(t, errorsx.Internal, r.Resolve(holder{err: uncomparable{"a"}}))
	assert.Panics(t, func() { r.Map(uncomparable{"a"}, d) }, "Map of an uncomparable value")
}

func TestMapValidation(t *testing.T) {
	r := errorsx.NewRegistry()
	d := r.Define(http.StatusBadRequest, "mv.a", "A")
	e := r.Define(http.StatusBadRequest, "mv.b", "B")
	r.Map(io.EOF, d)
	assert.NotPanics(t, func() { r.Map(io.EOF, d) }, "same mapping again is a no-op")
	tests := []struct {
		name string
		f    func()
		want string
	}{
		{"value to another def", func() { r.Map(io.EOF, e) }, `already mapped to "mv.a"`},
		{"nil error", func() { r.Map(nil, d) }, "nil"},
		{"nil def", func() { r.Map(io.EOF, nil) }, "nil"},
		{"type to another def", func() {
			errorsx.MapTypeIn[*net.OpError](r, d)
			errorsx.MapTypeIn[*net.OpError](r, e)
		}, `already mapped to "mv.a"`},
		{"interface to another def", func() {
			errorsx.MapTypeIn[net.Error](r, d)
			errorsx.MapTypeIn[net.Error](r, e)
		}, `already mapped to "mv.a"`},
		{"non-error type", func() { r.MapTypeOf(reflect.TypeFor[int](), d) }, "does not implement error"},
		{"nil type", func() { r.MapTypeOf(nil, d) }, "nil"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Contains(t, panicText(tt.f), tt.want)
		})
	}
	maps := r.Mappings()
	require.Len(t, maps, 3)
	assert.Equal(t, io.EOF, maps[0].Value)
	assert.Equal(t, reflect.TypeFor[*net.OpError](), maps[1].Type)
	assert.Equal(t, reflect.TypeFor[net.Error](), maps[2].Type)
}

func TestLookup(t *testing.T) {
	parent := errorsx.NewRegistry()
	p := parent.Define(http.StatusConflict, "lk.parent", "Parent")
	child := errorsx.NewRegistry(errorsx.WithParent(parent))
	c := child.Define(http.StatusConflict, "lk.child", "Child")
	assert.Same(t, parent, child.Parent())

	tests := []struct {
		id   string
		want *errorsx.Def
	}{
		{"lk.child", c},
		{"lk.parent", p},
		{"internal", errorsx.Internal},
		{"not-found", errorsx.NotFound},
		{"method-not-allowed", errorsx.MethodNotAllowed},
		{"http.429", errorsx.ForStatus(429)},
		{"lk.missing", nil},
		{"http.200", nil},
		{"http.4xx", nil},
	}
	for _, tt := range tests {
		t.Run(tt.id, func(t *testing.T) {
			got, ok := child.Lookup(tt.id)
			assert.Equal(t, tt.want != nil, ok)
			assert.Same(t, tt.want, got)
		})
	}
	_, ok := parent.Lookup("lk.child")
	assert.False(t, ok, "a parent does not see its children")
	assert.Len(t, child.Defs(), 1, "Defs lists only the registry's own")
}

func TestConcurrentDefineMapResolve(t *testing.T) {
	parent := errorsx.NewRegistry()
	base := parent.Define(http.StatusBadRequest, "cc.base", "Base")
	parent.Map(io.EOF, base)
	child := errorsx.NewRegistry(errorsx.WithParent(parent))

	const workers = 8
	const per = 50
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := range per {
				reg := parent
				if i%2 == 0 {
					reg = child
				}
				d := reg.Define(http.StatusConflict, fmt.Sprintf("cc.%d.%d", w, i), "Concurrent")
				reg.Map(codeErr(w*1000+i), d)
				errorsx.MapTypeIn[*json.SyntaxError](child, base)
				assert.Same(t, d, child.Resolve(fmt.Errorf("x: %w", codeErr(w*1000+i))))
				assert.Same(t, base, child.Resolve(fmt.Errorf("x: %w", io.EOF)))
				got, ok := child.Lookup(d.ID())
				assert.True(t, ok)
				assert.Same(t, d, got)
				_ = parent.Defs()
				_ = child.Mappings()
			}
		})
	}
	// Defining the same id from many goroutines: exactly one wins.
	var wins sync.Map
	for w := range workers {
		wg.Go(func() {
			if panicText(func() { child.Define(http.StatusConflict, "cc.race", "Race") }) == "" {
				wins.Store(w, true)
			}
		})
	}
	wg.Wait()
	n := 0
	wins.Range(func(any, any) bool { n++; return true })
	assert.Equal(t, 1, n)
	assert.Len(t, parent.Defs(), 1+workers*per/2)
	assert.Len(t, child.Defs(), workers*per/2+1)
}

// countingErr is an error whose Is method declares itself equivalent to
// errEquivalent and counts how often it is asked.
type countingErr struct{ code int }

var (
	errEquivalent = errors.New("equivalent")
	isCalls       atomic.Int64
)

func (e countingErr) Error() string { return fmt.Sprintf("code %d", e.code) }
func (e countingErr) Is(target error) bool {
	isCalls.Add(1)
	return target == errEquivalent
}

// TestIsMethodResolutionIsCached: an error with an Is method (as
// syscall.Errno has) is compared with the mapped values once; later
// resolutions of the same value cost no scan, however many values are
// mapped, and a new mapping is seen.
func TestIsMethodResolutionIsCached(t *testing.T) {
	r := errorsx.NewRegistry()
	d := r.Define(http.StatusConflict, "is.equivalent", "Equivalent")
	for i := 0; i < 1000; i++ {
		r.Map(fmt.Errorf("filler %d", i), d)
	}
	err := fmt.Errorf("op: %w", countingErr{code: 1})
	assert.Equal(t, errorsx.Internal, r.Resolve(err), "nothing equivalent yet")
	r.Map(errEquivalent, d)
	assert.Equal(t, d, r.Resolve(err), "a new mapping clears the cache")
	before := isCalls.Load()
	for i := 0; i < 100; i++ {
		require.Equal(t, d, r.Resolve(err))
	}
	assert.Zero(t, isCalls.Load()-before, "cached: no Is calls")

	// The real case: syscall.ENOENT is fs.ErrNotExist by its Is method.
	r.Map(fs.ErrNotExist, d)
	assert.Equal(t, d, r.Resolve(&fs.PathError{Op: "open", Path: "/x", Err: syscall.ENOENT}))
}

// TestResolveJoinedFailure: of joined errors the first that resolves wins,
// unless another resolves to a 5xx: a request with any failure failed
// (issue 18, item 15). Unregistered branches do not make a 4xx a failure.
func TestResolveJoinedFailure(t *testing.T) {
	reg := errorsx.NewRegistry()
	bad := reg.Define(http.StatusBadRequest, "jf.bad", "Bad")
	gone := reg.Define(http.StatusGone, "jf.gone", "Gone")
	down := reg.Define(http.StatusServiceUnavailable, "jf.down", "Down")
	broken := reg.Define(http.StatusBadGateway, "jf.broken", "Broken")
	sentinel := errors.New("jf sentinel")
	reg.Map(sentinel, down)
	tests := []struct {
		name string
		err  error
		want *errorsx.Def
	}{
		{"4xx then 5xx", errors.Join(bad, down), down},
		{"5xx then 4xx", errors.Join(down, bad), down},
		{"two 4xx: the first", errors.Join(gone, bad), gone},
		{"two 5xx: the first", errors.Join(broken, down), broken},
		{"4xx and a mapped 5xx deeper", errors.Join(bad, fmt.Errorf("db: %w", sentinel)), down},
		{"4xx with an unregistered cause stays 4xx", fmt.Errorf("%w: %w", bad, strconv.ErrSyntax), bad},
		{"nested join", errors.Join(gone, errors.Join(bad, broken)), broken},
		{"occurrences", errors.Join(bad.With("field", "x"), down.Wrap(errors.New("refused"))), down},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := reg.Match(tt.err)
			assert.Same(t, tt.want, m.Def)
		})
	}
}
