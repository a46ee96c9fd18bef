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
//	-renderer name                  the service's httpx renderer, whose bodies the catalog
//	                                describes: errorlist, problem (the default) or
//	                                import/path.Expr, e.g. example.com/svc/api.Body{}
//	-check-translations             list the languages each error lacks; exit 1 if any
//	-tags list                      build tags for go list and the build
//	-C dir                          run in dir instead of the current directory
//
// Examples:
//
//	go run github.com/otelkit/otelkit/cmd/otelkit catalog -o ERRORS.md ./...
//	go run github.com/otelkit/otelkit/cmd/otelkit catalog -format openapi -base-url https://api.example.com/errors/ -o errors.openapi.json ./api
//	go run github.com/otelkit/otelkit/cmd/otelkit catalog -check-translations ./...
//	go run github.com/otelkit/otelkit/cmd/otelkit catalog -renderer example.com/svc/api.Body{} -o ERRORS.md ./...
//
// # audit verify
//
// The audit verify command checks an audit trail made by auditx with the
// hash chain of package auditx/chain (otelbridge.Setup turns it on for
// exported audits):
//
//	otelkit audit verify [-key pub.pem ...] [-json] [-allow-open] [-url URL [-query LogsQL]] [files or directories]
//
// It reads the collector's JSONL archive (the file exporter's OTLP JSON
// lines; a directory is read oldest file first, rotated backups before the
// live file, gzip found by its magic bytes; files of other signals are
// skipped) and VictoriaLogs LogsQL exports (JSON lines of
// /select/logsql/query, as files, or queried with -url), groups the records
// by stream and reports per stream: records, first and last sequence
// number, gaps (deleted records), records whose content does not match
// their hash (modified), records relabelled from another stream, records
// that do not link to the one before or take a sequence number twice
// (inserted or forged), records stored out of order (reordered; checked in
// archives, whose order is the storage order), checkpoints whose signature
// does not verify or whose key is not given with -key (give every key in
// use: rotation), and records after the last checkpoint of a stream that
// has no final checkpoint and no successor (possibly cut off; -allow-open
// accepts that for processes still running). Repeats of a record (same
// record id and hash: at-least-once delivery) are counted as duplicates,
// not as tampering. Without any signed checkpoint the report says the trail
// is unsigned. The exit code is 0 only for a whole, valid trail, 1 when
// anything was found, 2 for usage or read errors.
//
// # audit keygen
//
//	otelkit audit keygen -o key.pem [-pub pub.pem]
//
// writes a new Ed25519 signing key (PKCS#8 PEM, mode 0600; give it to the
// service in OTELKIT_AUDIT_SIGNING_KEY_FILE) and its public key (PKIX PEM,
// for verify -key; standard output without -pub).
package main
