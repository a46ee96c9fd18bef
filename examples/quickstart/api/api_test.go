package api_test

import (
	"net/http/httptest"
	"strings"
	"testing"

	"go.opentelemetry.io/otel/attribute"

	"github.com/otelkit/otelkit/errorsx"
	"github.com/otelkit/otelkit/examples/quickstart/api"
	"github.com/otelkit/otelkit/otelkittest"
)

func TestUnknownUserIsNotFound(t *testing.T) {
	t.Parallel()
	kit := otelkittest.New(t)
	res := kit.Do(api.Routes(nil), httptest.NewRequest("GET", "/users/7", nil))

	kit.AssertError(res, api.ErrUserNotFound, otelkittest.NoLeak("sql: no rows"))
	kit.AssertRequestSpan(res, api.ErrUserNotFound)   // status Unset: the client's error
	kit.AssertRequestMetric(res, api.ErrUserNotFound) // the id labels the duration metric
}

func TestStorageFailureLeaksNothing(t *testing.T) {
	t.Parallel()
	kit := otelkittest.New(t)
	res := kit.Do(api.Routes(nil), httptest.NewRequest("GET", "/orders/7", nil))

	kit.AssertError(res, api.ErrStorage, otelkittest.NoLeak("dial tcp", "10.0.0.7", "load order"))
	kit.AssertRequestSpan(res, api.ErrStorage) // status Error, error.type, exception record
	kit.AssertRequestMetric(res, api.ErrStorage)
}

func TestFailedLoginIsAuditedAndMasked(t *testing.T) {
	t.Parallel()
	kit := otelkittest.New(t)
	req := httptest.NewRequest("POST", "/login", strings.NewReader(`{"user":"mallory","password":"hunter2"}`))
	res := kit.Do(api.Routes(nil), req)

	kit.AssertError(res, api.ErrRateLimited, otelkittest.Info("retry_after", 30))
	kit.AssertAudit(api.LoginFailed.Type(), attribute.String("user.name", "mallory"), attribute.String("password", "**************"))
	kit.AssertNoSecret("hunter2") // not in the body, the span, the audit or the metrics
}

func TestPanicIsAnInternalError(t *testing.T) {
	t.Parallel()
	kit := otelkittest.New(t)
	res := kit.Do(api.Routes(nil), httptest.NewRequest("GET", "/panic", nil))

	kit.AssertError(res, errorsx.Internal, otelkittest.NoLeak("nil map", "goroutine"))
	kit.AssertRequestSpan(res, errorsx.Internal)
}

func TestProfileViewIsAudited(t *testing.T) {
	t.Parallel()
	kit := otelkittest.New(t)
	req := httptest.NewRequest("GET", "/users/42", nil)
	req.Header.Set("X-User", "ada")
	res := kit.Do(api.Routes(nil), req)

	kit.AssertRequestSpan(res, nil) // a success: no error.type, no exception
	kit.AssertAudit(api.ProfileViewed.Type(), attribute.String("user.id", "ada"), attribute.Int("profile_id", 42))
}
