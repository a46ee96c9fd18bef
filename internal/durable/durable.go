// Package durable carries, in a context, a request from a required audit
// emit to the delivery pipeline: "tell me when this record is durably
// stored". auditx puts a [Waiter] in the context it hands the logger; the
// delivery processor's OnEmit, which receives that context, claims it and
// reports once the record's batch is fsynced to the spool (or why it was
// not).
package durable

import (
	"context"
	"sync/atomic"
)

// Waiter waits for one record to be durably stored.
type Waiter struct {
	claimed atomic.Bool
	done    atomic.Bool
	ch      chan error // buffered: Done never blocks
}

// NewWaiter returns a waiter nobody has claimed yet.
func NewWaiter() *Waiter { return &Waiter{ch: make(chan error, 1)} }

type ctxKey struct{}

// NewContext returns ctx carrying w.
func NewContext(ctx context.Context, w *Waiter) context.Context {
	return context.WithValue(ctx, ctxKey{}, w)
}

// FromContext returns the waiter in ctx, or nil.
func FromContext(ctx context.Context) *Waiter {
	w, _ := ctx.Value(ctxKey{}).(*Waiter)
	return w
}

// Claim records that a pipeline able to store the record durably took it
// and will call Done.
func (w *Waiter) Claim() { w.claimed.Store(true) }

// Claimed reports whether a pipeline claimed the waiter.
func (w *Waiter) Claimed() bool { return w.claimed.Load() }

// Done reports the outcome: nil once the record is durably stored, or why
// it is not. Only the first call counts.
func (w *Waiter) Done(err error) {
	if w.done.CompareAndSwap(false, true) {
		w.ch <- err
	}
}

// C returns the channel that receives the outcome.
func (w *Waiter) C() <-chan error { return w.ch }
