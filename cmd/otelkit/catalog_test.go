package main

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/otelkit/otelkit/catalog"
)

// repoRoot is the root of the otelkit module.
func repoRoot(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs(filepath.Join("..", ".."))
	require.NoError(t, err)
	require.FileExists(t, filepath.Join(root, "go.mod"))
	return root
}

// newService copies testdata/svc into a module of its own that requires
// otelkit through a replace directive, as a user's service would, plus the
// extra files given (path -> content).
func newService(t *testing.T, extra map[string]string) string {
	t.Helper()
	root := repoRoot(t)
	dir := t.TempDir()
	require.NoError(t, os.CopyFS(dir, os.DirFS(filepath.Join("testdata", "svc"))))
	gomod := "module example.com/svc\n\ngo 1.26.0\n\nrequire github.com/otelkit/otelkit v0.0.0\n\n" +
		"replace github.com/otelkit/otelkit => " + root + "\n"
	require.NoError(t, os.WriteFile(filepath.Join(dir, "go.mod"), []byte(gomod), 0o644))
	sum, err := os.ReadFile(filepath.Join(root, "go.sum"))
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "go.sum"), sum, 0o644))
	for name, content := range extra {
		p := filepath.Join(dir, filepath.FromSlash(name))
		require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
		require.NoError(t, os.WriteFile(p, []byte(content), 0o644))
	}
	return dir
}

// runCmd runs the command in-process and returns its exit code and output.
func runCmd(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = run(t.Context(), args, &out, &errOut)
	return code, out.String(), errOut.String()
}

const brokenPkg = `package broken

import "github.com/otelkit/otelkit/errorsx"

var ErrBroken = errorsx.Define(400, "broken", nope)
`

const dupPkg = `package dup

import "github.com/otelkit/otelkit/errorsx"

var ErrDup = errorsx.Define(409, "auth.rate-limited", "Defined twice")
`

// adminPkg is a route group's registry made from the default one, with a
// definition of its own and a mapping that overrides the default's.
const adminPkg = `package admin

import (
	"database/sql"

	"github.com/otelkit/otelkit/errorsx"
)

var Registry = errorsx.NewRegistry(errorsx.WithParent(errorsx.Default()))

var ErrLocked = Registry.Define(423, "admin.locked", "The account is locked")

func init() { Registry.Map(sql.ErrNoRows, ErrLocked) }
`

// Internal packages below the module root: importable only from within
// shop/, shop/internal/stock/ and shop/cart/.
const (
	stockPkg = `package stock

import "github.com/otelkit/otelkit/errorsx"

var ErrOut = errorsx.Define(409, "stock.out", "Out of stock")
`
	deepPkg = `package x

import "github.com/otelkit/otelkit/errorsx"

var ErrDeep = errorsx.Define(409, "stock.deep", "Deep")
`
	pricePkg = `package price

import "github.com/otelkit/otelkit/errorsx"

var ErrPrice = errorsx.Define(422, "cart.price", "Bad price")
`
)

// webPkg is a service's own error body, {"error":{"code","message"}}, as a
// renderer that does not describe itself.
const webPkg = `package web

import (
	"encoding/json"
	"net/http"

	"github.com/otelkit/otelkit/httpx"
)

type Body struct{}

func (Body) Render(w http.ResponseWriter, r *http.Request, p *httpx.Problem) error {
	w.Header().Set("Content-Type", "application/vnd.svc.error+json")
	w.WriteHeader(p.Status)
	return json.NewEncoder(w).Encode(map[string]any{"error": map[string]string{"code": p.ID, "message": p.Title}})
}

func NewBody() httpx.Renderer { return Body{} }
`

