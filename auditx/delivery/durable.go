package delivery

import (
	"context"
	"errors"
	"fmt"

	"github.com/otelkit/otelkit/internal/durable"
)

// A required audit (auditx.Required) waits for its record to be durable:
// auditx puts a durable.Waiter in the context given to the logger, OnEmit
// claims it, and the spool writer tells it the outcome once the record's
// batch is written and fsynced, or why it was not. Only a record in the
// spool counts: one kept in memory (no spool, unwritable directory, full
// disk, size cap) is reported as not stored even though it may still be
// delivered.

var (
	errShutdown    = errors.New("delivery: processor shutting down")
	errEmitTimeout = errors.New("delivery: spool writer a full batch behind (emit timeout)")
)

// claim takes the waiter of a required emit in ctx, if any. Without a
// spool the record cannot become durable: the waiter is told so at once.
func (p *Processor) claim(ctx context.Context) *durable.Waiter {
	if ctx == nil {
		return nil
	}
	w := durable.FromContext(ctx)
	if w == nil {
		return nil
	}
	w.Claim()
	if p.sp.Load() == nil {
		err := p.noSpoolErr
		if err == nil {
			err = errors.New("no spool")
		}
		w.Done(fmt.Errorf("delivery: audit record not durable: %w", err))
	}
	return w
}

// notifyDurable tells the waiters of batch whether their record reached
// the spool; err is why the others did not.
func notifyDurable(batch []entry, err error) {
	for i := range batch {
		w := batch[i].waiter
		if w == nil {
			continue
		}
		batch[i].waiter = nil
		switch {
		case batch[i].spooled:
			w.Done(nil)
		case err != nil:
			w.Done(fmt.Errorf("delivery: audit record not durable: %w", err))
		default:
			w.Done(fmt.Errorf("delivery: audit record not durable: larger than the %d-byte spool frame limit", defaultMaxRecordBytes))
		}
	}
}

// fail tells w, if any, that its record was dropped.
func failWaiter(w *durable.Waiter, err error) {
	if w != nil {
		w.Done(fmt.Errorf("delivery: audit record dropped: %w", err))
	}
}
