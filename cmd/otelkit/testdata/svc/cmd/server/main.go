// Command server is the test service; its definitions cannot be catalogued.
package main

import (
	"net/http"

	"github.com/otelkit/otelkit/errorsx"

	_ "example.com/svc/api"
	_ "example.com/svc/internal/billing"
)

var errMain = errorsx.Define(http.StatusConflict, "main.conflict", "Defined in package main")

func main() { _ = errMain }
