package delivery_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"

	"go.opentelemetry.io/otel/attribute"
	sdklog "go.opentelemetry.io/otel/sdk/log"

	"github.com/otelkit/otelkit/auditx"
	"github.com/otelkit/otelkit/auditx/delivery"
	"github.com/otelkit/otelkit/httpx"
)

// discard is an exporter that accepts everything.
type discard struct{}

func (discard) Export(context.Context, []sdklog.Record) error { return nil }
func (discard) Shutdown(context.Context) error                { return nil }
func (discard) ForceFlush(context.Context) error              { return nil }

// A required audit is emitted before the action it records is committed:
// when the record cannot be stored durably, Emit returns
// auditx.ErrUnavailable and the handler refuses the request with a 503
// problem body, and the action does not happen.
func ExampleWithChain_requiredEvent() {
	tmp, _ := os.MkdirTemp("", "spool")
	defer os.RemoveAll(tmp)
	_ = os.WriteFile(filepath.Join(tmp, "file"), nil, 0o600)

	for _, spool := range []string{
		filepath.Join(tmp, "spool"),         // a usable spool directory
		filepath.Join(tmp, "file", "spool"), // a path under a file: unusable
	} {
		p, _ := delivery.NewProcessor(discard{}, delivery.WithSpoolDir(spool), delivery.WithChain(),
			delivery.WithErrorHandler(func(error) {}))
		lp := sdklog.NewLoggerProvider(sdklog.WithProcessor(p))
		audits := auditx.NewRegistry(auditx.WithLoggerProvider(lp))
		accountDeleted := audits.Define("account.deleted", auditx.LevelWarn, "Account {account} deleted", auditx.Required())

		accounts := map[string]bool{"42": true}
		mux := http.NewServeMux()
		mux.Handle("DELETE /accounts/{id}", httpx.HandlerFunc(func(w http.ResponseWriter, r *http.Request) error {
			id := r.PathValue("id")
			// Audit first: no record, no deletion.
			if err := accountDeleted.Emit(r.Context(), attribute.String("account", id)); err != nil {
				return err
			}
			delete(accounts, id)
			w.WriteHeader(http.StatusNoContent)
			return nil
		}))
		rec := httptest.NewRecorder()
		httpx.Handler(mux).ServeHTTP(rec, httptest.NewRequest("DELETE", "/accounts/42", nil))
		fmt.Println(strings.TrimSpace(fmt.Sprint(rec.Code, " ", rec.Body.String())))
		fmt.Println("account 42 exists:", accounts["42"])
		_ = lp.Shutdown(context.Background())
	}
	// Output:
	// 204
	// account 42 exists: false
	// 503 {"type":"urn:otelkit:error:audit.unavailable","title":"The action could not be recorded in the audit trail and was not performed; try again later","status":503,"id":"audit.unavailable","instance":"/accounts/42"}
	// account 42 exists: true
}
