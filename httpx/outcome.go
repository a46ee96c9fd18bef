package httpx

import (
	"context"
	"net/http"
	"sync/atomic"

	"github.com/otelkit/otelkit/errorsx"
)

// Outcome is what a [Handler] did with a request, for middleware outside
// it (an access log, a rate limiter) that must not resolve the error a
// second time. Get one with [TrackOutcome]; read it once the Handler's
// ServeHTTP has returned.
type Outcome struct {
	// Status is the status code of the response (200 for a body written
	// without WriteHeader), 0 if nothing was written.
	Status int
	// Def is the definition of the error the Handler rendered or
	// recorded, nil when there was none. Def.ID() is the id the client
	// saw; errorsx.Internal for panics and unregistered errors.
	Def *errorsx.Def
	// Panic reports whether the handler panicked (the Handler recovered
	// it and rendered the internal error).
	Panic bool
}

type outcomeKey struct{}

// outcomeTracked is set by the first TrackOutcome of the process: until
// then no request can carry an Outcome, and Handlers skip looking for one
// in the context (a lookup through every layer of it on every request).
var outcomeTracked atomic.Bool

// TrackOutcome returns a copy of r whose context asks the Handler serving
// it to fill the returned Outcome. Call it in middleware around the
// Handler:
//
//	func accessLog(next http.Handler) http.Handler {
//		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
//			r, out := httpx.TrackOutcome(r)
//			next.ServeHTTP(w, r) // next is, or wraps, an httpx.Handler
//			slog.Info("request", "status", out.Status, "error", out.ID())
//		})
//	}
//
// With nested Handlers the Outcome is the request's as a whole: the
// innermost Handler that rendered an error sets Def. A panic after the
// response started aborts the connection (http.ErrAbortHandler): read the
// Outcome in a deferred function to see that case too.
func TrackOutcome(r *http.Request) (*http.Request, *Outcome) {
	o := new(Outcome)
	outcomeTracked.Store(true)
	return r.WithContext(context.WithValue(r.Context(), outcomeKey{}, o)), o
}

// ID returns the id of the error, "" when there was none.
func (o *Outcome) ID() string {
	if o == nil || o.Def == nil {
		return ""
	}
	return o.Def.ID()
}

// noteStatus copies the response status into the tracked Outcome.
func (e *exchange) noteStatus() {
	if o := e.outcome(); o != nil && e.status != 0 {
		o.Status = int(e.status)
	}
}
