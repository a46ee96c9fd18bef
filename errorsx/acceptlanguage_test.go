package errorsx_test

import (
	"strings"
	"testing"

	"golang.org/x/text/language"

	"github.com/otelkit/otelkit/errorsx"
)

// TestLocalizedBoundedInput: Localized reads the whole entries within
// MaxAcceptLanguage bytes of a header, so a header of any size costs what
// a short one does and an entry cut at the bound does not spoil the ones
// before it (issue 12: never allocate unboundedly on large metadata).
func TestLocalizedBoundedInput(t *testing.T) {
	reg := errorsx.NewRegistry()
	def := reg.Define(404, "user.not-found", "No such user", errorsx.Translate("de", "Kein solcher Benutzer"))
	filler := func(n int) string { return strings.Repeat("en-gb;q=0.1,", n) } // 12 bytes an entry
	for _, tt := range []struct {
		name, header, want string
	}{
		{"short", "de", "Kein solcher Benutzer"},
		{"first entry of a long header", "de," + filler(100_000), "Kein solcher Benutzer"},
		{"entry cut at the bound is dropped", filler((errorsx.MaxAcceptLanguage-1)/12) + "de;q=0.5,en", "No such user"},
		{"no comma within the bound", strings.Repeat("a", 10_000), "No such user"},
	} {
		msg, _ := def.Localized(tt.header)
		if msg != tt.want {
			t.Errorf("%s: %q, want %q", tt.name, msg, tt.want)
		}
	}
	// The last whole entry within the bound still counts.
	h := filler(20) + "de" + strings.Repeat(" ", errorsx.MaxAcceptLanguage-242) + "," + filler(1000)
	if msg, tag := def.Localized(h); msg != "Kein solcher Benutzer" || tag != language.German {
		t.Errorf("entry ending at the bound: %q %v", msg, tag)
	}
	// 12 KB and 1.2 MB: the same entries are read of both.
	long, huge := "de,"+filler(1_000), "de,"+filler(100_000)
	a := testing.AllocsPerRun(20, func() { def.Localized(long) })
	b := testing.AllocsPerRun(20, func() { def.Localized(huge) })
	if b > a {
		t.Errorf("a 1.2 MB header costs %v allocations, a 12 KB one %v", b, a)
	}
}
