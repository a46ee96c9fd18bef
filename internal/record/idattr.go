package record

import (
	"go.opentelemetry.io/otel/attribute"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"

	"github.com/otelkit/otelkit/errorsx"
	"github.com/otelkit/otelkit/internal/cowmap"
)

// idAttrs holds the two attributes a definition's id labels a span and
// the request's metrics with: otelkit.error.id (a rendered 4xx) and
// error.type (a failure).
type idAttrs [2]attribute.KeyValue

// idCache maps a definition to its id's attributes. Definitions are made
// at start-up (and every unregistered error resolves to errorsx.Internal),
// so the map stays small; keyed by pointer, a lookup in a small map
// compares words without hashing (a string key costs a hash of the id
// every time). Past maxCachedIDs, the attributes are made on every call,
// as without the cache.
var idCache cowmap.Map[*errorsx.Def, *idAttrs]

const maxCachedIDs = 1024

// idAttr returns the attribute of d's id under otelkit.error.id, or under
// error.type when failed, as a one-element slice made once per
// definition: handing it to span.SetAttributes (whose variadic slice
// escapes through the interface) then costs no allocation. Its capacity is
// one, so an append by a callee never writes into the shared array;
// callees only read it (the SDK and otelhttp's Labeler copy what they
// keep).
func idAttr(d *errorsx.Def, failed bool) []attribute.KeyValue {
	a := idAttrsOf(d)
	if failed {
		return a[1:2:2]
	}
	return a[0:1:1]
}

func idAttrsOf(d *errorsx.Def) *idAttrs {
	if a, ok := idCache.Load(d); ok {
		return a
	}
	return idCache.LoadOrMake(d, maxCachedIDs, func() *idAttrs {
		id := d.ID()
		return &idAttrs{KeyErrorID.String(id), semconv.ErrorTypeKey.String(id)}
	})
}
