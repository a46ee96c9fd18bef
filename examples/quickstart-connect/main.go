// Command quickstart-connect serves the quickstart's operations (package
// examples/quickstart/api, the same functions and definitions its HTTP
// routes and gRPC service use) over Connect with connect-go, under
// otelconnect and connectx. It is a module of its own so that connect-go
// stays out of otelkit's go.mod.
//
//	go run .            # serve on 127.0.0.1:8081 (Connect, gRPC and gRPC-Web protocols)
//	go run . -demo      # call each error over the three protocols and print what the client got
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"connectrpc.com/connect"
	"connectrpc.com/otelconnect"

	"github.com/otelkit/otelkit/connectx"
	"github.com/otelkit/otelkit/examples/quickstart/api"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:8081", "address to serve Connect on")
	demo := flag.Bool("demo", false, "call the service's errors over Connect, gRPC and gRPC-Web, print what the client got, and exit")
	flag.Parse()
	if err := run(*addr, *demo, os.Stdout); err != nil {
		log.Fatal(err)
	}
}

// Handler returns the quickstart's operations as connect-go handlers, under
// otelconnect (spans and metrics from the global providers) and connectx
// (errors answered and recorded by their definitions).
func Handler() (http.Handler, error) {
	otel, err := otelconnect.NewInterceptor(otelconnect.WithAttributeFilter(connectx.AttributeFilter))
	if err != nil {
		return nil, err
	}
	opts := connect.WithInterceptors(otel, connectx.NewInterceptor(connectx.WithUser(userFromHeader), connectx.WithDomain("quickstart")))
	var u api.Users
	mux := http.NewServeMux()
	mux.Handle(api.GRPCMethod("GetUser"), connect.NewUnaryHandlerSimple(api.GRPCMethod("GetUser"), u.GetUser, opts))
	mux.Handle(api.GRPCMethod("CreateUser"), connect.NewUnaryHandlerSimple(api.GRPCMethod("CreateUser"), u.CreateUser, opts))
	mux.Handle(api.GRPCMethod("Login"), connect.NewUnaryHandlerSimple(api.GRPCMethod("Login"), u.Login, opts))
	mux.Handle(api.GRPCMethod("GetOrder"), connect.NewUnaryHandlerSimple(api.GRPCMethod("GetOrder"), u.GetOrder, opts))
	mux.Handle(api.GRPCMethod("Panic"), connect.NewUnaryHandlerSimple(api.GRPCMethod("Panic"), u.Panic, opts))
	mux.Handle(api.GRPCMethod("Abort"), connect.NewUnaryHandlerSimple(api.GRPCMethod("Abort"), u.Abort, opts))
	return mux, nil
}

// userFromHeader stands in for real authentication: the demo sends X-User.
func userFromHeader(ctx context.Context) string {
	if ci, ok := connect.CallInfoForHandlerContext(ctx); ok {
		return ci.RequestHeader().Get("X-User")
	}
	return ""
}

func run(addr string, demo bool, out io.Writer) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	h, err := Handler()
	if err != nil {
		return err
	}
	if demo {
		addr = "127.0.0.1:0"
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	// The gRPC protocol needs HTTP/2: here without TLS (prior knowledge).
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second, Protocols: new(http.Protocols)}
	srv.Protocols.SetHTTP1(true)
	srv.Protocols.SetUnencryptedHTTP2(true)
	serveErr := make(chan error, 1)
	go func() { serveErr <- srv.Serve(ln) }()
	shutdown := func() error {
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		return srv.Shutdown(sctx)
	}
	base := "http://" + ln.Addr().String()
	if demo {
		return errors.Join(runDemo(ctx, base, out), shutdown())
	}
	fmt.Fprintf(out, "quickstart-connect listening on %s\n", base)
	select {
	case <-ctx.Done():
	case err := <-serveErr:
		return err
	}
	return shutdown()
}
