// Command otelkit is the command line of otelkit.
//
// # catalog
//
// The catalog command prints the error catalog of a service without running
// it:
//
//	go run github.com/otelkit/otelkit/cmd/otelkit catalog [flags] [packages]
//
// It resolves the package patterns with "go list" in the current module,
// writes a temporary program inside the module that imports those packages
// (so their package-level errorsx.Define, Map and MapType calls run), runs
// it, and renders the catalog of errorsx.Default() and of every registry
// made from it with errorsx.WithParent (recursively), such as a route
// group's; a mapping registered in such a registry is listed with it
// ("child registry #1", numbered in creation order, see catalog.Mapped).
// Internal packages below the module root (a/internal/x) are imported
// through a temporary package in the directory allowed to import them (a/).
// The temporary program and packages are removed afterwards. Packages named main cannot be imported and are
// skipped with a warning: keep definitions in an ordinary package. The
// imported packages' init functions run, as in any program that imports
// them.
//
// When some errors lack a language that others have, a warning listing
// them is written to standard error; the catalog is still written and the
// exit code is 0 unless -check-translations is given.
//
// Flags:
//
//	-format markdown|json|openapi   output format (default markdown)
//	-o file                         write to file instead of standard output
//	-base-url URL                   docs base URL: type = URL + id
//	-title text, -version text      catalog title and API version
//	-check-translations             list the languages each error lacks; exit 1 if any
//	-tags list                      build tags for go list and the build
//	-C dir                          run in dir instead of the current directory
//
// Examples:
//
//	go run github.com/otelkit/otelkit/cmd/otelkit catalog -o ERRORS.md ./...
//	go run github.com/otelkit/otelkit/cmd/otelkit catalog -format openapi -base-url https://api.example.com/errors/ -o errors.openapi.json ./api
//	go run github.com/otelkit/otelkit/cmd/otelkit catalog -check-translations ./...
package main
