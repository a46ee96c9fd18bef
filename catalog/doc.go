// Package catalog publishes an errorsx registry as a contract: every error a
// service can return, with its status, id, message, description,
// translations and the Go errors mapped to it, rendered for people (an
// ERRORS.md table, HTML pages), for tools (JSON) and for API descriptions
// (OpenAPI 3.1 components).
//
// # Building a catalog
//
// [New] reads a registry once and returns a [Catalog], plain data sorted by
// status then id, so the output does not depend on package initialisation
// order and a change to one error is one changed line in review. The
// built-in definitions (internal, not-found, method-not-allowed) are
// included; [WithParents] adds the definitions of parent registries and
// [WithChildren] those of the registries made from it (a route group's
// registry), whose mappings name their registry ("child registry #1").
//
//	cat := catalog.New(errorsx.Default(), catalog.WithBaseURL("https://api.example.com/errors/"))
//	cat.WriteMarkdown(os.Stdout)
//
// # Formats
//
//   - [Catalog.WriteJSON]: the catalog itself, indented; [ReadJSON] reads it
//     back.
//   - [Catalog.WriteMarkdown]: a table to commit as ERRORS.md, followed by
//     the missing translations.
//   - [Catalog.WriteOpenAPI]: an OpenAPI 3.1 document whose components hold
//     the body schema, one example per id and one
//     response per status ("#/components/responses/Problem404") listing the
//     ids that can produce it.
//
// # Bodies
//
// The bodies described are those of httpx's default renderer,
// application/problem+json, unless the catalog is given the renderer the
// service uses ([WithRenderer]; the otelkit command's -renderer flag): its
// media types and JSON Schema (httpx.Describer) and, for each error, the
// body it writes.
//
// # Translations
//
// [Catalog.MissingTranslations] lists, for every definition, the languages
// some other definition has and it lacks; the otelkit command warns about
// them on standard error on every run, and its -check-translations flag
// fails on them.
//
// # The command
//
// The command github.com/otelkit/otelkit/cmd/otelkit builds the catalog of
// a service without running it: it imports the service's packages into a
// generated program, so their package-level errorsx.Define and Map calls
// run, and renders errorsx.Default() with its children; it warns on
// standard error when translations are missing:
//
//	go run github.com/otelkit/otelkit/cmd/otelkit catalog -format markdown -o ERRORS.md ./...
//
// # Serving the catalog
//
// [Handler] serves the live catalog as JSON and a human page per id. It is
// off unless mounted; mounted at the path of the service's docs base URL, a
// problem body's "type" resolves to the page of its error. It is meant for
// clients, so it leaves out the Go errors mapped to each entry (type names,
// package paths, internal error texts) unless given [WithMappings]; the
// files the command writes keep them, for the service's developers.
package catalog
