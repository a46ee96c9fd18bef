// Command adopter is a small notes API written as a team adopting otelkit
// would (issue 17): its own error body (api.Body) that the error catalog
// describes, httpx.DecodeJSON for request bodies, a route group with its
// own registry that inherits everything else, an access log that reads
// httpx.TrackOutcome, and providers passed explicitly (otelbridge.Recorder,
// an auditx registry of its own) so that its tests run in parallel.
//
//	go run ./examples/adopter                 # serve on 127.0.0.1:8081
//	go run ./cmd/otelkit catalog -renderer github.com/otelkit/otelkit/examples/adopter/api.Body{} ./examples/adopter/api
//
// Its catalog is committed as ERRORS.md (TestCatalogGolden).
package main

import (
	"context"
	"errors"
	"flag"
	"log"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"go.opentelemetry.io/otel"

	"github.com/otelkit/otelkit/otelbridge"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:8081", "address to listen on")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	shutdown, err := otelbridge.Setup(ctx, otelbridge.WithServiceName("notes"))
	if err != nil {
		log.Fatal(err)
	}
	defer func() {
		if err := shutdown(context.Background()); err != nil {
			log.Print(err)
		}
	}()
	// The service takes its providers explicitly; here, the ones Setup
	// installed.
	svc := New(Config{
		TracerProvider: otel.GetTracerProvider(),
		MeterProvider:  otel.GetMeterProvider(),
		LoggerProvider: otel.GetLoggerProvider(),
		AccessLog:      os.Stderr,
		StackFrames:    16,
	})
	defer svc.Close()

	srv := &http.Server{Addr: *addr, Handler: svc, ReadHeaderTimeout: 5 * time.Second}
	go func() {
		<-ctx.Done()
		_ = srv.Shutdown(context.Background())
	}()
	log.Printf("notes API on http://%s", *addr)
	if err := srv.ListenAndServe(); err != nil && !errors.Is(err, http.ErrServerClosed) {
		log.Fatal(err)
	}
}
