package errorsx_test

import (
	"errors"
	"fmt"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/otelkit/otelkit/errorsx"
)

// panicText runs f and returns the text of its panic, or "" when it did
// not panic.
func panicText(f func()) (text string) {
	defer func() {
		if v := recover(); v != nil {
			text = fmt.Sprint(v)
		}
	}()
	f()
	return ""
}

func TestDefineValidation(t *testing.T) {
	parent := errorsx.NewRegistry()
	parent.Define(http.StatusConflict, "in-parent", "Defined in the parent")
	tests := []struct {
		name      string
		define    func(r *errorsx.Registry)
		wantParts []string
	}{
		{"empty id", func(r *errorsx.Registry) { r.Define(400, "", "msg") }, []string{`""`, "empty id"}},
		{"upper case", func(r *errorsx.Registry) { r.Define(400, "Bad.ID", "msg") }, []string{`"Bad.ID"`, "a-z"}},
		{"space", func(r *errorsx.Registry) { r.Define(400, "bad id", "msg") }, []string{`"bad id"`}},
		{"slash", func(r *errorsx.Registry) { r.Define(400, "bad/id", "msg") }, []string{`"bad/id"`}},
		{"non-ascii", func(r *errorsx.Registry) { r.Define(400, "bäd", "msg") }, []string{`"bäd"`}},
		{"duplicate", func(r *errorsx.Registry) {
			r.Define(400, "dup", "first")
			r.Define(400, "dup", "second")
		}, []string{`"dup"`, "already defined"}},
		{"duplicate in parent", func(r *errorsx.Registry) { r.Define(400, "in-parent", "again") }, []string{`"in-parent"`, "already defined"}},
		{"reserved internal", func(r *errorsx.Registry) { r.Define(500, "internal", "msg") }, []string{`"internal"`, "reserved"}},
		{"reserved not-found", func(r *errorsx.Registry) { r.Define(404, "not-found", "msg") }, []string{`"not-found"`, "reserved"}},
		{"reserved method-not-allowed", func(r *errorsx.Registry) { r.Define(405, "method-not-allowed", "msg") }, []string{`"method-not-allowed"`, "reserved"}},
		{"reserved http.status", func(r *errorsx.Registry) { r.Define(422, "http.422", "msg") }, []string{`"http.422"`, "reserved"}},
		{"status 399", func(r *errorsx.Registry) { r.Define(399, "low", "msg") }, []string{`"low"`, "399", "400-599"}},
		{"status 600", func(r *errorsx.Registry) { r.Define(600, "high", "msg") }, []string{`"high"`, "600"}},
		{"status 200", func(r *errorsx.Registry) { r.Define(200, "ok", "msg") }, []string{`"ok"`, "200"}},
		{"empty message", func(r *errorsx.Registry) { r.Define(400, "no-msg", "  ") }, []string{`"no-msg"`, "empty message"}},
		{"bad translate tag", func(r *errorsx.Registry) {
			r.Define(400, "bad-tag", "msg", errorsx.Translate("not a tag!", "x"))
		}, []string{`"bad-tag"`, `"not a tag!"`}},
		{"empty translation", func(r *errorsx.Registry) {
			r.Define(400, "empty-tr", "msg", errorsx.Translate("de", ""))
		}, []string{`"empty-tr"`, "empty message"}},
		{"translation twice", func(r *errorsx.Registry) {
			r.Define(400, "tr-twice", "msg", errorsx.Translate("de", "a"), errorsx.Translate("de", "b"))
		}, []string{`"tr-twice"`, "twice"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := errorsx.NewRegistry(errorsx.WithParent(parent))
			text := panicText(func() { tt.define(r) })
			require.NotEmpty(t, text, "Define must panic")
			for _, part := range tt.wantParts {
				assert.Contains(t, text, part)
			}
		})
	}
}

