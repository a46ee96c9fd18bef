package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"go/token"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"text/template"
	"unicode"

	"github.com/otelkit/otelkit/catalog"
)

// catalogFlags are the settings of one catalog run.
type catalogFlags struct {
	format            string
	output            string
	baseURL           string
	title             string
	version           string
	tags              string
	dir               string
	renderer          string
	checkTranslations bool
	patterns          []string
}

func runCatalog(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	var f catalogFlags
	fs := flag.NewFlagSet("otelkit catalog", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&f.format, "format", "markdown", "output `format`: markdown, json or openapi")
	fs.StringVar(&f.output, "o", "", "write the catalog to `file` instead of standard output")
	fs.StringVar(&f.baseURL, "base-url", "", "docs base `URL`; an error's type is URL followed by its id")
	fs.StringVar(&f.title, "title", "Errors", "catalog `title`")
	fs.StringVar(&f.version, "version", "", "API `version` (OpenAPI info.version)")
	fs.StringVar(&f.tags, "tags", "", "comma-separated build `tags`")
	fs.StringVar(&f.dir, "C", "", "run in `dir` instead of the current directory")
	fs.StringVar(&f.renderer, "renderer", "", "the httpx.Renderer the service answers errors with, so the catalog describes its bodies: "+
		"errorlist, problem, or a Go `expression` of an importable package as import/path.Expr "+
		"(example.com/svc/api.Body{}, example.com/svc/api.NewRenderer()); default: httpx's problem+json")
	fs.BoolVar(&f.checkTranslations, "check-translations", false, "report the languages each error lacks and exit 1 if any")
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), "usage: otelkit catalog [flags] [packages]\n\n"+
			"Prints the error catalog of the errorsx definitions in packages (default \".\")\n"+
			"without running the service.\n\nFlags:\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if !slices.Contains([]string{"markdown", "json", "openapi"}, f.format) {
		fmt.Fprintf(stderr, "otelkit catalog: unknown -format %q (want markdown, json or openapi)\n", f.format)
		return 2
	}
	if _, _, err := rendererExpr(f.renderer); err != nil {
		fmt.Fprintf(stderr, "otelkit catalog: %v\n", err)
		return 2
	}
	f.patterns = fs.Args()
	if len(f.patterns) == 0 {
		f.patterns = []string{"."}
	}

	cat, err := loadCatalog(ctx, f, stderr)
	if err != nil {
		fmt.Fprintf(stderr, "otelkit catalog: %v\n", err)
		return 1
	}
	if f.checkTranslations {
		return reportMissing(cat, stdout)
	}
	if err := writeCatalog(cat, f, stdout); err != nil {
		fmt.Fprintf(stderr, "otelkit catalog: %v\n", err)
		return 1
	}
	warnMissing(cat, stderr)
	return 0
}

// warnMissing writes a summary of the missing translations to w, if any:
// the catalog is still written and the exit code stays 0 (with
// -check-translations the full list is the output and the exit code 1).
func warnMissing(cat *catalog.Catalog, w io.Writer) {
	missing := cat.MissingTranslations()
	if len(missing) == 0 {
		return
	}
	ids := make([]string, len(missing))
	for i, m := range missing {
		ids[i] = m.ID + " (" + strings.Join(m.Languages, ", ") + ")"
	}
	noun := "errors lack"
	if len(missing) == 1 {
		noun = "error lacks"
	}
	fmt.Fprintf(w, "otelkit catalog: warning: %d %s translations (languages in use: %s): %s\n"+
		"otelkit catalog: run with -check-translations to list them and fail\n",
		len(missing), noun, orNone(cat.Languages()), strings.Join(ids, ", "))
}

func reportMissing(cat *catalog.Catalog, w io.Writer) int {
	missing := cat.MissingTranslations()
	if len(missing) == 0 {
		fmt.Fprintf(w, "ok: every error has every language (%s)\n", orNone(cat.Languages()))
		return 0
	}
	fmt.Fprintf(w, "missing translations (languages in use: %s):\n", orNone(cat.Languages()))
	for _, m := range missing {
		fmt.Fprintf(w, "  %s: %s\n", m.ID, strings.Join(m.Languages, ", "))
	}
	return 1
}

func orNone(s []string) string {
	if len(s) == 0 {
		return "none"
	}
	return strings.Join(s, ", ")
}

