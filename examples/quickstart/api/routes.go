package api

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"

	"go.opentelemetry.io/otel/attribute"

	"github.com/otelkit/otelkit/catalog"
	"github.com/otelkit/otelkit/httpx"
)

// Routes returns the service's handler: a ServeMux of httpx.HandlerFuncs
// inside httpx.Handler, with the admin group in a nested Handler of its own.
// extra routes (such as a /dev/errors page) are mounted as given.
func Routes(extra map[string]http.Handler) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /healthz", httpx.HandlerFunc(healthz))
	mux.Handle("GET /users/{id}", httpx.HandlerFunc(getUser))
	mux.Handle("POST /users", httpx.HandlerFunc(createUser))
	mux.Handle("POST /login", httpx.HandlerFunc(login))
	mux.Handle("GET /orders/{id}", httpx.HandlerFunc(getOrder))
	mux.Handle("GET /panic", httpx.HandlerFunc(panics))
	mux.Handle("GET /abort", httpx.HandlerFunc(abort))

	admin := http.NewServeMux()
	admin.Handle("GET /admin/users/{id}", httpx.HandlerFunc(adminGetUser))
	mux.Handle("/admin/", httpx.Handler(admin, httpx.WithRegistry(adminRegistry), httpx.WithDocsBaseURL(DocsPath)))

	// The live catalog: a page per error id, where each body's "type"
	// points. The admin registry's catalog includes its parent's errors.
	mux.Handle(DocsPath, catalog.Handler(adminRegistry, catalog.WithParents(), catalog.WithBaseURL(DocsPath)))

	for pattern, h := range extra {
		mux.Handle(pattern, h)
	}
	return httpx.Handler(mux, httpx.WithUser(userFromHeader), httpx.WithDocsBaseURL(DocsPath))
}

// DocsPath is where the error catalog is served; problem bodies' "type" is
// DocsPath + id, a URI the client can follow.
const DocsPath = "/errors/"

// userFromHeader stands in for real authentication: the demo sends X-User.
func userFromHeader(r *http.Request) string { return r.Header.Get("X-User") }

func healthz(w http.ResponseWriter, _ *http.Request) error {
	return writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

// findUser stands in for a database query.
func findUser(id int) (string, error) {
	if id == 42 {
		return "Ada Lovelace", nil
	}
	return "", fmt.Errorf("select user %d: %w", id, sql.ErrNoRows)
}

func getUser(w http.ResponseWriter, r *http.Request) error {
	id, name, err := viewUser(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, map[string]any{"id": id, "name": name})
}

// viewUser is GET /users/{id} and Users/GetUser: the user, or the error
// both transports answer.
func viewUser(ctx context.Context, idText string) (int, string, error) {
	id, err := strconv.Atoi(idText)
	if err != nil {
		return 0, "", ErrBadUserID.Detailf("%q is not a number", idText)
	}
	name, err := findUser(id)
	if err != nil {
		return 0, "", err // sql.ErrNoRows is mapped to users.not-found
	}
	ProfileViewed.Emit(ctx, attribute.Int("profile_id", id))
	return id, name, nil
}

type newUser struct {
	Name  string `json:"name"`
	Email string `json:"email"`
}

func createUser(w http.ResponseWriter, r *http.Request) error {
	var u newUser
	if err := json.NewDecoder(r.Body).Decode(&u); err != nil {
		return err // *json.SyntaxError is mapped to request.bad-json
	}
	if err := addUser(r.Context(), u); err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, u)
}

// addUser is POST /users and Users/CreateUser.
func addUser(ctx context.Context, u newUser) error {
	var problems []error
	if u.Name == "" {
		problems = append(problems, ErrNameRequired.With("field", "name"))
	}
	if !validEmail(u.Email) {
		problems = append(problems, ErrEmailInvalid.With("field", "email").With("value", u.Email))
	}
	if len(problems) > 0 {
		return ErrInvalidUser.Join(problems...)
	}
	UserCreated.Emit(ctx, attribute.String("new_user.name", u.Name), attribute.String("new_user.email", u.Email))
	return nil
}

func validEmail(s string) bool {
	at := -1
	for i, c := range s {
		if c == '@' {
			at = i
		}
	}
	return at > 0 && at < len(s)-1
}

type credentials struct {
	User     string `json:"user"`
	Password string `json:"password"`
}

func login(w http.ResponseWriter, r *http.Request) error {
	var c credentials
	if err := json.NewDecoder(r.Body).Decode(&c); err != nil {
		return err
	}
	return logIn(r.Context(), c)
}

// logIn is POST /login and Users/Login.
func logIn(ctx context.Context, c credentials) error {
	// client.address comes from the request; the password parameter is
	// masked in the record and its body.
	LoginFailed.Emit(ctx,
		attribute.String("user.name", c.User),
		attribute.String("password", c.Password))
	return ErrRateLimited.With("retry_after", 30)
}

func getOrder(http.ResponseWriter, *http.Request) error { return loadOrder() }

// loadOrder is GET /orders/{id} and Users/GetOrder.
func loadOrder() error {
	cause := errors.New("dial tcp 10.0.0.7:5432: connect: connection refused")
	return ErrStorage.Wrap(fmt.Errorf("load order: %w", cause)) // the client sees none of this
}

func panics(http.ResponseWriter, *http.Request) error { return crash() }

// crash is GET /panic and Users/Panic.
func crash() error {
	var m map[string]int
	//lint:ignore SA5000 the route panics on purpose
	m["boom"]++ // assignment to entry in nil map
	return nil
}

func abort(http.ResponseWriter, *http.Request) error { return abortByID() }

// abortByID is GET /abort and Users/Abort.
func abortByID() error { return httpx.ErrorByID("auth.rate-limited") }

func adminGetUser(http.ResponseWriter, *http.Request) error {
	return fmt.Errorf("admin directory: %w", sql.ErrNoRows) // admin.user-missing here
}

func writeJSON(w http.ResponseWriter, status int, v any) error {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	return json.NewEncoder(w).Encode(v)
}
