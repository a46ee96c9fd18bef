// Command loadsrv serves the quickstart's routes for load tests (load.sh),
// in one of three modes:
//
//   - plain: a ServeMux of plain handlers, no telemetry at all;
//   - otelhttp: the full SDK (otelbridge.Setup, exporting where the OTEL_*
//     variables say) and otelhttp around plain handlers that record by hand
//     what otelkit records: the profile-viewed audit record on a 200 and, on
//     a 404, the span's error.type and exception event (bench.HandError);
//   - otelkit: the full SDK and otelhttp around the quickstart's own
//     handler (examples/quickstart/api.Routes: httpx, errorsx, auditx).
//
// It prints "listening on <addr>" and serves until SIGINT or SIGTERM, then
// flushes telemetry.
//
//	loadsrv -mode=otelkit -addr=127.0.0.1:0
package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"sync/atomic"
	"syscall"
	"time"

	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	otellog "go.opentelemetry.io/otel/log"

	"github.com/otelkit/otelkit/bench"
	"github.com/otelkit/otelkit/examples/quickstart/api"
	"github.com/otelkit/otelkit/otelbridge"
)

func main() {
	mode := flag.String("mode", "otelkit", "plain, otelhttp or otelkit")
	addr := flag.String("addr", "127.0.0.1:0", "address to listen on")
	flag.Parse()
	if err := run(*mode, *addr); err != nil {
		log.Fatal(err)
	}
}

func run(mode, addr string) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	var handler http.Handler
	if mode == "plain" {
		handler = plainRoutes(nil)
	} else {
		shutdown, err := otelbridge.Setup(ctx, otelbridge.WithServiceName("loadsrv-"+mode), otelbridge.WithoutSlog())
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
		switch mode {
		case "otelhttp":
			handler = otelhttp.NewHandler(plainRoutes(otel.GetLoggerProvider()), "quickstart")
		case "otelkit":
			handler = otelhttp.NewHandler(api.Routes(nil), "quickstart")
		default:
			return fmt.Errorf("unknown mode %q", mode)
		}
	}

	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: handler, ReadHeaderTimeout: 5 * time.Second}
	serveErr := make(chan error, 1)
	go func() { serveErr <- srv.Serve(ln) }()
	fmt.Printf("listening on %s\n", ln.Addr())

	select {
	case <-ctx.Done():
	case err := <-serveErr:
		return err
	}
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return srv.Shutdown(sctx)
}

// plainRoutes serves GET /healthz and GET /users/{id} as the quickstart
// does, without otelkit. With a logger provider it also records what
// otelkit would: the audit record of a profile view and the 404 on the span.
func plainRoutes(lp otellog.LoggerProvider) http.Handler {
	var audit, exc otellog.Logger
	if lp != nil {
		audit = lp.Logger("github.com/otelkit/otelkit/auditx")
		exc = lp.Logger("github.com/otelkit/otelkit/otelbridge")
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprintln(w, `{"status":"ok"}`)
	})
	mux.HandleFunc("GET /users/{id}", func(w http.ResponseWriter, r *http.Request) {
		id, err := strconv.Atoi(r.PathValue("id"))
		if err == nil && id != 42 {
			err = fmt.Errorf("select user %d: %w", id, sql.ErrNoRows)
		}
		if err != nil {
			if exc == nil {
				w.Header().Set("Content-Type", "application/problem+json")
				w.WriteHeader(http.StatusNotFound)
				_ = json.NewEncoder(w).Encode(bench.HandProblem{
					Type: "urn:otelkit:error:users.not-found", Title: "User not found",
					Status: http.StatusNotFound, ID: "users.not-found", Instance: r.URL.Path,
				})
				return
			}
			bench.HandError(w, r, exc, http.StatusNotFound, "users.not-found", "User not found", nil, errors.Unwrap(err), "")
			return
		}
		if audit != nil {
			emitProfileViewed(r, audit, id)
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"id": id, "name": "Ada Lovelace"})
	})
	return mux
}

// emitProfileViewed is the hand-written record of auditx's
// users.profile-viewed event.
func emitProfileViewed(r *http.Request, logger otellog.Logger, id int) {
	user := r.Header.Get("X-User")
	var rec otellog.Record
	rec.SetEventName("users.profile-viewed")
	rec.SetTimestamp(time.Now())
	rec.SetSeverity(otellog.SeverityInfo)
	rec.SetSeverityText("INFO")
	rec.SetBody(attribute.StringValue("User '" + user + "' viewed the profile of user " + strconv.Itoa(id)))
	rec.AddAttributes(
		attribute.Int("profile_id", id),
		attribute.String("otelkit.audit.template", "User '{user}' viewed the profile of user {profile_id}"),
		attribute.String("otelkit.audit.record_id", bench.HandAuditPrefix+strconv.FormatUint(nextID(), 16)),
		attribute.String("http.route", "/users/{id}"),
		attribute.String("http.request.method", r.Method),
		attribute.String("client.address", r.RemoteAddr),
	)
	if user != "" {
		rec.AddAttributes(attribute.String("user.id", user), attribute.String("user", user))
	}
	logger.Emit(r.Context(), rec)
}

var recordSeq atomic.Uint64

func nextID() uint64 { return recordSeq.Add(1) }
