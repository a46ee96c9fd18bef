package httpx_test

import (
	"database/sql"
	"fmt"
	"net/http"
	"net/http/httptest"

	"github.com/otelkit/otelkit/errorsx"
	"github.com/otelkit/otelkit/httpx"
)

var (
	ErrRateLimited = errorsx.Define(http.StatusTooManyRequests, "example.rate-limited",
		"Rate limited due to too many false auth attempts from this ip")
	ErrNoUser = errorsx.Define(http.StatusNotFound, "example.no-user", "The user does not exist")
)

func show(h http.Handler, method, target string, header ...string) {
	req := httptest.NewRequest(method, target, nil)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	fmt.Println(rec.Code, rec.Header().Get("Content-Type"))
	fmt.Print(rec.Body.String())
}

func ExampleHandler() {
	errorsx.Map(sql.ErrNoRows, ErrNoUser)

	mux := http.NewServeMux()
	mux.Handle("POST /login", httpx.HandlerFunc(func(w http.ResponseWriter, r *http.Request) error {
		return ErrRateLimited.With("retry_after", 30)
	}))
	mux.Handle("GET /users/{id}", httpx.HandlerFunc(func(w http.ResponseWriter, r *http.Request) error {
		return fmt.Errorf("loading user %s: %w", r.PathValue("id"), sql.ErrNoRows)
	}))
	mux.Handle("GET /boom", httpx.HandlerFunc(func(w http.ResponseWriter, r *http.Request) error {
		return fmt.Errorf("sql: connection refused")
	}))
	handler := httpx.Handler(mux) // in a service: otelhttp.NewHandler(handler, "api")

	show(handler, "POST", "/login")
	show(handler, "GET", "/users/42")
	show(handler, "GET", "/boom")
	show(handler, "DELETE", "/users/42")
	// Output:
	// 429 application/problem+json
	// {"type":"urn:otelkit:error:example.rate-limited","title":"Rate limited due to too many false auth attempts from this ip","status":429,"id":"example.rate-limited","instance":"/login","info":{"retry_after":30}}
	// 404 application/problem+json
	// {"type":"urn:otelkit:error:example.no-user","title":"The user does not exist","status":404,"id":"example.no-user","instance":"/users/42"}
	// 500 application/problem+json
	// {"type":"urn:otelkit:error:internal","title":"Internal server error","status":500,"id":"internal","instance":"/boom"}
	// 405 application/problem+json
	// {"type":"urn:otelkit:error:method-not-allowed","title":"The method is not allowed for the requested resource","status":405,"id":"method-not-allowed","instance":"/users/42"}
}

func ExampleErrorList() {
	invalid := errorsx.Define(http.StatusUnprocessableEntity, "example.invalid-field", "The field is invalid")
	h := httpx.Handler(httpx.HandlerFunc(func(w http.ResponseWriter, r *http.Request) error {
		return errorsx.ForStatus(http.StatusUnprocessableEntity).Join(
			invalid.With("field", "name"),
			invalid.With("field", "age"))
	}), httpx.WithRenderer(httpx.ErrorList{}))
	show(h, "POST", "/users")
	// Output:
	// 422 application/json
	// {"errors":[{"code":"example.invalid-field","message":"The field is invalid","info":{"field":"name"}},{"code":"example.invalid-field","message":"The field is invalid","info":{"field":"age"}}]}
}

func ExampleErrorByID() {
	h := httpx.Handler(httpx.HandlerFunc(func(w http.ResponseWriter, r *http.Request) error {
		return httpx.ErrorByID("example.rate-limited")
	}), httpx.WithDocsBaseURL("https://docs.example.com/errors"))
	show(h, "POST", "/login", "Accept", "application/json")
	// Output:
	// 429 application/json
	// {"type":"https://docs.example.com/errors/example.rate-limited","title":"Rate limited due to too many false auth attempts from this ip","status":429,"id":"example.rate-limited","instance":"/login"}
}

func ExampleWriteError() {
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		httpx.WriteError(w, r, ErrNoUser.Detailf("no user named %q", "bob"))
	})
	show(h, "GET", "/users/bob")
	// Output:
	// 404 application/problem+json
	// {"type":"urn:otelkit:error:example.no-user","title":"The user does not exist","status":404,"id":"example.no-user","instance":"/users/bob","detail":"no user named \"bob\""}
}
