package httpx_test

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/otelkit/otelkit/errorsx"
	"github.com/otelkit/otelkit/httpx"
	"github.com/otelkit/otelkit/mask"
)

func TestResponseErr(t *testing.T) {
	reg := errorsx.NewRegistry()
	notFound := reg.Define(404, "user.not-found", "No such user")
	invalid := reg.Define(400, "request.invalid", "The request is invalid")
	missing := reg.Define(400, "field.missing", "A field is missing")
	down := reg.Define(503, "store.down", "The store is down")
	cases := map[string]error{
		"/4xx":    notFound.With("user_id", 42).With("password", "hunter2").Detailf("looked in %s", "eu"),
		"/plain":  notFound,
		"/5xx":    down.Wrap(errors.New("secret cause")),
		"/joined": invalid.Join(missing.With("field", "email"), missing.With("field", "name")),
		"/unreg":  errors.New("secret"),
	}
	h := func(w http.ResponseWriter, r *http.Request) error {
		if r.URL.Path == "/ok" {
			_, err := io.WriteString(w, "fine")
			return err
		}
		if r.URL.Path == "/html" {
			w.Header().Set("Content-Type", "text/html")
			w.WriteHeader(502)
			_, err := io.WriteString(w, "<html>bad gateway</html>")
			return err
		}
		if r.URL.Path == "/huge" {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(500)
			_, err := io.WriteString(w, `{"id":"`+strings.Repeat("x", 2*httpx.MaxErrorBody)+`"}`)
			return err
		}
		return cases[r.URL.Path]
	}
	for _, renderer := range []httpx.Renderer{httpx.ProblemJSON{}, httpx.ErrorList{}} {
		srv := httptest.NewServer(httpx.Handler(httpx.HandlerFunc(h), httpx.WithRegistry(reg), httpx.WithRenderer(renderer)))
		get := func(path string) error {
			resp, err := http.Get(srv.URL + path)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			return httpx.ResponseErr(resp, reg)
		}
		name := fmt.Sprintf("%T", renderer)
		if err := get("/ok"); err != nil {
			t.Errorf("%s: 200 gave %v", name, err)
		}
		for _, tt := range []struct {
			path string
			def  *errorsx.Def
		}{{"/4xx", notFound}, {"/plain", notFound}, {"/5xx", down}, {"/unreg", errorsx.Internal}} {
			err := get(tt.path)
			if !errors.Is(err, tt.def) || reg.Resolve(err) != tt.def {
				t.Errorf("%s %s: %v does not resolve to %s", name, tt.path, err, tt.def.ID())
			}
			if strings.Contains(err.Error(), "secret") {
				t.Errorf("%s %s: %v", name, tt.path, err)
			}
		}
		var occ *errorsx.Error
		if err := get("/4xx"); !errors.As(err, &occ) || occ.Detail() != "looked in eu" || len(occ.Info()) != 2 ||
			occ.Info()[0] != (errorsx.Field{Key: "password", Value: mask.Mask}) || occ.Info()[1] != (errorsx.Field{Key: "user_id", Value: 42.0}) {
			t.Errorf("%s: 4xx occurrence %#v", name, occ)
		}
		err := get("/joined")
		if !errors.Is(err, missing) {
			t.Errorf("%s: joined %v is not %s", name, err, missing.ID())
		}
		if _, ok := renderer.(httpx.ProblemJSON); ok && (reg.Resolve(err) != invalid || !errors.As(err, &occ) || len(occ.Entries()) != 2) {
			t.Errorf("%s: joined %v", name, err)
		}
		for _, path := range []string{"/html", "/huge"} {
			err := get(path)
			var re *httpx.ResponseError
			if !errors.As(err, &re) || errors.Unwrap(err) != nil || reg.Resolve(err) != errorsx.Internal {
				t.Errorf("%s %s: %v", name, path, err)
			}
		}
		srv.Close()
	}
	// Unknown id: a plain error with status and title.
	resp := &http.Response{StatusCode: 409, Header: http.Header{"Content-Type": {"application/problem+json"}},
		Body: io.NopCloser(strings.NewReader(`{"id":"no.such","title":"Nope","status":409}`))}
	err := httpx.ResponseErr(resp, reg)
	if errors.Unwrap(err) != nil || !strings.Contains(err.Error(), "409") || !strings.Contains(err.Error(), "no.such") {
		t.Errorf("unknown id: %v", err)
	}
	if httpx.ResponseErr(nil, reg) == nil {
		t.Error("nil response gave nil")
	}
}

func ExampleResponseErr() {
	reg := errorsx.NewRegistry()
	errNoUser := reg.Define(404, "user.not-found", "No such user")
	srv := httptest.NewServer(httpx.Handler(httpx.HandlerFunc(func(w http.ResponseWriter, r *http.Request) error {
		return errNoUser.With("user_id", "u-1")
	}), httpx.WithRegistry(reg)))
	defer srv.Close()

	resp, err := http.Get(srv.URL + "/users/u-1")
	if err != nil {
		panic(err)
	}
	defer resp.Body.Close()
	err = httpx.ResponseErr(resp, reg)
	var occ *errorsx.Error
	errors.As(err, &occ)
	fmt.Println(err)
	fmt.Println(errors.Is(err, errNoUser), occ.Info())
	// Output:
	// httpx: 404 Not Found: user.not-found: No such user
	// true [{user_id u-1}]
}
