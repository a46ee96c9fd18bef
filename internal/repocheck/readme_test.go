package repocheck

import (
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the README's generated snippets")

// root is the repository root, two directories up.
var root = filepath.Join("..", "..")

func readFile(t *testing.T, rel string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(root, filepath.FromSlash(rel)))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// snippet is a README block generated from a file of the repository.
type snippet struct {
	name, source string
	transform    func(t *testing.T, src string) string
}

var snippets = []snippet{
	{name: "main.go", source: "otelbridge/example_setup_test.go", transform: exampleToMain},
	{name: "api_test.go", source: "examples/quickstart/api/api_test.go", transform: asIs},
	{name: "grpcx_example_test.go", source: "grpcx/example_test.go", transform: asIs},
	{name: "connectx_example_test.go", source: "connectx/example_test.go", transform: asIs},
	{name: "ginx_example_test.go", source: "ginx/example_test.go", transform: asIs},
	{name: "echox_example_test.go", source: "echox/example_test.go", transform: asIs},
}

func asIs(_ *testing.T, src string) string { return src }

// exampleToMain turns the ExampleSetup file into the main.go of a service:
// package main, and ExampleSetup (without its doc comment) named main.
func exampleToMain(t *testing.T, src string) string {
	t.Helper()
	src = strings.Replace(src, "package otelbridge_test\n", "package main\n", 1)
	re := regexp.MustCompile(`(?m)(^//.*\n)+^func ExampleSetup\(\) \{`)
	if !re.MatchString(src) {
		t.Fatal("otelbridge/example_setup_test.go: no documented func ExampleSetup")
	}
	return re.ReplaceAllString(src, "func main() {")
}

// TestReadmeSnippets checks that each generated block of the README is
// what its source gives; `go test ./internal/repocheck -update` rewrites
// them.
func TestReadmeSnippets(t *testing.T) {
	readme := readFile(t, "README.md")
	for _, s := range snippets {
		begin := "<!-- begin " + s.name + ": generated from " + s.source + " by go test ./internal/repocheck -update -->\n"
		end := "<!-- end " + s.name + " -->\n"
		i := strings.Index(readme, begin)
		j := strings.Index(readme, end)
		if i < 0 || j < i {
			t.Errorf("README.md has no block %q ... %q", begin, end)
			continue
		}
		want := "```go\n" + s.transform(t, readFile(t, s.source)) + "```\n"
		got := readme[i+len(begin) : j]
		if got == want {
			continue
		}
		if *update {
			readme = readme[:i+len(begin)] + want + readme[j:]
			continue
		}
		t.Errorf("README.md block %s differs from %s (run go test ./internal/repocheck -update):\n%s", s.name, s.source, lineDiff(got, want))
	}
	if *update {
		if err := os.WriteFile(filepath.Join(root, "README.md"), []byte(readme), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// lineDiff shows the first differing line of got and want with context.
func lineDiff(got, want string) string {
	g, w := strings.Split(got, "\n"), strings.Split(want, "\n")
	for i := 0; i < max(len(g), len(w)); i++ {
		var gl, wl string
		if i < len(g) {
			gl = g[i]
		}
		if i < len(w) {
			wl = w[i]
		}
		if gl != wl {
			return "line " + strconv.Itoa(i+1) + ":\n  README: " + gl + "\n  source: " + wl
		}
	}
	return ""
}
