package api_test

import (
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/otelkit/otelkit/examples/quickstart/api"
)

// TestReadmeListsTheRoutes checks the README's table of the quickstart's
// routes against the code, both ways: every route the source registers is
// listed, and every listed route is served (not the router's 404 or 405).
func TestReadmeListsTheRoutes(t *testing.T) {
	readme, err := os.ReadFile("../../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	src, err := os.ReadFile("routes.go")
	if err != nil {
		t.Fatal(err)
	}
	var listed []string
	for _, m := range regexp.MustCompile("(?m)^\\| `((?:GET|POST|PUT|PATCH|DELETE) /[^`]*)`(?:, `([A-Z]+ /[^`]*)`)? \\|").FindAllStringSubmatch(string(readme), -1) {
		listed = append(listed, m[1])
		if m[2] != "" {
			listed = append(listed, m[2])
		}
	}
	if len(listed) == 0 {
		t.Fatal("README.md: no table of the quickstart's routes")
	}
	for _, m := range regexp.MustCompile(`\.Handle\("([A-Z]+ /[^"]*)"`).FindAllStringSubmatch(string(src), -1) {
		if !slices.Contains(listed, m[1]) {
			t.Errorf("routes.go registers %q; README.md does not list it (listed: %q)", m[1], listed)
		}
	}
	h := api.Routes(map[string]http.Handler{"/dev/errors/": http.NotFoundHandler()})
	for _, route := range listed {
		method, path, _ := strings.Cut(route, " ")
		if strings.HasPrefix(path, "/dev/") {
			continue // mounted by package main (devpages.go)
		}
		path = strings.NewReplacer("{id}", "1").Replace(path)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(method, path, strings.NewReader(`{}`)))
		if body := rec.Body.String(); strings.Contains(body, `"id":"not-found"`) || strings.Contains(body, `"id":"method-not-allowed"`) {
			t.Errorf("README.md lists %s; the quickstart answers %d %s", route, rec.Code, body)
		}
	}
}
