package auditx

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/otelkit/otelkit/errorsx"
	"github.com/otelkit/otelkit/internal/durable"
)

// ErrUnavailable is the error definition a required event's Emit resolves
// to when its record could not be durably stored: 503 "audit.unavailable",
// registered in [errorsx.Default] (so the error catalog of a service using
// auditx lists it). A handler that returns the error before committing the
// action refuses the request with a clean problem body, and the failure is
// recorded like any 5xx.
var ErrUnavailable = errorsx.Define(503, "audit.unavailable",
	"The action could not be recorded in the audit trail and was not performed; try again later",
	errorsx.Translate("de", "Die Aktion konnte nicht im Audit-Protokoll festgehalten werden und wurde nicht ausgeführt; bitte später erneut versuchen"),
	errorsx.Translate("fr", "L'action n'a pas pu être consignée dans le journal d'audit et n'a pas été effectuée ; réessayez plus tard"),
	errorsx.Describe("A required audit record (auditx.Required) could not be durably stored in time (audit spool unusable, disk full, or storage not answering), so the action was refused. Retry later; operators see the cause in the error's telemetry."))

// DefaultRequiredTimeout bounds how long the Emit of a required event waits
// for its record to be durably stored, unless [WithRequiredTimeout] says
// otherwise.
const DefaultRequiredTimeout = 2 * time.Second

// DefineOption configures an event made by [Define] or [Registry.Define].
type DefineOption interface{ applyEvent(*Event) }

type defineOptionFunc func(*Event)

func (f defineOptionFunc) applyEvent(e *Event) { f(e) }

// Required makes an event fail closed: its Emit returns an error resolving
// to [ErrUnavailable] (503 "audit.unavailable") unless the record was durably stored
// (written and fsynced to the audit delivery spool, package auditx/delivery)
// within the registry's required timeout. Emit it before committing the
// action it records, and return the error to refuse the action.
func Required() DefineOption {
	return defineOptionFunc(func(e *Event) { e.required = true })
}

// WithRequired makes every event of the registry required (see
// [Required]), and so also types emitted by name that are not defined.
func WithRequired() Option {
	return optionFunc(func(r *Registry) { r.required = true })
}

// WithRequiredTimeout bounds how long the Emit of a required event waits
// for the record to be durably stored (default
// [DefaultRequiredTimeout]). It adds to the time the logger's processors
// take to accept the record.
func WithRequiredTimeout(d time.Duration) Option {
	return optionFunc(func(r *Registry) { r.requiredTimeout = d })
}

// Required reports whether the event fails closed: see [Required].
func (e *Event) Required() bool { return e.required || e.reg.required }

// errNoDurablePipeline is the cause when no processor of the logger
// provider took responsibility for storing the record durably.
var errNoDurablePipeline = errors.New("no durable audit pipeline took the record (is the audit LoggerProvider's processor a delivery.Processor with a spool?)")

// ErrNotStored is wrapped (inside the *errorsx.Error that resolves to
// ErrUnavailable) by the error of a required Emit whose record
// was not durably stored.
var ErrNotStored = errors.New("auditx: required audit record not durably stored")

// ErrNotStoredInTime is wrapped by the error of a required Emit that gave
// up waiting after the registry's required timeout (a disk that does not
// answer), as opposed to a failure the pipeline reported.
var ErrNotStoredInTime = errors.New("durable storage not confirmed in time")

// requiredContext returns ctx carrying a new waiter.
func requiredContext(ctx context.Context) (context.Context, *durable.Waiter) {
	w := durable.NewWaiter()
	return durable.NewContext(ctx, w), w
}

// await waits for w's outcome, at most the registry's required timeout.
func (r *Registry) await(typ string, w *durable.Waiter) error {
	var cause error
	if !w.Claimed() {
		cause = errNoDurablePipeline
	} else {
		d := r.requiredTimeout
		if d <= 0 {
			d = DefaultRequiredTimeout
		}
		t := time.NewTimer(d)
		defer t.Stop()
		select {
		case cause = <-w.C():
		case <-t.C:
			cause = fmt.Errorf("%w (%v)", ErrNotStoredInTime, d)
		}
	}
	if cause == nil {
		return nil
	}
	return ErrUnavailable.Wrap(fmt.Errorf("%w: %q: %w", ErrNotStored, typ, cause))
}
