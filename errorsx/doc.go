// Package errorsx is otelkit's error registry: define each error a service
// can return once, by HTTP status, stable id and public message, and let one
// definition drive the client's body (package httpx) and the telemetry
// (package otelbridge).
//
// # Defining errors
//
// Definitions are package-level variables, so a malformed one stops the
// program at start-up with a panic that names it:
//
//	var ErrRateLimited = errorsx.Define(http.StatusTooManyRequests, "auth.rate-limited",
//		"Rate limited due to too many false auth attempts from this ip")
//
// A *[Def] is an error. Return it as is, or make an occurrence that carries
// more: [Def.With] adds public info the client sees, [Def.Detailf] a public
// per-occurrence detail, [Def.Wrap] an internal cause the client never sees,
// and [Def.Join] several errors reported in one response. An occurrence has
// the same methods, so they chain: def.With("k", v).Detailf("...").Wrap(err).
// Getters are named after what they return ([Error.Info], [Error.Detail],
// [Error.Cause], [Error.Entries]). errors.Is(occ, def) is true for every
// occurrence of def.
//
// # Mapping existing errors
//
// Errors the service does not own are mapped to definitions: [Map] for error
// values (sql.ErrNoRows), [MapType] for error types (*json.SyntaxError).
// [Resolve] finds the definition of any error: it walks the wrap chain from
// the outside in and takes the first registered error, so the most specific
// mapping wins; an unregistered error resolves to [Internal]. Resolution
// cost does not grow with the number of mappings.
//
// # Registries
//
// The package-level functions use [Default]. [NewRegistry] makes another
// registry; with [WithParent] it is consulted before its parent, which is
// how a group of routes overrides the service's mappings.
package errorsx
