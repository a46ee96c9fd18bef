package errorsx_test

import (
	"database/sql"
	"errors"
	"fmt"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/otelkit/otelkit/errorsx"
)

// TestResolveAllocs pins the cost of resolution: no allocation on a 3-deep
// fmt.Errorf chain, however many mappings are registered.
func TestResolveAllocs(t *testing.T) {
	if testing.CoverMode() != "" {
		t.Skip("coverage instrumentation changes allocation counts")
	}
	for _, n := range []int{10, 10_000} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			r := errorsx.NewRegistry()
			d := r.Define(http.StatusNotFound, "alloc.not-found", "Not found")
			for i := range n {
				r.Map(codeErr(i), d)
			}
			r.Map(sql.ErrNoRows, d)
			child := errorsx.NewRegistry(errorsx.WithParent(r))

			mapped := fmt.Errorf("a: %w", fmt.Errorf("b: %w", fmt.Errorf("c: %w", sql.ErrNoRows)))
			unregistered := fmt.Errorf("a: %w", fmt.Errorf("b: %w", fmt.Errorf("c: %w", errors.New("x"))))
			occurrence := fmt.Errorf("a: %w", fmt.Errorf("b: %w", fmt.Errorf("c: %w", d.With("k", 1))))

			tests := []struct {
				name string
				reg  *errorsx.Registry
				err  error
				want *errorsx.Def
			}{
				{"mapped value", r, mapped, d},
				{"mapped value via child", child, mapped, d},
				{"unregistered", r, unregistered, errorsx.Internal},
				{"occurrence", r, occurrence, d},
			}
			for _, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					require.Same(t, tt.want, tt.reg.Resolve(tt.err))
					allocs := testing.AllocsPerRun(200, func() { _ = tt.reg.Resolve(tt.err) })
					assert.Zero(t, allocs)
				})
			}
		})
	}
}

func BenchmarkResolve(b *testing.B) {
	for _, n := range []int{10, 10_000} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			r := errorsx.NewRegistry()
			d := r.Define(http.StatusNotFound, "bench.not-found", "Not found")
			for i := range n {
				r.Map(codeErr(i), d)
			}
			r.Map(sql.ErrNoRows, d)
			err := fmt.Errorf("a: %w", fmt.Errorf("b: %w", fmt.Errorf("c: %w", sql.ErrNoRows)))
			b.ReportAllocs()
			for b.Loop() {
				_ = r.Resolve(err)
			}
		})
	}
}
