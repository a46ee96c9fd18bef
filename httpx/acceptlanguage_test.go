package httpx_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/otelkit/otelkit/errorsx"
	"github.com/otelkit/otelkit/httpx"
)

// TestLargeAcceptLanguage: a long Accept-Language header (14 KB, 1,200
// entries) is read up to errorsx.MaxAcceptLanguage, whole entries only, so
// its first language still wins; before, golang.org/x/text rejected the
// whole header (more than 1000 tag parts) and the body fell back to the
// default language (issue 12: large metadata is bounded). ginx and echox
// answer through the same code.
func TestLargeAcceptLanguage(t *testing.T) {
	reg := errorsx.NewRegistry()
	def := reg.Define(404, "user.not-found", "No such user", errorsx.Translate("de", "Kein solcher Benutzer"))
	srv := httptest.NewServer(httpx.Handler(httpx.HandlerFunc(func(http.ResponseWriter, *http.Request) error {
		return def
	}), httpx.WithRegistry(reg)))
	defer srv.Close()
	req, err := http.NewRequest(http.MethodGet, srv.URL+"/users/1", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Accept-Language", "de,"+strings.Repeat("en-gb;q=0.1,", 1200))
	res, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var body struct{ Title, ID string }
	if err := json.NewDecoder(res.Body).Decode(&body); err != nil {
		t.Fatal(err)
	}
	if res.StatusCode != 404 || body.ID != def.ID() || body.Title != "Kein solcher Benutzer" {
		t.Errorf("%d %+v, want the German title", res.StatusCode, body)
	}
}
