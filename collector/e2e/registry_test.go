package e2e_test

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// semconvVersion is the version of the semantic conventions otelkit
// follows: the newest package go.opentelemetry.io/otel (the version the
// root module requires) ships.
const semconvVersion = "v1.43.0"

// registry is the attribute registry of the semantic conventions, read
// from the source of otel-go's generated semconv packages in the module
// cache (the version pinned by the root go.mod and go.sum): not typed by
// hand and not vendored.
type registry struct {
	Version string
	Dir     string
	// Keys are the attribute keys of Version that are not deprecated.
	Keys map[string]bool
	// Deprecated are keys of Version marked "Deprecated:" in their doc.
	Deprecated map[string]bool
	// Older maps keys that Version no longer defines to the newest older
	// package that did (otel-go generates no constant for a deprecated or
	// removed attribute), for diagnostics.
	Older map[string]string
}

// loadRegistry parses semconv/<semconvVersion>/*.go of the otel module the
// root module requires, plus the older semconv packages for diagnostics.
func loadRegistry(t *testing.T, root string) *registry {
	t.Helper()
	cmd := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "go.opentelemetry.io/otel")
	cmd.Dir = root
	out, err := cmd.Output()
	require.NoError(t, err, "go list -m go.opentelemetry.io/otel in %s", root)
	otelDir := strings.TrimSpace(string(out))
	dir := filepath.Join(otelDir, "semconv", semconvVersion)
	r := &registry{Version: semconvVersion, Dir: dir, Keys: map[string]bool{}, Deprecated: map[string]bool{}, Older: map[string]string{}}
	keys, deprecated, err := parseSemconv(dir)
	require.NoError(t, err)
	require.Greater(t, len(keys), 300, "attribute keys found in %s", dir)
	for k := range keys {
		if deprecated[k] {
			r.Deprecated[k] = true
		} else {
			r.Keys[k] = true
		}
	}
	// Older packages, oldest first, so that the newest one wins.
	entries, err := os.ReadDir(filepath.Join(otelDir, "semconv"))
	require.NoError(t, err)
	var versions []string
	for _, e := range entries {
		if e.IsDir() && strings.HasPrefix(e.Name(), "v1.") && e.Name() != semconvVersion {
			versions = append(versions, e.Name())
		}
	}
	slices.SortFunc(versions, func(a, b string) int { return minor(a) - minor(b) })
	for _, v := range versions {
		if minor(v) >= minor(semconvVersion) {
			continue
		}
		old, _, err := parseSemconv(filepath.Join(otelDir, "semconv", v))
		if err != nil {
			continue
		}
		for k := range old {
			if !r.Keys[k] {
				r.Older[k] = v
			}
		}
	}
	return r
}

// minor returns the minor version of "v1.N.x".
func minor(v string) int {
	parts := strings.Split(strings.TrimPrefix(v, "v"), ".")
	if len(parts) < 2 {
		return 0
	}
	n, _ := strconv.Atoi(parts[1])
	return n
}

// parseSemconv returns the attribute keys a semconv package declares as
// constants `XKey = attribute.Key("x")`, and those whose doc comment says
// "Deprecated:".
func parseSemconv(dir string) (keys, deprecated map[string]bool, err error) {
	fset := token.NewFileSet()
	matches, err := filepath.Glob(filepath.Join(dir, "*.go"))
	if err != nil {
		return nil, nil, err
	}
	keys, deprecated = map[string]bool{}, map[string]bool{}
	for _, path := range matches {
		if strings.HasSuffix(path, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, path, nil, parser.ParseComments)
		if err != nil {
			return nil, nil, fmt.Errorf("parse %s: %w", path, err)
		}
		for _, decl := range f.Decls {
			gd, ok := decl.(*ast.GenDecl)
			if !ok || gd.Tok != token.CONST {
				continue
			}
			for _, spec := range gd.Specs {
				vs := spec.(*ast.ValueSpec)
				for _, v := range vs.Values {
					key, ok := attributeKey(v)
					if !ok {
						continue
					}
					keys[key] = true
					doc := vs.Doc
					if doc == nil && len(gd.Specs) == 1 {
						doc = gd.Doc
					}
					if doc != nil && strings.Contains(doc.Text(), "Deprecated:") {
						deprecated[key] = true
					}
				}
			}
		}
	}
	return keys, deprecated, nil
}

// attributeKey matches attribute.Key("x").
func attributeKey(e ast.Expr) (string, bool) {
	call, ok := e.(*ast.CallExpr)
	if !ok || len(call.Args) != 1 {
		return "", false
	}
	sel, ok := call.Fun.(*ast.SelectorExpr)
	if !ok || sel.Sel.Name != "Key" {
		return "", false
	}
	if id, ok := sel.X.(*ast.Ident); !ok || id.Name != "attribute" {
		return "", false
	}
	lit, ok := call.Args[0].(*ast.BasicLit)
	if !ok || lit.Kind != token.STRING {
		return "", false
	}
	s, err := strconv.Unquote(lit.Value)
	return s, err == nil
}

// verdict says why key is or is not allowed: "" when it is a current
// registry key.
func (r *registry) verdict(key string) string {
	switch {
	case r.Keys[key]:
		return ""
	case r.Deprecated[key]:
		return "deprecated in semconv " + r.Version
	case r.Older[key] != "":
		return "not in semconv " + r.Version + " (deprecated or removed; last in " + r.Older[key] + ")"
	}
	return "not in semconv " + r.Version
}

// TestRegistry checks the registry reader itself on keys whose status is
// known: current keys, keys otelkit once used and the conventions dropped,
// and keys that were never conventions.
func TestRegistry(t *testing.T) {
	r := loadRegistry(t, repoRoot(t))
	for _, k := range []string{"http.route", "error.type", "exception.type", "user.name", "client.address", "service.version", "otel.event.name"} {
		require.True(t, r.Keys[k], "%s is a current key", k)
	}
	for _, k := range []string{"exception.escaped", "event.name"} {
		require.False(t, r.Keys[k], k)
		require.Contains(t, r.verdict(k), "deprecated or removed", k)
	}
	for _, k := range []string{"error.id", "error.fingerprint", "audit.template", "client_ip"} {
		require.False(t, r.Keys[k], k)
	}
	t.Logf("semconv %s: %d keys (%s)", r.Version, len(r.Keys), r.Dir)
}
