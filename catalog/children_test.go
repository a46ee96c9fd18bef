package catalog_test

import (
	"database/sql"
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/otelkit/otelkit/catalog"
	"github.com/otelkit/otelkit/errorsx"
)

// registryTree is a root registry with two children, the first with a
// child of its own, each with definitions or mappings.
type registryTree struct {
	root, child1, grandchild, child2 *errorsx.Registry
	rootDef, childDef, child2Def     *errorsx.Def
}

func newRegistryTree(t *testing.T) registryTree {
	t.Helper()
	var tr registryTree
	tr.root = errorsx.NewRegistry()
	tr.rootDef = tr.root.Define(404, "user.not-found", "The user was not found")
	tr.root.Map(sql.ErrNoRows, tr.rootDef)

	tr.child1 = errorsx.NewRegistry(errorsx.WithParent(tr.root))
	tr.childDef = tr.child1.Define(404, "admin.user-missing", "No such account in the admin directory")
	tr.child1.Map(sql.ErrNoRows, tr.childDef) // overrides the root's in the admin group

	tr.grandchild = errorsx.NewRegistry(errorsx.WithParent(tr.child1))
	tr.grandchild.Map(errA, tr.rootDef)
	errorsx.MapTypeIn[*json.SyntaxError](tr.grandchild, tr.childDef)

	tr.child2 = errorsx.NewRegistry(errorsx.WithParent(tr.root))
	tr.child2Def = tr.child2.Define(409, "billing.conflict", "The invoice changed")
	tr.child2.Map(sql.ErrNoRows, errorsx.NotFound)
	return tr
}

func value(text, registry string) catalog.Mapped {
	return catalog.Mapped{Kind: catalog.KindValue, Type: "*errors.errorString", Package: "errors", Text: text, Registry: registry}
}

func TestWithChildren(t *testing.T) {
	tr := newRegistryTree(t)
	noRows := sql.ErrNoRows.Error()
	syntax := catalog.Mapped{Kind: catalog.KindType, Type: "*json.SyntaxError", Package: "encoding/json"}

	tests := []struct {
		name  string
		reg   *errorsx.Registry
		opts  []catalog.Option
		check func(t *testing.T, c *catalog.Catalog)
	}{
		{"children are left out by default", tr.root, nil, func(t *testing.T, c *catalog.Catalog) {
			assert.Equal(t, []string{"not-found", "user.not-found", "method-not-allowed", "internal"}, serviceIDs(c))
			u, _ := c.Lookup("user.not-found")
			assert.Equal(t, []catalog.Mapped{value(noRows, "")}, u.MappedFrom)
		}},
		{"descendants' definitions and mappings, with their registry", tr.root, []catalog.Option{catalog.WithChildren()}, func(t *testing.T, c *catalog.Catalog) {
			assert.Equal(t, []string{"admin.user-missing", "not-found", "user.not-found", "method-not-allowed", "billing.conflict", "internal"}, serviceIDs(c))
			u, _ := c.Lookup("user.not-found")
			assert.Equal(t, []catalog.Mapped{value(noRows, ""), value("a", "child registry #1.1")}, u.MappedFrom,
				"the root's mappings first, then the descendants' depth first")
			a, _ := c.Lookup("admin.user-missing")
			syntax := syntax
			syntax.Registry = "child registry #1.1"
			assert.Equal(t, []catalog.Mapped{value(noRows, "child registry #1"), syntax}, a.MappedFrom,
				"a child's mapping of an error the root maps too is listed, in its registry")
			n, _ := c.Lookup("not-found")
			assert.Equal(t, []catalog.Mapped{value(noRows, "child registry #2")}, n.MappedFrom)
		}},
		{"numbered from the catalogued registry", tr.child1, []catalog.Option{catalog.WithChildren()}, func(t *testing.T, c *catalog.Catalog) {
			_, ok := c.Lookup("billing.conflict")
			assert.False(t, ok, "a sibling is not a descendant")
			u, _ := c.Lookup("user.not-found")
			assert.Equal(t, []catalog.Mapped{value("a", "child registry #1")}, u.MappedFrom)
		}},
		{"with parents and children", tr.child1, []catalog.Option{catalog.WithParents(), catalog.WithChildren()}, func(t *testing.T, c *catalog.Catalog) {
			u, _ := c.Lookup("user.not-found")
			assert.Equal(t, []catalog.Mapped{value("a", "child registry #1")}, u.MappedFrom,
				"the child's own mapping of sql.ErrNoRows hides the parent's")
			a, _ := c.Lookup("admin.user-missing")
			assert.Equal(t, value(noRows, ""), a.MappedFrom[0], "the catalogued registry's mapping has no registry")
		}},
		{"without mappings", tr.root, []catalog.Option{catalog.WithChildren(), catalog.WithoutMappings()}, func(t *testing.T, c *catalog.Catalog) {
			require.Len(t, serviceIDs(c), 6, "the definitions stay")
			for _, e := range c.Entries {
				assert.Empty(t, e.MappedFrom, e.ID)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.check(t, catalog.New(tt.reg, tt.opts...))
		})
	}
}

func TestWithChildrenIsStable(t *testing.T) {
	tr := newRegistryTree(t)
	first := marshal(t, catalog.New(tr.root, catalog.WithChildren()))
	for range 5 {
		assert.Equal(t, first, marshal(t, catalog.New(tr.root, catalog.WithChildren())))
	}
	assert.Contains(t, first, `"registry": "child registry #1.1"`)
}

func TestWithChildrenMarkdown(t *testing.T) {
	tr := newRegistryTree(t)
	md := markdown(t, catalog.New(tr.root, catalog.WithChildren()))
	assert.Contains(t, md, "| 404 Not Found | `NOT_FOUND` | `admin.user-missing` | No such account in the admin directory |  |  | "+
		"value \"sql: no rows in result set\" (`*errors.errorString`) in child registry #1<br>"+
		"type `*json.SyntaxError` from `encoding/json` in child registry #1.1 |\n")
	assert.Contains(t, md, "| 409 Conflict | `ALREADY_EXISTS` | `billing.conflict` | The invoice changed |", "a child's definition has a row")
}
