package httpx

import (
	"encoding/json"
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
