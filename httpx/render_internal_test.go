package httpx

import (
	"encoding/json"
	"math/rand/v2"
	"net/url"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/otelkit/otelkit/errorsx"
)

var appendStringSeeds = []string{
	"",
	"plain",
	`quote " backslash \ slash /`,
	"<script>alert('x')</script> & more",
	"tab\tnewline\ncr\rnul\x00bell\x07del\x7f",
	"\b\f\v\x1f",
	"ünïcødé ✓ 日本語 🚀",
	"line\u2028sep\u2029para",
	"invalid \xff\xfe utf-8",
	"truncated \xe2\x82",
	"surrogate \xed\xa0\x80",
	strings.Repeat("a", 600),
}

// FuzzAppendString checks that appendString writes valid JSON that decodes
// back to the input, with invalid UTF-8 replaced by U+FFFD as
// encoding/json does. The seeds run as part of go test.
func FuzzAppendString(f *testing.F) {
	for _, s := range appendStringSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		out := appendString([]byte("x"), s)[1:]
		require.True(t, json.Valid(out), "%q -> %s", s, out)
		var got string
		require.NoError(t, json.Unmarshal(out, &got))
		assert.Equal(t, replaceInvalid(s), got)
		require.True(t, utf8.Valid(out))
		for _, c := range out {
			require.False(t, c < 0x20 || c == '<' || c == '>' || c == '&', "unescaped %q in %s", c, out)
		}
		assert.NotContains(t, string(out), "\u2028")
		assert.NotContains(t, string(out), "\u2029")
	})
}

// replaceInvalid replaces every byte that is not part of valid UTF-8 with
// U+FFFD, as encoding/json does.
func replaceInvalid(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b.WriteRune(utf8.RuneError)
		} else {
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	return b.String()
}

func TestAppendStringMatchesEncodingJSON(t *testing.T) {
	for _, s := range appendStringSeeds {
		t.Run(s[:min(len(s), 20)], func(t *testing.T) {
			want, err := json.Marshal(s)
			require.NoError(t, err)
			var a, b string
			require.NoError(t, json.Unmarshal(want, &a))
			require.NoError(t, json.Unmarshal(appendString(nil, s), &b))
			assert.Equal(t, a, b)
		})
	}
}

func TestAppendValue(t *testing.T) {
	type point struct{ X, Y int }
	tests := []struct {
		v    any
		want string
	}{
		{nil, `null`},
		{"s", `"s"`},
		{true, `true`},
		{42, `42`},
		{int64(-7), `-7`},
		{int32(3), `3`},
		{uint(5), `5`},
		{uint64(6), `6`},
		{1.5, `1.5`},
		{[]string{"a"}, `["a"]`},
		{point{1, 2}, `{"X":1,"Y":2}`},
		{map[string]int{"a": 1}, `{"a":1}`},
		{errorsx.NotFound, `"not-found"`},
		{func() {}, `"[unencodable]"`}, // never %v: it would print what masking hides
	}
	for _, tt := range tests {
		got := string(appendValue(nil, tt.v))
		require.True(t, json.Valid([]byte(got)), "%#v -> %s", tt.v, got)
		assert.True(t, strings.HasPrefix(got, tt.want), "%#v -> %s", tt.v, got)
	}
	for _, f := range []float64{posInf(), negInf(), nan()} {
		got := appendValue(nil, f)
		assert.True(t, json.Valid(got), "%v -> %s", f, got)
	}
}

func posInf() float64 { z := 0.0; return 1 / z }
func negInf() float64 { z := 0.0; return -1 / z }
func nan() float64    { z := 0.0; return z / z }

func TestRoute(t *testing.T) {
	for _, tt := range []struct{ pattern, want string }{
		{"", ""},
		{"/users/{id}", "/users/{id}"},
		{"GET /users/{id}", "/users/{id}"},
		{"GET example.com/users/{id}", "/users/{id}"},
		{"example.com/", "/"},
		{"POST  /x", "/x"},
	} {
		assert.Equal(t, tt.want, route(tt.pattern), tt.pattern)
	}
}

// FuzzWantsPlainJSON: any Accept header is answered without panicking, and
// a header naming only problem+json never gets plain JSON.
func FuzzWantsPlainJSON(f *testing.F) {
	for _, s := range []string{"", "*/*", "application/json", "application/problem+json;q=0.1, application/json",
		"application/json;q=abc", ";;;,,,", "application/json;q=1.5", "text/html, application/*;q=0.8"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, accept string) {
		got := wantsPlainJSON(accept)
		if got && !strings.Contains(strings.ToLower(accept), "json") && !strings.Contains(accept, "*") {
			t.Fatalf("plain JSON for %q", accept)
		}
		if wantsPlainJSON("application/problem+json, "+accept) && !strings.Contains(strings.ToLower(accept), "application/json") && !strings.Contains(accept, "*") {
			t.Fatalf("plain JSON preferred over an explicit problem+json: %q", accept)
		}
	})
}

// TestPlainWord checks plainWord against the plainJSON table: every byte
// value at every position of a word of plain bytes, and random words.
func TestPlainWord(t *testing.T) {
	word := func(b [8]byte) uint64 {
		var x uint64
		for i, c := range b {
			x |= uint64(c) << (8 * i)
		}
		return x
	}
	tablePlain := func(b [8]byte) bool {
		for _, c := range b {
			if !plainJSON[c] {
				return false
			}
		}
		return true
	}
	base := [8]byte{'a', '/', '{', '}', '0', 'Z', '~', ' '}
	for pos := range 8 {
		for c := range 256 {
			b := base
			b[pos] = byte(c)
			require.Equal(t, tablePlain(b), plainWord(word(b)), "byte %#x at %d", c, pos)
		}
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for range 100000 {
		var b [8]byte
		for i := range b {
			b[i] = byte(rng.IntN(256))
			if rng.IntN(4) > 0 {
				b[i] = byte(0x20 + rng.IntN(0x60)) // mostly ASCII, as strings are
			}
		}
		require.Equal(t, tablePlain(b), plainWord(word(b)), "%q", b[:])
	}
	for _, s := range append(appendStringSeeds, "GET /users/{id}", "/orders/7?x", "0123456789abcdef\"", "0123456789abcdefg") {
		n := 0
		for n < len(s) && plainJSON[s[n]] {
			n++
		}
		assert.Equal(t, n, plainPrefix(s), "%q", s)
	}
}

// TestPathPlain checks pathPlain against net/url, byte by byte, and
// escapedPath against (*url.URL).EscapedPath.
func TestPathPlain(t *testing.T) {
	for c := range 256 {
		p := "/" + string([]byte{byte(c)})
		assert.Equal(t, (&url.URL{Path: p}).EscapedPath() == p, pathPlain[c], "byte %#x", c)
	}
	for _, u := range []*url.URL{
		{Path: ""}, {Path: "*"}, {Path: "/users/42"}, {Path: "/a b"}, {Path: "/a?b"}, {Path: "/ü"},
		{Path: "/a/b", RawPath: "/a%2Fb"}, {Path: "/a/b", RawPath: "/a/b"}, {Path: "/x", RawPath: "/wrong"},
	} {
		assert.Equal(t, u.EscapedPath(), escapedPath(u), "%#v", u)
	}
}
