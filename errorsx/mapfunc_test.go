package errorsx_test

import (
	"database/sql"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/otelkit/otelkit/errorsx"
)

// errClosed stands for database/sql's unexported "database is closed"
// value: no exported value, no type of its own.
var errClosed = errors.New("sql: database is closed")

func isClosed(err error) bool { return errors.Is(err, errClosed) }

func TestMapFunc(t *testing.T) {
	r := errorsx.NewRegistry()
	closed := r.Define(http.StatusServiceUnavailable, "mf.closed", "The store is closed")
	noRows := r.Define(http.StatusNotFound, "mf.no-rows", "Not found")
	r.Map(sql.ErrNoRows, noRows)
	var calls atomic.Int32
	r.MapFunc(func(err error) bool { calls.Add(1); return isClosed(err) }, closed)

	wrapped := fmt.Errorf("store: %w", errClosed)
	m := r.Match(wrapped)
	assert.Same(t, closed, m.Def)
	assert.Same(t, wrapped, m.Matched)
	assert.True(t, m.Registered())
	assert.EqualValues(t, 1, calls.Load())

	calls.Store(0)
	assert.Same(t, noRows, r.Resolve(fmt.Errorf("x: %w", sql.ErrNoRows)))
	assert.Same(t, noRows, r.Resolve(errors.Join(errClosed, sql.ErrNoRows)),
		"an exact mapping anywhere in the chain wins over a predicate")
	assert.Same(t, errorsx.Internal, r.Resolve(errors.New("other")))
	assert.EqualValues(t, 1, calls.Load(), "predicates run only when nothing matched exactly")

	t.Run("child before parent, registration order", func(t *testing.T) {
		child := errorsx.NewRegistry(errorsx.WithParent(r))
		childDef := child.Define(http.StatusGone, "mf.child-closed", "Gone")
		child.MapFunc(isClosed, childDef)
		child.MapFunc(isClosed, noRows) // later: never reached
		assert.Same(t, childDef, child.Resolve(wrapped))
		assert.Same(t, closed, r.Resolve(wrapped))
	})
	t.Run("mappings list it", func(t *testing.T) {
		ms := r.Mappings()
		last := ms[len(ms)-1]
		assert.Same(t, closed, last.Def)
		assert.NotNil(t, last.Func)
		assert.True(t, strings.HasPrefix(last.FuncName, "github.com/otelkit/otelkit/errorsx_test.TestMapFunc"), last.FuncName)
	})
	t.Run("package level", func(t *testing.T) {
		assert.Panics(t, func() { errorsx.MapFunc(nil, closed) })
		assert.Panics(t, func() { r.MapFunc(isClosed, nil) })
	})
}

// TestMapFuncAllocs: predicates do not cost exactly mapped errors an
// allocation, and a predicate match allocates nothing either.
func TestMapFuncAllocs(t *testing.T) {
	if testing.CoverMode() != "" {
		t.Skip("coverage instrumentation changes allocation counts")
	}
	r, closed, noRows := predicateRegistry(1000)
	mapped := fmt.Errorf("a: %w", fmt.Errorf("b: %w", sql.ErrNoRows))
	viaFunc := fmt.Errorf("a: %w", fmt.Errorf("b: %w", errClosed))
	require.Same(t, noRows, r.Resolve(mapped))
	require.Same(t, closed, r.Resolve(viaFunc))
	assert.Zero(t, testing.AllocsPerRun(200, func() { _ = r.Resolve(mapped) }))
	assert.Zero(t, testing.AllocsPerRun(200, func() { _ = r.Resolve(viaFunc) }))
}

// predicateRegistry has n predicates that never match, then isClosed.
func predicateRegistry(n int) (r *errorsx.Registry, closed, noRows *errorsx.Def) {
	r = errorsx.NewRegistry()
	closed = r.Define(http.StatusServiceUnavailable, "mfb.closed", "The store is closed")
	noRows = r.Define(http.StatusNotFound, "mfb.no-rows", "Not found")
	r.Map(sql.ErrNoRows, noRows)
	for i := range n {
		var target error = codeErr(i)
		r.MapFunc(func(err error) bool { return err == target }, noRows)
	}
	r.MapFunc(isClosed, closed)
	return r, closed, noRows
}

// BenchmarkMapFunc: resolving an exactly mapped error costs the same with
// 0 or 1,000 predicates registered (they are not consulted); an error only
// a predicate matches costs in proportion to the predicates before it.
//
//	go test ./errorsx -run '^$' -bench MapFunc -benchmem
func BenchmarkMapFunc(b *testing.B) {
	for _, n := range []int{0, 1000} {
		r, _, _ := predicateRegistry(n)
		mapped := fmt.Errorf("a: %w", fmt.Errorf("b: %w", sql.ErrNoRows))
		viaFunc := fmt.Errorf("a: %w", fmt.Errorf("b: %w", errClosed))
		b.Run(fmt.Sprintf("exact/predicates=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				_ = r.Resolve(mapped)
			}
		})
		b.Run(fmt.Sprintf("predicate/predicates=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				_ = r.Resolve(viaFunc)
			}
		})
	}
}
