package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"net/http"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/otelkit/otelkit/catalog"
	"github.com/otelkit/otelkit/errorsx"
	"github.com/otelkit/otelkit/examples/adopter/api"
)

var update = flag.Bool("update", false, "rewrite ERRORS.md")

// serviceCatalog is the catalog `otelkit catalog -renderer
// github.com/otelkit/otelkit/examples/adopter/api.Body{} -title "Notes API
// errors" ./examples/adopter/api` prints (cmd/otelkit's TestAdopterGolden
// runs that command against the same file).
func serviceCatalog() *catalog.Catalog {
	return catalog.New(errorsx.Default(), catalog.WithChildren(), catalog.WithTitle("Notes API errors"),
		catalog.WithRenderer(api.Body{}))
}

// TestCatalogGolden (issue 17 item 10): the committed ERRORS.md describes
// the company's body, not problem+json. Regenerate with
//
//	go test ./examples/adopter -run TestCatalogGolden -update
func TestCatalogGolden(t *testing.T) {
	var buf bytes.Buffer
	require.NoError(t, serviceCatalog().WriteMarkdown(&buf))
	if *update {
		require.NoError(t, os.WriteFile("ERRORS.md", buf.Bytes(), 0o644))
	}
	want, err := os.ReadFile("ERRORS.md")
	require.NoError(t, err)
	assert.Equal(t, string(want), buf.String(), "run: go test ./examples/adopter -run TestCatalogGolden -update")

	md := buf.String()
	assert.Contains(t, md, "Every error body is `application/vnd.notes.error+json`.")
	assert.NotContains(t, md, "problem+json")
	assert.Contains(t, md, "| 403 Forbidden | `PERMISSION_DENIED` | `admin.forbidden` |", "the route group's registry")
}

// TestCatalogMatchesAnswers: the body the catalog documents for an error
// is the body the service answers with (details aside, which belong to
// the occurrence), and the OpenAPI schema is the renderer's.
func TestCatalogMatchesAnswers(t *testing.T) {
	t.Parallel()
	cat := serviceCatalog()
	ts := newTestService(t)
	for _, tc := range []struct{ id, method, path, body string }{
		{"note.not-found", http.MethodGet, "/notes/9", ""},
		{"admin.forbidden", http.MethodPost, "/admin/notes/1/purge", ""},
		{"truncated-json", http.MethodPost, "/notes", `{"title":`},
	} {
		e, ok := cat.Lookup(tc.id)
		require.True(t, ok, tc.id)
		rec := ts.do(tc.method, tc.path, "application/json", tc.body)
		require.Equal(t, e.Status, rec.Code)
		assert.Equal(t, cat.Body.ContentTypes[0], rec.Header().Get("Content-Type"))
		var answered, documented struct {
			Error struct{ Code, Message string } `json:"error"`
		}
		require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &answered))
		require.NoError(t, json.Unmarshal(e.Example, &documented))
		assert.Equal(t, documented, answered, tc.id)
	}

	var oas bytes.Buffer
	require.NoError(t, cat.WriteOpenAPI(&oas))
	assert.Contains(t, oas.String(), `"NotesError"`)
	assert.Contains(t, oas.String(), `"#/components/schemas/NotesError"`)
	assert.False(t, strings.Contains(oas.String(), "problem+json"))
}
