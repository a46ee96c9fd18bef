package reqctx_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/otelkit/otelkit/errorsx"
	"github.com/otelkit/otelkit/internal/reqctx"
)

func TestRPC(t *testing.T) {
	peerCalls, userCalls := 0, 0
	reg := errorsx.NewRegistry()
	type k struct{}
	parent := context.WithValue(context.Background(), k{}, "v")
	ctx := context.Context(&reqctx.RPC{
		Context:  parent,
		System:   "grpc",
		Method:   "pkg.Svc/Get",
		PeerFunc: func(context.Context) string { peerCalls++; return "127.0.0.1:5000" },
		User:     func(context.Context) string { userCalls++; return "u-1" },
		Reg:      reg,
	})
	assert.Equal(t, "v", ctx.Value(k{}), "other keys go to the call's context")
	assert.Zero(t, peerCalls+userCalls, "nothing is computed before someone asks")

	info, ok := reqctx.FromContext(ctx)
	assert.True(t, ok)
	assert.True(t, info.RPC())
	assert.Equal(t, reqctx.Info{RPCSystem: "grpc", RPCMethod: "pkg.Svc/Get", ClientAddress: "127.0.0.1", UserID: "u-1"}, info)
	assert.Equal(t, 1, peerCalls)
	assert.Same(t, reg, ctx.Value(reqctx.SourceKey).(interface{ Registry() *errorsx.Registry }).Registry())
	assert.Same(t, errorsx.Default(), (&reqctx.RPC{Context: parent}).Registry())

	// Peer wins over PeerFunc; an address without a port is kept whole.
	info, _ = reqctx.FromContext(&reqctx.RPC{Context: parent, System: "connectrpc", Peer: "[::1]:80", PeerFunc: func(context.Context) string { panic("asked") }})
	assert.Equal(t, "::1", info.ClientAddress)
	assert.Equal(t, "pipe", reqctx.Host("pipe"))
}

// TestRPCInsideHTTP: an RPC served inside an HTTP handler (Connect under
// httpx) keeps the request's facts and adds its own.
func TestRPCInsideHTTP(t *testing.T) {
	calls := 0
	httpCtx := reqctx.WithSource(context.Background(), source{&calls})
	info, _ := reqctx.FromContext(&reqctx.RPC{Context: httpCtx, System: "connectrpc", Method: "pkg.Svc/Get"})
	assert.Equal(t, reqctx.Info{Route: "/r", Method: "GET", ClientAddress: "127.0.0.1", UserID: "u", RPCSystem: "connectrpc", RPCMethod: "pkg.Svc/Get"}, info)

	info, _ = reqctx.FromContext(&reqctx.RPC{Context: httpCtx, System: "connectrpc", User: func(context.Context) string { return "" }})
	assert.Equal(t, "u", info.UserID, "an empty user from the RPC's resolver keeps the request's")
}