func writeCatalog(cat *catalog.Catalog, f catalogFlags, stdout io.Writer) error {
	var buf bytes.Buffer
	var err error
	switch f.format {
	case "json":
		err = cat.WriteJSON(&buf)
	case "openapi":
		err = cat.WriteOpenAPI(&buf)
	default:
		err = cat.WriteMarkdown(&buf)
	}
	if err != nil {
		return err
	}
	if f.output == "" || f.output == "-" {
		_, err = stdout.Write(buf.Bytes())
		return err
	}
	out := f.output
	if f.dir != "" && !filepath.IsAbs(out) {
		out = filepath.Join(f.dir, out)
	}
	if err := os.WriteFile(out, buf.Bytes(), 0o644); err != nil {
		return fmt.Errorf("writing the catalog: %w", err)
	}
	return nil
}

// listedPackage is what "go list -json" reports of one package.
type listedPackage struct {
	ImportPath string
	Name       string
	Dir        string
	Module     *listedModule
	Error      *struct{ Err string }
}

// listedModule is what "go list -json" reports of a package's module.
type listedModule struct {
	Path string
	Dir  string
	Main bool
}

// loadCatalog builds and runs the generated program and decodes the
// catalog it prints.
func loadCatalog(ctx context.Context, f catalogFlags, stderr io.Writer) (*catalog.Catalog, error) {
	dir := f.dir
	if dir == "" {
		dir = "."
	}
	dir, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	pkgs, err := listPackages(ctx, dir, f.tags, f.patterns)
	if err != nil {
		return nil, err
	}
	root, err := moduleRoot(ctx, dir, pkgs)
	if err != nil {
		return nil, err
	}
	var imports []listedPackage
	for _, p := range pkgs {
		if p.Name == "main" {
			fmt.Fprintf(stderr, "otelkit catalog: skipping %s: package main cannot be imported; "+
				"move its errorsx definitions to another package to catalog them\n", p.ImportPath)
			continue
		}
		imports = append(imports, p)
	}
	if len(imports) == 0 {
		return nil, fmt.Errorf("no importable packages in %s (only package main)", strings.Join(f.patterns, " "))
	}

	gen, err := os.MkdirTemp(root, "_otelkit_catalog_")
	if err != nil {
		return nil, fmt.Errorf("creating the temporary program: %w", err)
	}
	defer os.RemoveAll(gen)
	// An internal package below the module root (a/internal/x) may only be
	// imported from within a/; a shim package there imports it for the
	// program.
	var direct []string
	pending := imports
	for len(pending) > 0 {
		d, shims := importPlan(root, pending, stderr)
		direct = append(direct, d...)
		pending = nil
		for _, sh := range shims {
			dir, err := os.MkdirTemp(sh.parent, "_otelkit_catalog_shim_")
			if err != nil {
				return nil, fmt.Errorf("creating a temporary shim package: %w", err)
			}
			defer os.RemoveAll(dir)
			if err := os.WriteFile(filepath.Join(dir, "shim.go"), sh.source(), 0o644); err != nil {
				return nil, fmt.Errorf("writing a temporary shim package: %w", err)
			}
			rel, err := filepath.Rel(sh.module.Dir, dir)
			if err != nil {
				return nil, err
			}
			// The shim may itself be internal (a/internal/b/_shim imports
			// a/internal/b/internal/c): it is planned in turn, one level
			// up each time.
			pending = append(pending, listedPackage{
				ImportPath: sh.module.Path + "/" + filepath.ToSlash(rel),
				Name:       "shim",
				Dir:        dir,
				Module:     sh.module,
			})
		}
	}
	if len(direct) == 0 {
		return nil, fmt.Errorf("no importable packages in %s", strings.Join(f.patterns, " "))
	}
	src, err := generate(f, direct)
	if err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(gen, "main.go"), src, 0o644); err != nil {
		return nil, fmt.Errorf("writing the temporary program: %w", err)
	}

	args := []string{"run"}
	if f.tags != "" {
		args = append(args, "-tags", f.tags)
	}
	// Run from the user's directory so compiler messages name their files
	// as the user sees them.
	rel, err := filepath.Rel(dir, gen)
	if err != nil || strings.HasPrefix(rel, "..") {
		rel = gen
	} else {
		rel = "." + string(filepath.Separator) + rel
	}
	args = append(args, rel)
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Dir = dir
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Run(); err != nil {
		msg := strings.TrimSpace(errOut.String())
		hint := ""
		switch {
		case strings.Contains(msg, "missing go.sum entry"):
			// The catalog package imports httpx (renderers describe the
			// bodies), so a service that does not use httpx may lack the
			// checksums of its dependencies (chi, otelhttp).
			hint = "\n(the generated program imports github.com/otelkit/otelkit/catalog, which imports " +
				"github.com/otelkit/otelkit/httpx and its dependencies; add their checksums with " +
				"go get github.com/otelkit/otelkit/catalog, or run with GOFLAGS=-mod=mod)"
		case strings.Contains(msg, "github.com/otelkit/otelkit/catalog"):
			hint = "\n(the generated program imports github.com/otelkit/otelkit/catalog: the module must require " +
				"a version of github.com/otelkit/otelkit that has it, e.g. go get github.com/otelkit/otelkit@latest; " +
				"with a vendor directory, run with GOFLAGS=-mod=mod)"
		}
		return nil, fmt.Errorf("building and running the catalog program for %s failed (%v):\n%s%s",
			strings.Join(f.patterns, " "), err, msg, hint)
	}
	if errOut.Len() > 0 {
		stderr.Write(errOut.Bytes()) // the packages' own output at init
	}
	cat, err := catalog.ReadJSON(&out)
	if err != nil {
		return nil, fmt.Errorf("reading the catalog program's output: %w", err)
	}
	return cat, nil
}

