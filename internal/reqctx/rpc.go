package reqctx

import (
	"context"
	"net"

	"github.com/otelkit/otelkit/errorsx"
)

// RPC is the context of one server RPC: it carries the call's context and
// answers [SourceKey] itself, so that a transport's interceptor adds the
// RPC's facts with a single allocation:
//
//	ctx = &reqctx.RPC{Context: ctx, System: "grpc", Method: "pkg.Svc/Get", ...}
//
// Its info is computed when someone asks (an audit, an exception record):
// the user resolver and the peer address are not looked at otherwise. When
// the parent context already carries a [Source] (a Connect handler mounted
// inside an httpx Handler), the RPC's info starts from the parent's, so
// the HTTP route and the user resolved there stay visible.
type RPC struct {
	context.Context // the call's context

	// System is the rpc.system.name (semconv v1.43.0: "grpc",
	// "connectrpc").
	System string
	// Method is the rpc.method: the fully-qualified method without its
	// leading slash ("pkg.Service/Method").
	Method string
	// Peer is the caller's network address ("host:port" or "host"), when
	// the transport knows it up front; client.address is its host.
	Peer string
	// PeerFunc finds the caller's address from the call's context when Peer
	// is empty (grpc-go keeps it in the context; see peer.FromContext). It
	// runs only when the info is asked for.
	PeerFunc func(context.Context) string
	// User resolves the caller's user id (user.id); nil: none.
	User func(context.Context) string
	// Reg is the registry the transport resolves errors through, so that
	// otelbridge's captures inside the RPC resolve errors the same way;
	// nil: the process default.
	Reg *errorsx.Registry
}

// Value answers SourceKey with r and defers every other key to the call's
// context.
func (r *RPC) Value(key any) any {
	if key == SourceKey {
		return r
	}
	return r.Context.Value(key)
}

// String describes the context, as context.WithValue's String does.
func (r *RPC) String() string { return "reqctx.RPC(" + r.Method + ")" }

// RequestInfo implements [Source]: the parent's info (if any) with the
// RPC's system and method, its client address and its user.
func (r *RPC) RequestInfo() Info {
	info, _ := FromContext(r.Context)
	info.RPCSystem = r.System
	info.RPCMethod = r.Method
	addr := r.Peer
	if addr == "" && r.PeerFunc != nil {
		addr = r.PeerFunc(r.Context)
	}
	if addr != "" {
		info.ClientAddress = Host(addr)
	}
	if r.User != nil {
		if u := r.User(r.Context); u != "" {
			info.UserID = u
		}
	}
	return info
}

// Registry returns the transport's registry, or errorsx.Default().
func (r *RPC) Registry() *errorsx.Registry {
	if r.Reg != nil {
		return r.Reg
	}
	return errorsx.Default()
}

// Host returns the host of a "host:port" address (client.address carries
// no port), or addr itself when it has none.
func Host(addr string) string {
	if host, _, err := net.SplitHostPort(addr); err == nil {
		return host
	}
	return addr
}
