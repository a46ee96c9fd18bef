package errorsx_test

import (
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"os"
	"strings"

	"github.com/otelkit/otelkit/errorsx"
)

// Definitions are package-level variables; a bad one panics at start-up.
var (
	ErrRateLimited = errorsx.Define(http.StatusTooManyRequests, "auth.rate-limited",
		"Rate limited due to too many false auth attempts from this ip")
	ErrUserNotFound = errorsx.Define(http.StatusNotFound, "users.not-found", "The user does not exist")
	ErrBadJSON      = errorsx.Define(http.StatusBadRequest, "request.bad-json", "The request body is not valid JSON")
	ErrNoFile       = errorsx.Define(http.StatusNotFound, "files.not-found", "No such file")
	ErrStore        = errorsx.Define(http.StatusServiceUnavailable, "store.unavailable", "The store is unavailable")
	ErrInvalidName  = errorsx.Define(http.StatusUnprocessableEntity, "users.invalid-name", "The name is invalid")
	ErrInvalidAge   = errorsx.Define(http.StatusUnprocessableEntity, "users.invalid-age", "The age is invalid")
	ErrValidation   = errorsx.Define(http.StatusUnprocessableEntity, "users.validation", "The user is invalid",
		errorsx.Translate("de", "Der Benutzer ist ungültig"))
)

func ExampleDefine() {
	var err error = ErrRateLimited // a *Def is an error
	fmt.Println(ErrRateLimited.Status(), ErrRateLimited.ID())
	fmt.Println(err)
	fmt.Println(errors.Is(err, ErrRateLimited))
	// Output:
	// 429 auth.rate-limited
	// Rate limited due to too many false auth attempts from this ip
	// true
}

func ExampleDef_With() {
	err := ErrRateLimited.With("retry_after", 30)
	fmt.Println(errors.Is(err, ErrRateLimited))
	for _, f := range err.Info() {
		fmt.Printf("%s=%v\n", f.Key, f.Value)
	}
	// Output:
	// true
	// retry_after=30
}

func ExampleDef_Wrap() {
	err := ErrStore.Wrap(sql.ErrConnDone)
	fmt.Println(err) // the full text, for logs and telemetry; clients see only the message
	fmt.Println(errors.Is(err, ErrStore), errors.Is(err, sql.ErrConnDone))
	// Output:
	// The store is unavailable: sql: connection is already closed
	// true true
}

func ExampleMap() {
	errorsx.Map(sql.ErrNoRows, ErrUserNotFound)
	errorsx.Map(fs.ErrNotExist, ErrNoFile)

	fmt.Println(errorsx.Resolve(fmt.Errorf("loading user 42: %w", sql.ErrNoRows)).ID())
	_, err := os.Open("/no/such/file")
	fmt.Println(errorsx.Resolve(err).ID()) // *fs.PathError wrapping ENOENT, which Is fs.ErrNotExist
	// Output:
	// users.not-found
	// files.not-found
}

func ExampleMapType() {
	errorsx.MapType[*json.SyntaxError](ErrBadJSON)

	err := json.Unmarshal([]byte("{"), new(any))
	err = fmt.Errorf("decoding body: %w", err)
	fmt.Println(errorsx.Resolve(err).ID())
	// Output:
	// request.bad-json
}

func ExampleResolve() {
	// Unregistered errors, and nil, resolve to the internal error.
	fmt.Println(errorsx.Resolve(errors.New("disk on fire")).String())
	fmt.Println(errorsx.Resolve(nil).ID())
	// The outermost registered error wins over a mapping of its cause.
	fmt.Println(errorsx.Resolve(ErrStore.Wrap(sql.ErrNoRows)).ID())
	// Output:
	// internal (500): Internal server error
	// internal
	// store.unavailable
}

func ExampleDef_Join() {
	err := ErrValidation.Join(
		ErrInvalidName.With("field", "name"),
		ErrInvalidAge.With("field", "age").With("min", 18),
	)
	fmt.Println(errorsx.Resolve(err).ID())
	for _, entry := range err.Entries() {
		occ := entry.(*errorsx.Error)
		fmt.Println(occ.Def().ID(), occ.Info())
	}
	// Output:
	// users.validation
	// users.invalid-name [{field name}]
	// users.invalid-age [{field age} {min 18}]
}

func ExampleForStatus() {
	err := errorsx.ForStatus(http.StatusBadRequest).Join(ErrInvalidName, ErrInvalidAge)
	fmt.Println(err.Def().String())
	fmt.Println(len(err.Entries()))
	// Output:
	// http.400 (400): Bad Request
	// 2
}

func ExampleLookup() {
	d, ok := errorsx.Lookup("auth.rate-limited")
	fmt.Println(d.Status(), ok)
	_, ok = errorsx.Lookup("no.such-id")
	fmt.Println(ok)
	// Output:
	// 429 true
	// false
}

func ExampleDef_Localized() {
	msg, tag := ErrValidation.Localized("de-AT, en;q=0.5")
	fmt.Println(msg, tag)
	msg, _ = ErrValidation.Localized("fr")
	fmt.Println(msg)
	// Output:
	// Der Benutzer ist ungültig de
	// The user is invalid
}

func ExampleMapFunc() {
	// database/sql's "database is closed" is an unexported value: no Map,
	// no MapType can name it. A predicate can.
	reg := errorsx.NewRegistry()
	closed := reg.Define(http.StatusServiceUnavailable, "store.closed", "The store is closed")
	reg.MapFunc(func(err error) bool {
		return err != nil && strings.Contains(err.Error(), "sql: database is closed")
	}, closed)
	fmt.Println(reg.Resolve(fmt.Errorf("listing notes: %w", errors.New("sql: database is closed"))).ID())
	// Output:
	// store.closed
}
