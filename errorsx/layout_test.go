package errorsx

import (
	"reflect"
	"testing"
	"unsafe"
)

// TestErrorLayout pins the size of an occurrence: d.With and a 4xx d.Wrap
// allocate one Error, which fits the 48-byte size class (it was 144 B
// before the rare fields moved out, 64 B before the cause shared the
// inline field's place). A field added to Error is a conscious decision:
// put what most occurrences do not carry in rare.
func TestErrorLayout(t *testing.T) {
	if got := unsafe.Sizeof(Error{}); got != 48 {
		t.Errorf("unsafe.Sizeof(Error{}) = %d, want 48 (size class 48)", got)
	}
	// An occurrence with a detail, entries, a stack, 2+ info fields or a
	// cause and one field: one allocation of 160 B (the Error and its
	// rare part).
	if got := unsafe.Sizeof(errorWithRare{}); got != 152 {
		t.Errorf("unsafe.Sizeof(errorWithRare{}) = %d, want 152 (size class 160)", got)
	}
}

// TestDefWithAsErrorWith: Def.With's inline fast path makes the same
// occurrence as Error.With on an occurrence without info or cause.
func TestDefWithAsErrorWith(t *testing.T) {
	r := NewRegistry()
	for _, d := range []*Def{
		r.Define(429, "test.limited", "Too many"),
		r.Define(503, "test.down", "Down"),
	} {
		for _, key := range []string{"retry_after", ""} {
			for _, v := range []any{30, "x", nil} {
				got, want := d.With(key, v), (&Error{def: d}).With(key, v)
				if got.def != want.def || got.one != want.one || (got.rare == nil) != (want.rare == nil) {
					t.Errorf("%s.With(%q, %v) = %+v, want %+v", d.ID(), key, v, *got, *want)
				}
				if !reflect.DeepEqual(got.Info(), want.Info()) {
					t.Errorf("%s.With(%q, %v).Info() = %v, want %v", d.ID(), key, v, got.Info(), want.Info())
				}
			}
		}
	}
}
