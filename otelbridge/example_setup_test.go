package otelbridge_test

import (
	"context"
	"errors"
	"log"
	"net/http"
	"os"
	"os/signal"
	"strconv"

	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"

	"github.com/otelkit/otelkit/errorsx"
	"github.com/otelkit/otelkit/httpx"
	"github.com/otelkit/otelkit/otelbridge"
)

var ErrUserNotFound = errorsx.Define(http.StatusNotFound, "users.not-found", "User not found")

func getUser(w http.ResponseWriter, r *http.Request) error {
	id, err := strconv.Atoi(r.PathValue("id"))
	if err != nil || id != 42 {
		return ErrUserNotFound // 404 application/problem+json; otelkit.error.id on span and metric
	}
	w.Header().Set("Content-Type", "application/json")
	_, err = w.Write([]byte(`{"id":42,"name":"Ada"}`))
	return err
}

// ExampleSetup is the main function of a small service: telemetry from the
// OTEL_* variables (stderr when none is set), one route whose errors are
// rendered by httpx, and a graceful shutdown that flushes telemetry. In a
// service, name it main.
func ExampleSetup() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()

	shutdown, err := otelbridge.Setup(ctx, otelbridge.WithServiceName("users"))
	if err != nil {
		log.Fatal(err)
	}
	defer func() {
		if err := shutdown(context.Background()); err != nil {
			log.Print(err)
		}
	}()

	mux := http.NewServeMux()
	mux.Handle("GET /users/{id}", httpx.HandlerFunc(getUser))
	srv := &http.Server{Addr: "127.0.0.1:8080", Handler: otelhttp.NewHandler(httpx.Handler(mux), "users")}
	go func() {
		<-ctx.Done()
		_ = srv.Shutdown(context.Background())
	}()
	if err := srv.ListenAndServe(); !errors.Is(err, http.ErrServerClosed) {
		log.Print(err) // e.g. the port is taken: shown on stderr
	}
}
