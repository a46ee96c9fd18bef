package main

import (
	"database/sql"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/otelkit/otelkit/catalog"
)

var update = flag.Bool("update", false, "rewrite the quickstart's golden catalog files")

// quickstartGoldens are the committed catalogs of the quickstart, relative
// to the repository root, by format.
var quickstartGoldens = []struct {
	format string
	file   string
}{
	{"markdown", "examples/quickstart/ERRORS.md"},
	{"json", "catalog/testdata/quickstart.json"},
	{"openapi", "catalog/testdata/quickstart.openapi.json"},
}

// TestQuickstartGolden runs the catalog command on the quickstart's api
// package and compares each format with its committed file, so a change to
// an error's status, id, message or translations shows in review.
// Regenerate with:
//
//	go test ./cmd/otelkit -run TestQuickstartGolden -update
func TestQuickstartGolden(t *testing.T) {
	root := repoRoot(t)
	t.Setenv("GOFLAGS", "-mod=readonly") // never touch the repository's go.mod
	for _, g := range quickstartGoldens {
		t.Run(g.format, func(t *testing.T) {
			code, stdout, stderr := runCmd(t, "catalog", "-C", root, "-format", g.format,
				"-title", "otelkit quickstart errors", "-base-url", "/errors/", "./examples/quickstart/api")
			require.Equal(t, 0, code, stderr)
			path := filepath.Join(root, filepath.FromSlash(g.file))
			if *update {
				require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
				require.NoError(t, os.WriteFile(path, []byte(stdout), 0o644))
				return
			}
			want, err := os.ReadFile(path)
			require.NoError(t, err, "run with -update to create it")
			assert.Equal(t, string(want), stdout,
				"the quickstart's catalog changed; review and run: go test ./cmd/otelkit -run TestQuickstartGolden -update")
		})
	}
}

// TestQuickstartRouteGroup checks that the catalog of the quickstart holds
// the admin route group's registry (made from errorsx.Default() with
// errorsx.WithParent): its mapping of sql.ErrNoRows to admin.user-missing
// is listed with its registry, next to the default registry's mapping of
// the same error to users.not-found; and that the missing translations are
// reported on standard error.
func TestQuickstartRouteGroup(t *testing.T) {
	root := repoRoot(t)
	t.Setenv("GOFLAGS", "-mod=readonly")
	code, stdout, stderr := runCmd(t, "catalog", "-C", root, "-format", "json", "./examples/quickstart/api")
	require.Equal(t, 0, code, stderr)
	cat, err := catalog.ReadJSON(strings.NewReader(stdout))
	require.NoError(t, err)

	noRows := sql.ErrNoRows.Error()
	admin, ok := cat.Lookup("admin.user-missing")
	require.True(t, ok)
	assert.Equal(t, []catalog.Mapped{{Kind: catalog.KindValue, Type: "*errors.errorString", Package: "errors",
		Text: noRows, Registry: "child registry #1"}}, admin.MappedFrom)
	users, _ := cat.Lookup("users.not-found")
	assert.Equal(t, []catalog.Mapped{{Kind: catalog.KindValue, Type: "*errors.errorString", Package: "errors",
		Text: noRows}}, users.MappedFrom)

	assert.Contains(t, stderr, "otelkit catalog: warning: 7 errors lack translations (languages in use: de, fr): request.bad-json (de, fr), users.bad-id (fr),")
}

// TestAdopterGolden runs the catalog command with the adopter example's own
// renderer (-renderer) and compares it with the example's committed
// ERRORS.md, which the example's TestCatalogGolden builds in process: the
// command and catalog.WithRenderer describe the same body. Regenerate with
// go test ./examples/adopter -run TestCatalogGolden -update.
func TestAdopterGolden(t *testing.T) {
	root := repoRoot(t)
	t.Setenv("GOFLAGS", "-mod=readonly")
	code, stdout, stderr := runCmd(t, "catalog", "-C", root, "-title", "Notes API errors",
		"-renderer", "github.com/otelkit/otelkit/examples/adopter/api.Body{}", "./examples/adopter/api")
	require.Equal(t, 0, code, stderr)
	want, err := os.ReadFile(filepath.Join(root, "examples", "adopter", "ERRORS.md"))
	require.NoError(t, err)
	assert.Equal(t, string(want), stdout)
}
