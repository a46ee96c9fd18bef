package repocheck

import (
	"bytes"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
)

// repoFiles returns the repository's files (slash-separated, relative to
// the root): git's list when the tree is a git checkout, else a walk that
// leaves out bin/ and .git/.
func repoFiles(t *testing.T) []string {
	t.Helper()
	cmd := exec.Command("git", "ls-files", "-z")
	cmd.Dir = root
	if out, err := cmd.Output(); err == nil && len(out) > 0 {
		var files []string
		for _, f := range strings.Split(strings.TrimRight(string(out), "\x00"), "\x00") {
			if _, err := os.Stat(filepath.Join(root, f)); err == nil { // deleted in the work tree
				files = append(files, f)
			}
		}
		return files
	}
	var files []string
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		rel = filepath.ToSlash(rel)
		if d.IsDir() && (rel == "bin" || rel == ".git" || d.Name() == "node_modules") {
			return filepath.SkipDir
		}
		if !d.IsDir() {
			files = append(files, rel)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

// TestNoMachineSpecificPaths: no file names a path of the machine it was
// written on (a checkout, a home directory).
func TestNoMachineSpecificPaths(t *testing.T) {
	// Built from parts so that this file does not match itself.
	re := regexp.MustCompile(`(^|[\s"'(=:` + "`" + `])/(` + strings.Join([]string{"wo" + "rk", "ro" + "ot", "ho" + "me", "Us" + "ers"}, "|") + `)/`)
	for _, f := range repoFiles(t) {
		b, err := os.ReadFile(filepath.Join(root, f))
		if err != nil {
			t.Fatal(err)
		}
		if bytes.IndexByte(b, 0) >= 0 {
			continue // binary (the API snapshot)
		}
		for i, line := range strings.Split(string(b), "\n") {
			if m := re.FindString(line); m != "" {
				t.Errorf("%s:%d names a machine-specific path: %s", f, i+1, strings.TrimSpace(line))
			}
		}
	}
}

// goPackages returns the directories (slash-separated, relative to the
// root) of the root module's packages: nested modules, testdata, bin and
// directories starting with . or _ left out, as the go command does.
func goPackages(t *testing.T) map[string][]string {
	t.Helper()
	pkgs := map[string][]string{} // dir -> non-test .go files
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		rel = filepath.ToSlash(rel)
		if d.IsDir() {
			name := d.Name()
			if rel != "." && (name == "testdata" || name == "bin" || strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_") || name == "node_modules") {
				return filepath.SkipDir
			}
			if rel != "." {
				if _, err := os.Stat(filepath.Join(p, "go.mod")); err == nil {
					return filepath.SkipDir // a nested module
				}
			}
			return nil
		}
		if strings.HasSuffix(rel, ".go") && !strings.HasSuffix(rel, "_test.go") {
			dir := filepath.ToSlash(filepath.Dir(rel))
			pkgs[dir] = append(pkgs[dir], rel)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return pkgs
}

// TestExportedIdentifiersAreDocumented: every package of the root module
// has a package comment, and every exported function, method (of an
// exported type), type, constant and variable has a doc comment (a
// grouped const or var may share the group's).
func TestExportedIdentifiersAreDocumented(t *testing.T) {
	pkgs := goPackages(t)
	dirs := make([]string, 0, len(pkgs))
	for d := range pkgs {
		dirs = append(dirs, d)
	}
	sort.Strings(dirs)
	checked := 0
	for _, dir := range dirs {
		fset := token.NewFileSet()
		hasPkgDoc := false
		for _, f := range pkgs[dir] {
			file, err := parser.ParseFile(fset, filepath.Join(root, f), nil, parser.ParseComments)
			if err != nil {
				t.Fatal(err)
			}
			if file.Doc != nil {
				hasPkgDoc = true
			}
			for _, decl := range file.Decls {
				for _, name := range undocumented(decl) {
					t.Errorf("%s: %s has no doc comment", fset.Position(decl.Pos()), name)
				}
				checked++
			}
		}
		if !hasPkgDoc {
			t.Errorf("package %s has no package comment (put it in doc.go)", dir)
		}
	}
	if checked == 0 {
		t.Fatal("no declarations checked")
	}
}

// undocumented returns the exported names decl declares without a doc
// comment.
func undocumented(decl ast.Decl) []string {
	var out []string
	switch d := decl.(type) {
	case *ast.FuncDecl:
		if !d.Name.IsExported() || d.Doc != nil {
			return nil
		}
		if d.Recv != nil {
			recv := receiverType(d.Recv.List[0].Type)
			if !ast.IsExported(recv) {
				return nil // not in the package's documentation
			}
			return []string{recv + "." + d.Name.Name}
		}
		return []string{d.Name.Name}
	case *ast.GenDecl:
		if d.Tok == token.IMPORT {
			return nil
		}
		for _, spec := range d.Specs {
			switch s := spec.(type) {
			case *ast.TypeSpec:
				if s.Name.IsExported() && s.Doc == nil && d.Doc == nil {
					out = append(out, "type "+s.Name.Name)
				}
			case *ast.ValueSpec:
				if s.Doc != nil || s.Comment != nil || d.Doc != nil {
					continue
				}
				for _, n := range s.Names {
					if n.IsExported() {
						out = append(out, n.Name)
					}
				}
			}
		}
	}
	return out
}

func receiverType(e ast.Expr) string {
	switch t := e.(type) {
	case *ast.StarExpr:
		return receiverType(t.X)
	case *ast.IndexExpr:
		return receiverType(t.X)
	case *ast.IndexListExpr:
		return receiverType(t.X)
	case *ast.Ident:
		return t.Name
	}
	return ""
}

// TestReadmePackageTable: the README's table of packages lists every
// library package of the root module (internal packages and examples
// aside), and every path it links to exists.
func TestReadmePackageTable(t *testing.T) {
	readme := readFile(t, "README.md")
	start := strings.Index(readme, "| package | owns |")
	if start < 0 {
		t.Fatal("README.md has no table of packages (| package | owns |)")
	}
	table := readme[start:]
	if end := strings.Index(table, "\n\n"); end >= 0 {
		table = table[:end]
	}
	var listed []string
	for _, m := range regexp.MustCompile(`\[[^\]]*\]\(([^)]+)\)`).FindAllStringSubmatch(table, -1) {
		if strings.HasPrefix(m[1], "#") || strings.Contains(m[1], "://") {
			continue // a section or another site
		}
		target := strings.TrimSuffix(m[1], "/")
		if _, err := os.Stat(filepath.Join(root, filepath.FromSlash(target))); err != nil {
			t.Errorf("README.md's package table links to %s, which does not exist", m[1])
		}
		listed = append(listed, target)
	}
	for dir := range goPackages(t) {
		if dir == "." || strings.Contains("/"+dir+"/", "/internal/") || strings.HasPrefix(dir, "examples/") {
			continue
		}
		if !slices.Contains(listed, dir) {
			t.Errorf("package %s is not in README.md's package table", dir)
		}
	}
}
