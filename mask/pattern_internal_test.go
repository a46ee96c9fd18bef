package mask

import "testing"

// TestCloudKeyFirst: the first bytes pattern looks for are those of the
// cloud key prefixes, so that no prefix is skipped.
func TestCloudKeyFirst(t *testing.T) {
	var want [256]bool
	for _, k := range cloudKeys {
		want[k.prefix[0]] = true
	}
	if want != cloudKeyFirst {
		t.Fatalf("cloudKeyFirst does not list the first bytes of cloudKeys")
	}
}

// FuzzPlainShort: a text plainShort lets through unscanned is one the
// full scan leaves as it is, under every pattern and the default keys.
func FuzzPlainShort(f *testing.F) {
	for _, s := range []string{"mallory", "203.0.113.7", "eyJhbGc.a.b", "4111111111111", "xoxb-1234567", "a.b-c_d", "token", "password"} {
		f.Add(s)
	}
	p := New(DefaultKeys()...)
	f.Fuzz(func(t *testing.T, s string) {
		if !plainShort(s) {
			return
		}
		if got := p.text(s); got != s {
			t.Fatalf("plainShort(%q) but the full scan masks it: %q", s, got)
		}
	})
}