func TestCatalogCommand(t *testing.T) {
	// The go.mod of the service gets its indirect requirements on the first
	// build, as "go mod tidy" would add them.
	t.Setenv("GOFLAGS", "-mod=mod")
	t.Setenv("GOWORK", "off")
	svc := newService(t, map[string]string{
		"broken/broken.go":                    brokenPkg,
		"dup/dup.go":                          dupPkg,
		"admin/admin.go":                      adminPkg,
		"docs/README.md":                      "no Go here\n",
		"shop/internal/stock/stock.go":        stockPkg,
		"shop/internal/stock/internal/x/x.go": deepPkg,
		"shop/cart/internal/price/price.go":   pricePkg,
		"web/render.go":                       webPkg,
	})

	tests := []struct {
		name      string
		args      []string
		code      int
		stdout    []string
		notStdout []string
		stderr    []string
		notStderr []string
		check     func(t *testing.T, stdout string)
	}{
		{
			name: "markdown of several packages, package main skipped",
			args: []string{"./api", "./internal/...", "./cmd/..."},
			stdout: []string{
				"# Errors\n",
				"| 404 Not Found | `NOT_FOUND` | `user.not-found` | The user was not found | No user has the id given in the path. |",
				"| 402 Payment Required | `FAILED_PRECONDITION` | `billing.payment-required` | The account has no credit left \\| top up first |",
				"type `*json.SyntaxError` from `encoding/json`",
				"value \"sql: no rows in result set\" (`*errors.errorString`)",
				"## Missing translations",
			},
			notStdout: []string{"main.conflict"},
			stderr: []string{
				"skipping example.com/svc/cmd/server: package main cannot be imported",
				"otelkit catalog: warning: 3 errors lack translations (languages in use: de, fr): " +
					"request.bad-json (fr), billing.payment-required (de, fr), auth.rate-limited (de, fr)\n",
				"run with -check-translations",
			},
		},
		{
			name: "a child registry's definitions and mappings",
			args: []string{"./api", "./admin"},
			stdout: []string{
				"| 423 Locked | `FAILED_PRECONDITION` | `admin.locked` | The account is locked |  |  | value \"sql: no rows in result set\" (`*errors.errorString`) in child registry #1 |",
				"| 404 Not Found | `NOT_FOUND` | `user.not-found` | The user was not found | No user has the id given in the path. | " +
					"`de`: Der Benutzer wurde nicht gefunden<br>`fr`: L'utilisateur est introuvable | value \"sql: no rows in result set\" (`*errors.errorString`) |",
			},
		},
		{
			name:      "internal packages below the module root",
			args:      []string{"./shop/...", "./api"},
			stdout:    []string{"`stock.out`", "`stock.deep`", "`cart.price`", "`user.not-found`"},
			notStderr: []string{"skipping"},
		},
		{
			name:      "no warning when every error has every language",
			args:      []string{"./internal/billing"},
			stdout:    []string{"`billing.payment-required`"},
			notStderr: []string{"warning", "translations"},
		},
		{
			name:   "the warning does not change the exit code or the output file",
			args:   []string{"-format", "json", "-o", "catalog.json", "./api"},
			stderr: []string{"otelkit catalog: warning: 2 errors lack translations (languages in use: de, fr): request.bad-json (fr), auth.rate-limited (de, fr)\n"},
			check: func(t *testing.T, stdout string) {
				assert.Empty(t, stdout)
				b, err := os.ReadFile(filepath.Join(svc, "catalog.json"))
				require.NoError(t, err)
				_, err = catalog.ReadJSON(bytes.NewReader(b))
				require.NoError(t, err, "the file holds the catalog only")
			},
		},
		{
			name: "json",
			args: []string{"-format", "json", "-title", "Svc errors", "-version", "1.2.3", "./api"},
			check: func(t *testing.T, stdout string) {
				c, err := catalog.ReadJSON(strings.NewReader(stdout))
				require.NoError(t, err)
				assert.Equal(t, "Svc errors", c.Title)
				assert.Equal(t, "1.2.3", c.Version)
				var ids []string
				for _, e := range c.Entries {
					ids = append(ids, e.ID)
				}
				assert.Equal(t, []string{"empty-body", "json-type-mismatch", "malformed-json", "request.bad-json", "trailing-data", "truncated-json", "unknown-field",
					"not-found", "user.not-found", "method-not-allowed", "body-too-large", "unsupported-media-type", "auth.rate-limited", "internal"}, ids)
			},
		},
		{
			name:   "openapi with a base URL",
			args:   []string{"-format", "openapi", "-base-url", "https://svc.example.com/errors", "./api"},
			stdout: []string{`"openapi": "3.1.0"`, `"type": "https://svc.example.com/errors/user.not-found"`, `"Problem429"`},
			check: func(t *testing.T, stdout string) {
				assert.True(t, json.Valid([]byte(stdout)))
			},
		},
		{
			name:      "markdown of the service's own renderer",
			args:      []string{"-renderer", "example.com/svc/web.Body{}", "./api"},
			stdout:    []string{"Every error body is `application/vnd.svc.error+json`.\n", "The body of `request.bad-json`:\n\n```json\n{\"error\":{\"code\":\"request.bad-json\",\"message\":\"The request body is not valid JSON\"}}\n```"},
			notStdout: []string{"problem+json"},
		},
		{
			name:      "openapi of the service's own renderer from a function",
			args:      []string{"-format", "openapi", "-renderer", "example.com/svc/web.NewBody()", "./api"},
			stdout:    []string{`"application/vnd.svc.error+json"`, `"code": "user.not-found"`},
			notStdout: []string{"problem+json", `"status": {`},
		},
		{
			name:      "openapi of ErrorList",
			args:      []string{"-format", "openapi", "-renderer", "errorlist", "./api"},
			stdout:    []string{`"ErrorListEntry"`, `"code": "user.not-found"`},
			notStdout: []string{"problem+json"},
		},
		{
			name:   "a -renderer that names no exported name",
			args:   []string{"-renderer", "example.com/svc/web.body", "./api"},
			code:   2,
			stderr: []string{`-renderer "example.com/svc/web.body": "body" is not an exported name of example.com/svc/web`},
		},
		{
			name:   "a -renderer that is not a path",
			args:   []string{"-renderer", "mine", "./api"},
			code:   2,
			stderr: []string{`-renderer "mine": want errorlist, problem or import/path.Expr`},
		},
		{
			name:      "check translations fails and lists the gaps",
			args:      []string{"-check-translations", "./api", "./internal/..."},
			code:      1,
			stdout:    []string{"missing translations (languages in use: de, fr):\n", "  request.bad-json: fr\n", "  billing.payment-required: de, fr\n", "  auth.rate-limited: de, fr\n"},
			notStderr: []string{"warning"}, // the list is the output
		},
		{
			name:   "check translations passes without translations",
			args:   []string{"-check-translations", "./internal/billing"},
			stdout: []string{"ok: every error has every language (none)"},
		},
		{
			name:   "no packages",
			args:   []string{"./docs/..."},
			code:   1,
			stderr: []string{"otelkit catalog: no packages match ./docs/...", "matched no packages"},
		},
		{
			name:   "missing directory",
			args:   []string{"./nothing/..."},
			code:   1,
			stderr: []string{"otelkit catalog: go list ./nothing/...:", "no such file or directory"},
		},
		{
			name:   "unknown package",
			args:   []string{"example.com/svc/nope"},
			code:   1,
			stderr: []string{"otelkit catalog: go list example.com/svc/nope:", "example.com/svc/nope"},
		},
		{
			name:   "only package main",
			args:   []string{"./cmd/server"},
			code:   1,
			stderr: []string{"skipping example.com/svc/cmd/server", "no importable packages in ./cmd/server (only package main)"},
		},
		{
			name:   "build failure shows the compiler output",
			args:   []string{"./broken"},
			code:   1,
			stderr: []string{"building and running the catalog program for ./broken failed", "broken.go:5:", "undefined: nope"},
		},
		{
			name:   "a panic at definition shows the panic",
			args:   []string{"./api", "./dup"},
			code:   1,
			stderr: []string{`errorsx: Define("auth.rate-limited"): id already defined`},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := runCmd(t, append([]string{"catalog", "-C", svc}, tt.args...)...)
			assert.Equal(t, tt.code, code, "stderr: %s", stderr)
			for _, s := range tt.stdout {
				assert.Contains(t, stdout, s)
			}
			for _, s := range tt.notStdout {
				assert.NotContains(t, stdout, s)
			}
			for _, s := range tt.stderr {
				assert.Contains(t, stderr, s)
			}
			for _, s := range tt.notStderr {
				assert.NotContains(t, stderr, s)
			}
			if tt.check != nil {
				tt.check(t, stdout)
			}
		})
	}

	t.Run("output file", func(t *testing.T) {
		code, stdout, stderr := runCmd(t, "catalog", "-C", svc, "-o", "ERRORS.md", "./api")
		require.Equal(t, 0, code, stderr)
		assert.Empty(t, stdout)
		md, err := os.ReadFile(filepath.Join(svc, "ERRORS.md"))
		require.NoError(t, err)
		assert.Contains(t, string(md), "`user.not-found`")
	})

	t.Run("from a subdirectory", func(t *testing.T) {
		code, stdout, stderr := runCmd(t, "catalog", "-C", filepath.Join(svc, "api"), "-format", "json", "../internal/billing", ".")
		require.Equal(t, 0, code, stderr)
		assert.Contains(t, stdout, `"id": "billing.payment-required"`)
		assert.Contains(t, stdout, `"id": "user.not-found"`)
	})

	t.Run("the temporary program and shims are removed", func(t *testing.T) {
		assertNoTemporaryPackages(t, svc)
	})
}

