// Command otlpsink is the fallback of load.sh when no collector binary is
// built: an OTLP/HTTP endpoint on loopback that reads every export request
// and answers it with an empty (successful) protobuf response. It counts
// requests and bytes and prints the totals when stopped.
//
//	otlpsink -addr=127.0.0.1:4318
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log"
	"net/http"
	"os"
	"os/signal"
	"sync/atomic"
	"syscall"
	"time"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:4318", "address to listen on")
	flag.Parse()
	var reqs, bytes atomic.Int64
	mux := http.NewServeMux()
	for _, p := range []string{"/v1/traces", "/v1/metrics", "/v1/logs"} {
		mux.HandleFunc("POST "+p, func(w http.ResponseWriter, r *http.Request) {
			n, _ := io.Copy(io.Discard, r.Body)
			reqs.Add(1)
			bytes.Add(n)
			w.Header().Set("Content-Type", "application/x-protobuf")
			w.WriteHeader(http.StatusOK)
		})
	}
	srv := &http.Server{Addr: *addr, Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
	}()
	if err := srv.ListenAndServe(); err != nil && err != http.ErrServerClosed {
		log.Fatal(err)
	}
	fmt.Printf("otlpsink: %d requests, %d bytes\n", reqs.Load(), bytes.Load())
}
