// Command quickstart is otelkit's quickstart service: a few registered
// errors, a mapped sentinel and type, a joined validation error, a panic
// route, a group of routes with its own registry, and audit events. It
// serves the same operations over HTTP and gRPC (package api), and the
// same definitions answer both.
//
//	go run ./examples/quickstart          # serve HTTP on 127.0.0.1:8080, gRPC on 127.0.0.1:9090
//	go run ./examples/quickstart -demo    # call every route, print body, gRPC status and telemetry side by side
//
// Telemetry goes where the OTEL_* environment variables say (for example
// OTEL_EXPORTER_OTLP_ENDPOINT=http://localhost:4318); with none set it is
// written to stderr.
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

	"go.opentelemetry.io/contrib/instrumentation/google.golang.org/grpc/otelgrpc"
	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"google.golang.org/grpc"

	"github.com/otelkit/otelkit/examples/quickstart/api"
	"github.com/otelkit/otelkit/otelbridge"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:8080", "address to serve HTTP on")
	grpcAddr := flag.String("grpc-addr", "127.0.0.1:9090", "address to serve gRPC on")
	demo := flag.Bool("demo", false, "call the service's own routes, print what the client and telemetry got, and exit")
	flag.Parse()
	if err := run(*addr, *grpcAddr, *demo, os.Stdout); err != nil {
		log.Fatal(err)
	}
}

func run(addr, grpcAddr string, demo bool, out io.Writer) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	// The dev pages' processors come first: processors see a span in the
	// order they were added, and the demo reads /dev/errors once its own
	// observer (added after them) has seen the spans it waits for.
	extra, extraOpts := devPages()
	opts := append([]otelbridge.Option{otelbridge.WithServiceName("quickstart")}, extraOpts...)
	var seen *observer
	if demo {
		seen = newObserver()
		opts = append(opts, otelbridge.WithSpanProcessor(seen.spans), otelbridge.WithLogProcessor(seen))
		if os.Getenv("OTEL_EXPORTER_OTLP_ENDPOINT") == "" {
			// The demo prints telemetry itself; keep stderr quiet.
			opts = append(opts, otelbridge.WithWriter(io.Discard))
		}
		addr, grpcAddr = "127.0.0.1:0", "127.0.0.1:0"
	}
	shutdown, err := otelbridge.Setup(ctx, opts...)
	if err != nil {
		return err
	}
	defer func() {
		sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := shutdown(sctx); err != nil {
			log.Printf("telemetry shutdown: %v", err)
		}
	}()

	handler := otelhttp.NewHandler(api.Routes(extra), "quickstart")
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: handler, ReadHeaderTimeout: 5 * time.Second}
	// The same operations over gRPC: otelgrpc makes the spans (as otelhttp
	// does for HTTP), grpcx answers the errors and records on them.
	gln, err := net.Listen("tcp", grpcAddr)
	if err != nil {
		ln.Close()
		return err
	}
	gsrv := grpc.NewServer(append([]grpc.ServerOption{grpc.StatsHandler(otelgrpc.NewServerHandler())}, api.GRPCServerOptions()...)...)
	api.RegisterGRPC(gsrv)

	serveErr := make(chan error, 2)
	go func() { serveErr <- srv.Serve(ln) }()
	go func() { serveErr <- gsrv.Serve(gln) }()
	base := "http://" + ln.Addr().String()
	stopAll := func() error {
		gsrv.GracefulStop()
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		return srv.Shutdown(sctx)
	}

	if demo {
		runErr := runDemo(ctx, base, gln.Addr().String(), seen, out)
		return errors.Join(runErr, stopAll())
	}

	fmt.Fprintf(out, "quickstart listening on %s (HTTP) and %s (gRPC)\n  try: curl -i %s/users/0\n  errors: %s/dev/errors/\n",
		base, gln.Addr(), base, base)
	select {
	case <-ctx.Done():
	case err := <-serveErr:
		stopAll()
		return err
	}
	return stopAll()
}