// moduleRoot returns the directory of the main module the temporary
// program goes in: the module of the first listed package that is in a
// main module (in a go.work workspace every used module is one), else the
// module containing dir.
func moduleRoot(ctx context.Context, dir string, pkgs []listedPackage) (string, error) {
	for _, p := range pkgs {
		if p.Module != nil && p.Module.Main && p.Module.Dir != "" {
			return p.Module.Dir, nil
		}
	}
	cmd := exec.CommandContext(ctx, "go", "env", "GOMOD")
	cmd.Dir = dir
	var errOut bytes.Buffer
	cmd.Stderr = &errOut
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %v: %s", err, strings.TrimSpace(errOut.String()))
	}
	gomod := strings.TrimSpace(string(out))
	if gomod == "" || gomod == os.DevNull {
		return "", fmt.Errorf("%s is not inside a Go module (run the command in the service's module)", dir)
	}
	return filepath.Dir(gomod), nil
}

// listPackages resolves the patterns with go list.
func listPackages(ctx context.Context, dir, tags string, patterns []string) ([]listedPackage, error) {
	args := []string{"list", "-e", "-json=ImportPath,Name,Dir,Module,Error"}
	if tags != "" {
		args = append(args, "-tags", tags)
	}
	args = append(args, "--")
	args = append(args, patterns...)
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Dir = dir
	var errOut bytes.Buffer
	cmd.Stderr = &errOut
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("go list %s: %v\n%s", strings.Join(patterns, " "), err, strings.TrimSpace(errOut.String()))
	}
	var pkgs []listedPackage
	var problems []string
	dec := json.NewDecoder(bytes.NewReader(out))
	for dec.More() {
		var p listedPackage
		if err := dec.Decode(&p); err != nil {
			return nil, fmt.Errorf("decoding go list output: %w", err)
		}
		if p.Error != nil {
			problems = append(problems, strings.TrimSpace(p.Error.Err))
			continue
		}
		pkgs = append(pkgs, p)
	}
	if len(problems) > 0 {
		return nil, fmt.Errorf("go list %s:\n%s", strings.Join(patterns, " "), strings.Join(problems, "\n"))
	}
	if len(pkgs) == 0 {
		msg := strings.TrimSpace(errOut.String())
		if msg != "" {
			msg = ":\n" + msg
		}
		return nil, fmt.Errorf("no packages match %s%s", strings.Join(patterns, " "), msg)
	}
	return pkgs, nil
}

// shim is a temporary package that imports internal packages on behalf of
// the program, made in the directory whose tree may import them.
type shim struct {
	parent  string
	module  *listedModule
	imports []string
}

var shimTemplate = template.Must(template.New("shim").Parse(`// Code generated by otelkit catalog; DO NOT EDIT.
// This package is temporary: otelkit catalog removes it after running.

// Package shim imports internal packages for the catalog program.
package shim

import (
{{- range .}}
	_ {{printf "%q" .}}
{{- end}}
)
`))

func (s shim) source() []byte {
	var buf bytes.Buffer
	_ = shimTemplate.Execute(&buf, s.imports) // a template of strings cannot fail
	return buf.Bytes()
}