func TestCatalogCommandUsage(t *testing.T) {
	tests := []struct {
		name   string
		args   []string
		code   int
		stderr string
		stdout string
	}{
		{"no command", nil, 2, "Usage:", ""},
		{"unknown command", []string{"frobnicate"}, 2, `unknown command "frobnicate"`, ""},
		{"help", []string{"help"}, 0, "", "otelkit catalog [flags] [packages]"},
		{"bad format", []string{"catalog", "-format", "yaml", "."}, 2, `unknown -format "yaml"`, ""},
		{"bad flag", []string{"catalog", "-nope"}, 2, "flag provided but not defined: -nope", ""},
		{"catalog help", []string{"catalog", "-h"}, 0, "-check-translations", ""},
		{"not in a module", []string{"catalog", "-C", t.TempDir(), "."}, 1, "go.mod file not found", ""},
	}
	t.Setenv("GOWORK", "off")
	t.Setenv("GOFLAGS", "")
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := runCmd(t, tt.args...)
			assert.Equal(t, tt.code, code)
			assert.Contains(t, stderr, tt.stderr)
			assert.Contains(t, stdout, tt.stdout)
		})
	}
}

func TestInternalRoot(t *testing.T) {
	tests := []struct {
		path, dir, want string
		ok              bool
	}{
		{"m/a/b", "/m/a/b", "", false},
		{"m/internal/x", "/m/internal/x", "/m", true},
		{"m/a/internal/x", "/m/a/internal/x", "/m/a", true},
		{"m/a/internal", "/m/a/internal", "/m/a", true},
		{"m/a/internal/b/internal/c/d", "/m/a/internal/b/internal/c/d", "/m/a/internal/b", true},
		{"m/internals/x", "/m/internals/x", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			got, ok := internalRoot(tt.path, filepath.FromSlash(tt.dir))
			assert.Equal(t, tt.ok, ok)
			if tt.ok {
				assert.Equal(t, filepath.FromSlash(tt.want), got)
			}
		})
	}
}

