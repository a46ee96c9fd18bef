package stacktext

import (
	"strings"
	"testing"
)

const three = "a.F()\n\t/a/f.go:1\nb.G()\n\t/b/g.go:2\nc.H()\n\t/c/h.go:3\n"

func TestTruncate(t *testing.T) {
	tests := []struct {
		n    Limit
		want string
	}{
		{All, three},
		{-5, three},
		{0, ""},
		{1, "a.F()\n\t/a/f.go:1\n" + Elided},
		{2, "a.F()\n\t/a/f.go:1\nb.G()\n\t/b/g.go:2\n" + Elided},
		{3, three},
		{10, three},
	}
	for _, tt := range tests {
		if got := Truncate(three, tt.n); got != tt.want {
			t.Errorf("Truncate(%d) = %q, want %q", tt.n, got, tt.want)
		}
	}
	header := "goroutine 1 [running]:\n"
	if got, want := Truncate(header+three, 1), header+"a.F()\n\t/a/f.go:1\n"+Elided; got != want {
		t.Errorf("with a goroutine header: %q, want %q", got, want)
	}
	if got := Truncate("", 2); got != "" {
		t.Errorf("empty stack: %q", got)
	}
	noNewline := strings.TrimSuffix(three, "\n")
	if got := Truncate(noNewline, 3); got != noNewline {
		t.Errorf("a stack without its last newline: %q", got)
	}
}

func FuzzTruncate(f *testing.F) {
	f.Add(three, 1)
	f.Add("x\n\ty\n", 0)
	f.Fuzz(func(t *testing.T, s string, n int) {
		got := Truncate(s, Limit(n))
		switch {
		case n < 0 && got != s:
			t.Fatalf("all frames changed the stack")
		case n == 0 && got != "":
			t.Fatalf("no frames kept %q", got)
		case n > 0 && got != s && !strings.HasSuffix(got, Elided):
			t.Fatalf("a cut stack does not say so: %q", got)
		}
	})
}
