// Package billing is an internal package with errors of its own.
package billing

import (
	"net/http"

	"github.com/otelkit/otelkit/errorsx"
)

// ErrPaymentRequired is returned when the account has no credit.
var ErrPaymentRequired = errorsx.Define(http.StatusPaymentRequired, "billing.payment-required",
	"The account has no credit left | top up first")