// TestCatalogThisRepository runs the command on this repository, whose
// internal packages sit below the module root (errtrack/internal/...), as
// the README's ./... invites.
func TestCatalogThisRepository(t *testing.T) {
	if testing.Short() {
		t.Skip("builds every package of the repository")
	}
	t.Setenv("GOWORK", "off")
	root := repoRoot(t)
	code, stdout, stderr := runCmd(t, "catalog", "-C", root, "-format", "json", "./...")
	require.Equal(t, 0, code, stderr)
	assert.NotContains(t, stderr, "use of internal package")
	c, err := catalog.ReadJSON(strings.NewReader(stdout))
	require.NoError(t, err)
	var ids []string
	for _, e := range c.Entries {
		ids = append(ids, e.ID)
	}
	assert.Contains(t, ids, "not-found")
	assert.Contains(t, ids, "users.not-found", "the quickstart's api package")
	assertNoTemporaryPackages(t, root)
}

// assertNoTemporaryPackages fails if the command left its program or a
// shim package behind in dir.
func assertNoTemporaryPackages(t *testing.T, dir string) {
	t.Helper()
	var left []string
	require.NoError(t, filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == "bin" || d.Name() == ".git") && p != dir {
			return filepath.SkipDir
		}
		if strings.HasPrefix(d.Name(), "_otelkit_catalog_") {
			left = append(left, p)
		}
		return nil
	}))
	assert.Empty(t, left)
}

func TestCatalogCommandWithoutOtelkit(t *testing.T) {
	t.Setenv("GOWORK", "off")
	t.Setenv("GOFLAGS", "-mod=readonly")
	t.Setenv("GOPROXY", "off")
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "go.mod"), []byte("module example.com/plain\n\ngo 1.26.0\n"), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "plain.go"), []byte("package plain\n"), 0o644))
	code, _, stderr := runCmd(t, "catalog", "-C", dir, ".")
	assert.Equal(t, 1, code)
	assert.Contains(t, stderr, "github.com/otelkit/otelkit/catalog")
	assert.Contains(t, stderr, "go get github.com/otelkit/otelkit@latest")
}

// TestCatalogCommandMissingChecksums: a service that does not use httpx
// may lack the checksums of the modules the catalog package needs through
// httpx (chi here); the command says how to add them, and with them (here
// GOFLAGS=-mod=mod, from the module cache) it works.
func TestCatalogCommandMissingChecksums(t *testing.T) {
	t.Setenv("GOWORK", "off")
	t.Setenv("GOPROXY", "off")
	svc := newService(t, nil)
	// The service's go.mod and go.sum as go mod tidy leaves them: the
	// checksums its own packages (errorsx only) need.
	require.NoError(t, os.WriteFile(filepath.Join(svc, "go.sum"), nil, 0o644))
	tidy := exec.Command("go", "mod", "tidy")
	tidy.Dir = svc
	tidy.Env = append(os.Environ(), "GOFLAGS=-mod=mod")
	out, err := tidy.CombinedOutput()
	require.NoError(t, err, "%s", out)

	t.Setenv("GOFLAGS", "-mod=readonly")
	code, _, stderr := runCmd(t, "catalog", "-C", svc, "./api")
	require.Equal(t, 1, code, stderr)
	assert.Contains(t, stderr, "missing go.sum entry")
	assert.Contains(t, stderr, "go get github.com/otelkit/otelkit/catalog, or run with GOFLAGS=-mod=mod")

	t.Setenv("GOFLAGS", "-mod=mod")
	code, stdout, stderr := runCmd(t, "catalog", "-C", svc, "./api")
	require.Equal(t, 0, code, stderr)
	assert.Contains(t, stdout, "`user.not-found`")
}
