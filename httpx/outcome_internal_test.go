package httpx

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/otelkit/otelkit/errorsx"
)

// TestOutcomeTrackedLater: a Handler that served requests before the
// process's first TrackOutcome fills the Outcomes of the requests after it
// (Handlers look for an Outcome only once TrackOutcome has been called).
func TestOutcomeTrackedLater(t *testing.T) {
	was := outcomeTracked.Load()
	outcomeTracked.Store(false)
	t.Cleanup(func() { outcomeTracked.Store(was) })
	h := Handler(HandlerFunc(func(http.ResponseWriter, *http.Request) error { return errorsx.NotFound }))
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/", nil))
	r, out := TrackOutcome(httptest.NewRequest("GET", "/", nil))
	h.ServeHTTP(httptest.NewRecorder(), r)
	if out.Status != http.StatusNotFound || out.Def != errorsx.NotFound {
		t.Errorf("Outcome = %+v, want 404 not-found", *out)
	}
}
