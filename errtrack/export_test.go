package errtrack

import "time"

// WithClock replaces the processing clock (time.Now) the notification rules
// run on; for tests only.
func WithClock(now func() time.Time) Option {
	return func(c *config) { c.now = now }
}
