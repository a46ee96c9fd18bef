// Package reqctx carries request-scoped facts through a context.Context so
// that packages which must not import each other (httpx, grpcx and connectx
// set them; auditx, otelbridge and internal/record read them) agree on one
// key.
package reqctx

import (
	"context"
	"sync/atomic"

	"go.opentelemetry.io/otel/attribute"
)

// Info describes the HTTP request or server RPC a context belongs to.
type Info struct {
	Route         string // http.route, e.g. "/users/{id}"
	Method        string // http.request.method
	ClientAddress string // client.address
	UserID        string // user.id, from the service's user resolver

	// RPCSystem is the rpc.system.name of a server RPC ("grpc",
	// "connectrpc"); "" for a plain HTTP request. A Connect RPC served
	// inside an httpx Handler has both its HTTP fields and its RPC ones.
	RPCSystem string
	// RPCMethod is the rpc.method of a server RPC, the fully-qualified
	// method without its leading slash ("pkg.Service/Method").
	RPCMethod string
}

// RPC reports whether the info describes a server RPC.
func (i Info) RPC() bool { return i.RPCSystem != "" }

// Source supplies Info lazily: the route is only known once the router has
// matched, and the user resolver runs only when someone asks.
type Source interface {
	RequestInfo() Info
}

type sourceKey struct{}

// SourceKey is the context key under which a Source is stored. httpx's
// per-request context answers it without an extra context layer.
var SourceKey any = sourceKey{}

// WithSource returns a copy of ctx that carries src.
func WithSource(ctx context.Context, src Source) context.Context {
	return context.WithValue(ctx, SourceKey, src)
}

// FromContext returns the request info carried by ctx; ok is false outside
// an httpx request or an RPC served under grpcx or connectx.
func FromContext(ctx context.Context) (info Info, ok bool) {
	if ctx == nil {
		return Info{}, false
	}
	src, _ := ctx.Value(SourceKey).(Source)
	if src == nil {
		return Info{}, false
	}
	return src.RequestInfo(), true
}

type extrasKey struct{}

// extrasUsed is set by the first WithExtras that adds something: until
// then no context carries extras (the key is this package's), so Extras
// answers without walking the context.
var extrasUsed atomic.Bool

// WithExtras returns a copy of ctx whose extras are the ones already in ctx
// merged with attrs; a key set again replaces its earlier value.
func WithExtras(ctx context.Context, attrs ...attribute.KeyValue) context.Context {
	if len(attrs) == 0 {
		return ctx
	}
	extrasUsed.Store(true)
	prev := Extras(ctx)
	merged := make([]attribute.KeyValue, 0, len(prev)+len(attrs))
	merged = append(merged, prev...)
next:
	for _, kv := range attrs {
		for i := range merged {
			if merged[i].Key == kv.Key {
				merged[i] = kv
				continue next
			}
		}
		merged = append(merged, kv)
	}
	return context.WithValue(ctx, extrasKey{}, merged)
}

// Extras returns the extras carried by ctx. The slice must not be modified.
func Extras(ctx context.Context) []attribute.KeyValue {
	if ctx == nil || !extrasUsed.Load() {
		return nil
	}
	kv, _ := ctx.Value(extrasKey{}).([]attribute.KeyValue)
	return kv
}
