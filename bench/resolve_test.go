package bench_test

import (
	"errors"
	"fmt"
	"net/http"
	"reflect"
	"strconv"
	"testing"

	"github.com/otelkit/otelkit/errorsx"
)

// BaseErr is embedded as the first field of the error types made with
// reflect.StructOf: its value-receiver Error method is promoted, so every
// generated struct type implements error and is a distinct reflect.Type.
type BaseErr struct{ Msg string }

func (e BaseErr) Error() string { return e.Msg }

// TargetErr is the named error type the type-mapped chains end in.
type TargetErr struct{ Code int }

func (e *TargetErr) Error() string { return "target " + strconv.Itoa(e.Code) }

// errTarget is the mapped value the value-mapped chains end in.
var errTarget = errors.New("target value")

// distinctErrorTypes returns n distinct struct types implementing error:
// struct{ BaseErr; F<i> int }, made with reflect.StructOf (distinct field
// names make distinct types).
func distinctErrorTypes(n int) []reflect.Type {
	base := reflect.TypeFor[BaseErr]()
	out := make([]reflect.Type, n)
	for i := range out {
		out[i] = reflect.StructOf([]reflect.StructField{
			{Name: "BaseErr", Type: base, Anonymous: true},
			{Name: "F" + strconv.Itoa(i), Type: reflect.TypeFor[int]()},
		})
	}
	return out
}

// resolveRegistry returns a fresh registry with n mappings: n/2 error values
// (errors.New) with Registry.Map and n/2 error types with MapTypeOf (n/2-1
// generated struct types and *TargetErr), plus errTarget among the values.
func resolveRegistry(tb testing.TB, n int) (*errorsx.Registry, *errorsx.Def) {
	tb.Helper()
	reg := errorsx.NewRegistry()
	def := reg.Define(http.StatusNotFound, "bench.target", "Target not found")
	other := reg.Define(http.StatusConflict, "bench.other", "Other")
	half := n / 2
	reg.Map(errTarget, def)
	for i := 1; i < half; i++ {
		reg.Map(errors.New("value "+strconv.Itoa(i)), other)
	}
	reg.MapTypeOf(reflect.TypeFor[*TargetErr](), def)
	for _, t := range distinctErrorTypes(n - half - 1) {
		if !t.Implements(reflect.TypeFor[error]()) {
			tb.Fatalf("%v does not implement error", t)
		}
		reg.MapTypeOf(t, other)
	}
	if got := len(reg.Mappings()); got != n {
		tb.Fatalf("registry has %d mappings, want %d", got, n)
	}
	return reg, def
}

// chain wraps err three times with fmt.Errorf("%w").
func chain(err error) error {
	return fmt.Errorf("handler: %w", fmt.Errorf("service: %w", fmt.Errorf("store: %w", err)))
}

// BenchmarkResolve resolves a three-deep fmt.Errorf chain ending in a
// mapped value or a value of a mapped type, in registries of 10 to 10,000
// mappings (half values, half types). The target: 10,000 mappings cost at
// most 1.2x what 10 cost.
func BenchmarkResolve(b *testing.B) {
	targets := []struct {
		name string
		err  error
	}{
		{"value", chain(errTarget)},
		{"type", chain(&TargetErr{Code: 7})},
	}
	for _, tg := range targets {
		for _, n := range []int{10, 100, 1000, 10000} {
			b.Run("target="+tg.name+"/mappings="+strconv.Itoa(n), func(b *testing.B) {
				reg, def := resolveRegistry(b, n)
				if got := reg.Resolve(tg.err); got != def {
					b.Fatalf("Resolve = %v, want %v", got, def)
				}
				run(b, func() {
					if reg.Resolve(tg.err) != def {
						b.Fatal("wrong definition")
					}
				})
			})
		}
	}
}