func TestDefineValid(t *testing.T) {
	r := errorsx.NewRegistry()
	for _, tt := range []struct {
		status int
		id     string
	}{{400, "a"}, {599, "z.9_-"}, {404, "users.not-found"}, {429, "auth.rate-limited"}} {
		t.Run(tt.id, func(t *testing.T) {
			d := r.Define(tt.status, tt.id, "message "+tt.id, errorsx.Describe("  docs  "))
			assert.Equal(t, tt.status, d.Status())
			assert.Equal(t, tt.id, d.ID())
			assert.Equal(t, "message "+tt.id, d.Message())
			assert.Equal(t, "docs", d.Description())
			assert.False(t, d.Builtin())
		})
	}
	ids := []string{}
	for _, d := range r.Defs() {
		ids = append(ids, d.ID())
	}
	assert.Equal(t, []string{"a", "z.9_-", "users.not-found", "auth.rate-limited"}, ids, "Defs in definition order")
}

func TestDefIsAnError(t *testing.T) {
	r := errorsx.NewRegistry()
	d := r.Define(http.StatusTooManyRequests, "t.rate-limited", "Rate limited")
	var err error = d
	assert.Equal(t, "Rate limited", err.Error())
	assert.True(t, errors.Is(err, d))
	assert.Equal(t, "t.rate-limited (429): Rate limited", d.String())
	assert.Equal(t, "t.rate-limited", d.ErrorType())
	assert.Same(t, d, r.Resolve(err))
	assert.Same(t, d, r.Resolve(fmt.Errorf("ctx: %w", err)))
}

func TestBuiltins(t *testing.T) {
	tests := []struct {
		def    *errorsx.Def
		status int
		id     string
	}{
		{errorsx.Internal, 500, "internal"},
		{errorsx.NotFound, 404, "not-found"},
		{errorsx.MethodNotAllowed, 405, "method-not-allowed"},
		{errorsx.EmptyBody, 400, "empty-body"},
		{errorsx.MalformedJSON, 400, "malformed-json"},
		{errorsx.TruncatedJSON, 400, "truncated-json"},
		{errorsx.JSONTypeMismatch, 400, "json-type-mismatch"},
		{errorsx.UnknownField, 400, "unknown-field"},
		{errorsx.TrailingData, 400, "trailing-data"},
		{errorsx.BodyTooLarge, 413, "body-too-large"},
		{errorsx.UnsupportedMediaType, 415, "unsupported-media-type"},
	}
	var all []*errorsx.Def
	for _, tt := range tests {
		all = append(all, tt.def)
		t.Run(tt.id, func(t *testing.T) {
			assert.Equal(t, tt.status, tt.def.Status())
			assert.Equal(t, tt.id, tt.def.ID())
			assert.True(t, tt.def.Builtin())
			assert.NotEmpty(t, tt.def.Message())
			got, ok := errorsx.NewRegistry().Lookup(tt.id)
			assert.True(t, ok)
			assert.Same(t, tt.def, got)
			assert.PanicsWithValue(t, fmt.Sprintf("errorsx: Define(%q): id is reserved for the built-in definition", tt.id),
				func() { errorsx.NewRegistry().Define(400, tt.id, "x") })
		})
	}
	assert.Equal(t, all, errorsx.Builtins())
}

// TestIDsAreUniqueInTheTree: an id is unique among a registry, its parents
// and their children, whatever the order of definition.
func TestIDsAreUniqueInTheTree(t *testing.T) {
	root := errorsx.NewRegistry()
	a := errorsx.NewRegistry(errorsx.WithParent(root))
	b := errorsx.NewRegistry(errorsx.WithParent(root))
	a.Define(http.StatusConflict, "tree.dup", "In a child first")
	assert.PanicsWithValue(t, `errorsx: Define("tree.dup"): id already defined as tree.dup (409): In a child first`, func() {
		root.Define(http.StatusBadRequest, "tree.dup", "Then in the parent")
	})
	assert.Panics(t, func() { b.Define(http.StatusBadRequest, "tree.dup", "In a sibling") })
	assert.Equal(t, []*errorsx.Registry{a, b}, root.Children())
	// Unrelated registries (two services in one test binary) may reuse ids.
	assert.NotPanics(t, func() { errorsx.NewRegistry().Define(http.StatusBadRequest, "tree.dup", "Elsewhere") })
}