// importPlan splits the packages into those the program at the module
// root imports itself and shims for the internal packages it may not
// import (a/internal/x may only be imported from within a/, see
// https://go.dev/cmd/go/#hdr-Internal_Directories). Internal packages of other modules
// cannot be imported at all: they are skipped with a warning.
func importPlan(root string, pkgs []listedPackage, stderr io.Writer) (direct []string, shims []*shim) {
	byParent := map[string]*shim{}
	for _, p := range pkgs {
		parent, ok := internalRoot(p.ImportPath, p.Dir)
		switch {
		case !ok || parent == root:
			direct = append(direct, p.ImportPath)
			continue
		case p.Module == nil || !p.Module.Main || !within(root, parent):
			fmt.Fprintf(stderr, "otelkit catalog: skipping %s: an internal package of another module cannot be imported\n", p.ImportPath)
			continue
		}
		sh := byParent[parent]
		if sh == nil {
			sh = &shim{parent: parent, module: p.Module}
			byParent[parent] = sh
			shims = append(shims, sh)
		}
		sh.imports = append(sh.imports, p.ImportPath)
	}
	return direct, shims
}

// internalRoot returns the directory whose tree may import the package at
// dir with the given import path: the parent of its last "internal"
// element. ok is false for a package that is not internal.
func internalRoot(importPath, dir string) (string, bool) {
	elems := strings.Split(importPath, "/")
	last := -1
	for i, e := range elems {
		if e == "internal" {
			last = i
		}
	}
	if last < 0 {
		return "", false
	}
	// dir ends with the elements from last on; strip them.
	up := len(elems) - last
	for range up {
		dir = filepath.Dir(dir)
	}
	return dir, true
}

// within reports whether path is dir or inside it.
func within(dir, path string) bool {
	rel, err := filepath.Rel(dir, path)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator)) && !filepath.IsAbs(rel)
}

var programTemplate = template.Must(template.New("main").Parse(`// Code generated by otelkit catalog; DO NOT EDIT.
// This program is temporary: otelkit catalog removes it after running it.

package main

import (
	"fmt"
	"os"

	"github.com/otelkit/otelkit/catalog"
	"github.com/otelkit/otelkit/errorsx"
{{- if .RendererImport}}
	renderer {{printf "%q" .RendererImport}}
{{- end}}
{{- if .Renderer}}
	"github.com/otelkit/otelkit/httpx"
{{- end}}
{{range .Imports}}
	_ {{printf "%q" .}}
{{- end}}
)

func main() {
	cat := catalog.New(errorsx.Default(),
		catalog.WithChildren(),
		catalog.WithTitle({{printf "%q" .Title}}),
		catalog.WithVersion({{printf "%q" .Version}}),
		catalog.WithBaseURL({{printf "%q" .BaseURL}}),
{{- if .Renderer}}
		catalog.WithRenderer(httpx.Renderer({{.Renderer}})),
{{- end}}
	)
	if err := cat.WriteJSON(os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
`))

// generate returns the source of the temporary program.
func generate(f catalogFlags, imports []string) ([]byte, error) {
	imp, expr, err := rendererExpr(f.renderer)
	if err != nil {
		return nil, err
	}
	data := struct {
		Imports                 []string
		Title, Version, BaseURL string
		RendererImport          string
		Renderer                string
	}{Imports: imports, Title: f.title, Version: f.version, BaseURL: f.baseURL, RendererImport: imp, Renderer: expr}
	var buf bytes.Buffer
	if err := programTemplate.Execute(&buf, data); err != nil {
		return nil, fmt.Errorf("generating the catalog program: %w", err)
	}
	return buf.Bytes(), nil
}

// rendererExpr returns the import path and the Go expression of the
// renderer named by the -renderer flag: "" for none (httpx's default),
// "problem" and "errorlist" for httpx's own, else import/path.Expr, the
// expression evaluated in the package as "renderer.Expr".
func rendererExpr(flag string) (importPath, expr string, err error) {
	switch strings.ToLower(flag) {
	case "":
		return "", "", nil
	case "problem", "problemjson":
		return "", "httpx.ProblemJSON{}", nil
	case "errorlist":
		return "", "httpx.ErrorList{}", nil
	}
	slash := strings.LastIndex(flag, "/")
	dot := strings.Index(flag[slash+1:], ".")
	if slash < 0 || dot <= 0 || strings.ContainsAny(flag, "\n\r\"`") {
		return "", "", fmt.Errorf("-renderer %q: want errorlist, problem or import/path.Expr (e.g. example.com/svc/api.Body{})", flag)
	}
	dot += slash + 1
	name := flag[dot+1:]
	ident := name
	if i := strings.IndexFunc(name, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) && r != '_' }); i >= 0 {
		ident = name[:i]
	}
	if !token.IsIdentifier(ident) || !token.IsExported(ident) {
		return "", "", fmt.Errorf("-renderer %q: %q is not an exported name of %s", flag, name, flag[:dot])
	}
	return flag[:dot], "renderer." + name, nil
}
