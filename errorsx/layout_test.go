package errorsx

import (
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
