package errtrack

import (
	"time"

	"github.com/otelkit/otelkit/internal/stacktext"
	"github.com/otelkit/otelkit/mask"
)

// Defaults used by [New] when no option says otherwise.
const (
	DefaultMaxFingerprints = 200
	DefaultMaxOccurrences  = 20
	DefaultNotifyQueue     = 64
	DefaultNotifyTimeout   = 10 * time.Second
)

// notedPerFingerprint sets how many evicted fingerprints' notification times
// are remembered: this many times the fingerprint bound.
const notedPerFingerprint = 4

// maxRateThreshold bounds the per-fingerprint timestamps kept for the rate
// rule, so that a large threshold cannot make memory unbounded.
const maxRateThreshold = 10000

type config struct {
	maxFingerprints int
	maxOccurrences  int
	policy          *mask.Policy // nil: mask.Default() at use
	notifiers       []Notifier
	rateCount       int
	rateWindow      time.Duration
	queueSize       int
	timeout         time.Duration
	pageURL         string
	frames          stacktext.Limit
	now             func() time.Time // processing clock; time.Now unless a test replaces it
}

// Option configures a [Tracker].
type Option func(*config)

// WithMaxFingerprints bounds the number of fingerprints kept; when a new one
// arrives at the bound, the one seen least recently is evicted. Values below
// 1 keep the default ([DefaultMaxFingerprints]).
func WithMaxFingerprints(n int) Option {
	return func(c *config) {
		if n > 0 {
			c.maxFingerprints = n
		}
	}
}

// WithMaxOccurrences bounds the recent occurrences kept per fingerprint (a
// ring: the oldest is overwritten). Values below 1 keep the default
// ([DefaultMaxOccurrences]).
func WithMaxOccurrences(n int) Option {
	return func(c *config) {
		if n > 0 {
			c.maxOccurrences = n
		}
	}
}

// WithMask sets the masking policy applied to messages, extras and
// attributes before they are stored. The default is [mask.Default] at the
// time of each record.
func WithMask(p *mask.Policy) Option {
	return func(c *config) { c.policy = p }
}

// WithStackFrames bounds the stack trace the Tracker keeps of each
// occurrence (shown on the page, sent to notifiers): at most n frames, the
// first ones, then a line saying frames were elided; 0 keeps none; a
// negative n keeps every frame the record carries (the default; records
// written under otelbridge.WithStackFrames or httpx.WithStackFrames are
// already bounded). [MaxStackBytes] bounds the text either way.
func WithStackFrames(n int) Option {
	return func(c *config) { c.frames = stacktext.Limit(max(n, -1)) }
}

// WithNotifier adds a notifier. Notifications are sent on the first
// occurrence of a fingerprint and, with [WithNotifyRate], when a fingerprint
// passes a rate. Each added notifier receives every notification. A fingerprint
// evicted by [WithMaxFingerprints] and seen again is not new while the Tracker
// still remembers when it was last notified (see [WithNotifyRate]).
func WithNotifier(n Notifier) Option {
	return func(c *config) {
		if n != nil {
			c.notifiers = append(c.notifiers, n)
		}
	}
}

// WithNotifyRate also notifies when a fingerprint reaches count occurrences
// within window, and never more than once per fingerprint per window (the
// first-occurrence notification opens the first window). Windows are measured
// in processing time (when the Tracker receives a record), not in the records'
// timestamps. A count below 1 or a window not above 0 turns the rate rule off
// (the default). Counts above 10000 are lowered to 10000.
//
// When to notify outlives the eviction of a group: the Tracker remembers
// the last notification time of up to four times [WithMaxFingerprints]
// evicted fingerprints, each until its window has passed
// (with the rate rule off, until the bound pushes it out), and a fingerprint
// seen again within that time is not notified as new.
func WithNotifyRate(count int, window time.Duration) Option {
	return func(c *config) {
		if count < 1 || window <= 0 {
			c.rateCount, c.rateWindow = 0, 0
			return
		}
		c.rateCount, c.rateWindow = min(count, maxRateThreshold), window
	}
}

// WithNotifyQueue sets how many notifications may wait for delivery; when the
// queue is full, new ones are dropped and counted ([Stats.Dropped]). Values
// below 1 keep the default ([DefaultNotifyQueue]).
func WithNotifyQueue(n int) Option {
	return func(c *config) {
		if n > 0 {
			c.queueSize = n
		}
	}
}

// WithNotifyTimeout bounds each send of one notification to one notifier.
// Values not above 0 keep the default ([DefaultNotifyTimeout]).
func WithNotifyTimeout(d time.Duration) Option {
	return func(c *config) {
		if d > 0 {
			c.timeout = d
		}
	}
}

// WithPageURL sets the public URL of the /dev/errors page (for example
// "http://localhost:8080/dev/errors"); notifications then carry a link to
// the fingerprint's detail view in [Notification.URL].
func WithPageURL(url string) Option {
	return func(c *config) { c.pageURL = url }
}
