package httpx

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"unsafe"

	"github.com/go-chi/chi/v5"
)

// TestExchangeLayout pins the size of the one allocation every request
// costs: the exchange (context, request copy, response writer). Its own
// fields take 48 B besides the http.Request copy, which puts it in the
// 352-byte size class with Go 1.26's 304-byte http.Request (it was 416 B,
// then 384 B). A field added to the exchange is a conscious decision:
// derive what few requests use (see exchange.outer), or keep it in the
// side context (see side).
func TestExchangeLayout(t *testing.T) {
	own := unsafe.Sizeof(exchange{}) - unsafe.Sizeof(http.Request{})
	if own != 48 {
		t.Errorf("the exchange's own fields take %d B, want 48", own)
	}
	if got := unsafe.Sizeof(exchange{}); got > 352 {
		t.Errorf("unsafe.Sizeof(exchange{}) = %d, want <= 352 (http.Request is %d B)", got, unsafe.Sizeof(http.Request{}))
	}
}

// TestSideOnlyWhenNeeded: a request that is not tracked, to a Handler
// around a ServeMux or not mounted, gets no side context (its exchange is
// the 352 B one); a tracked request, one to a Handler around another
// router mounted under an outer pattern and one routed by a chi router the
// Handler wraps get one, allocated with the exchange.
func TestSideOnlyWhenNeeded(t *testing.T) {
	if got := unsafe.Sizeof(exchangeWithSide{}); got > 416 {
		t.Errorf("unsafe.Sizeof(exchangeWithSide{}) = %d, want <= 416", got)
	}
	var seen *exchange
	capture := http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) { seen = exchangeFrom(r.Context()) })
	mux := http.NewServeMux()
	mux.Handle("/users/{id}", capture)
	mounted := http.NewServeMux()
	mounted.Handle("/api/", http.StripPrefix("/api", Handler(mux)))
	mountedPlain := http.NewServeMux()
	mountedPlain.Handle("/api/", Handler(capture))
	router := chi.NewRouter()
	router.Get("/users/{id}", capture)
	tracked, _ := TrackOutcome(httptest.NewRequest("GET", "/users/7", nil))
	for _, c := range []struct {
		name string
		h    http.Handler
		r    *http.Request
		side bool
	}{
		{"ServeMux", Handler(mux), httptest.NewRequest("GET", "/users/7", nil), false},
		{"ServeMux mounted", mounted, httptest.NewRequest("GET", "/api/users/7", nil), false},
		{"plain handler", Handler(capture), httptest.NewRequest("GET", "/users/7", nil), false},
		{"tracked", Handler(mux), tracked, true},
		{"plain handler mounted", mountedPlain, httptest.NewRequest("GET", "/api/users/7", nil), true},
		{"chi", Handler(router), httptest.NewRequest("GET", "/users/7", nil), true},
	} {
		seen = nil
		c.h.ServeHTTP(httptest.NewRecorder(), c.r)
		if seen == nil {
			t.Fatalf("%s: the handler saw no exchange", c.name)
		}
		if got := seen.side() != nil; got != c.side {
			t.Errorf("%s: side context %v, want %v", c.name, got, c.side)
		}
	}
}

// TestServeMuxSetsPattern: the probe behind handler.mux sees the ServeMux
// of this Go version set patterns.
func TestServeMuxSetsPattern(t *testing.T) {
	if !serveMuxSetsPattern() {
		t.Error("serveMuxSetsPattern() = false with the default GODEBUG")
	}
}
