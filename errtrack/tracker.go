package errtrack

import (
	"container/list"
	"context"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/log"
	sdklog "go.opentelemetry.io/otel/sdk/log"
	"go.opentelemetry.io/otel/trace"

	"github.com/otelkit/otelkit/internal/stacktext"
	"github.com/otelkit/otelkit/mask"
)

// EventName is the event name of exception records outside any operation.
// A [Tracker] reads every record whose event name is an exception's: see
// [IsException].
const EventName = "exception"

// IsException reports whether an event name is an exception's: "exception"
// or a name of the semantic conventions ending in ".exception", such as
// http.server.request.exception or rpc.server.call.exception.
func IsException(name string) bool {
	return name == EventName || strings.HasSuffix(name, ".exception")
}

// Attribute keys of the exception record contract.
const (
	keyType        = "exception.type"
	keyMessage     = "exception.message"
	keyStack       = "exception.stacktrace"
	keyID          = "otelkit.error.id"
	keyFingerprint = "otelkit.error.fingerprint"
	keyStatus      = "http.response.status_code"
	keyRoute       = "http.route"
	keyMethod      = "http.request.method"
	keyKind        = "otelkit.capture.kind"
	infoPrefix     = "otelkit.error.info."
)

// Tracker groups captured errors by fingerprint and keeps a bounded,
// in-memory view of them for the /dev/errors page ([Tracker.Handler]) and
// for notifiers. It is an [sdklog.Processor] and a span processor (sdktrace.SpanProcessor):
// register it with the LoggerProvider and the TracerProvider that receive
// otelkit's exception records, so that it sees them as log records and as
// span events alike.
//
// A Tracker is safe for concurrent use. Its methods never block on
// notifiers: delivery runs on one worker goroutine, started with the first
// notification and stopped by [Tracker.Shutdown].
type Tracker struct {
	cfg config

	mu      sync.Mutex
	groups  map[string]*list.Element // of *group
	lru     *list.List               // front: most recently seen
	evicted int64
	records int64
	// noted remembers when evicted fingerprints were last notified, so that
	// eviction does not make a fingerprint new again; bounded LRU.
	noted    map[string]*list.Element // of *notedEntry
	notedLRU *list.List               // front: most recently evicted

	closed      atomic.Bool
	pair        pairing
	del         delivery
	defaultPage http.Handler
}

var _ sdklog.Processor = (*Tracker)(nil)

// New returns a Tracker configured by opts.
func New(opts ...Option) *Tracker {
	cfg := config{
		maxFingerprints: DefaultMaxFingerprints,
		maxOccurrences:  DefaultMaxOccurrences,
		queueSize:       DefaultNotifyQueue,
		timeout:         DefaultNotifyTimeout,
		frames:          stacktext.All,
	}
	for _, o := range opts {
		if o != nil {
			o(&cfg)
		}
	}
	if cfg.now == nil {
		cfg.now = time.Now
	}
	t := &Tracker{
		cfg:      cfg,
		groups:   make(map[string]*list.Element),
		lru:      list.New(),
		noted:    make(map[string]*list.Element),
		notedLRU: list.New(),
	}
	t.del.init(cfg)
	t.defaultPage = t.Handler()
	return t
}

func (t *Tracker) policy() *mask.Policy {
	if t.cfg.policy != nil {
		return t.cfg.policy
	}
	return mask.Default()
}

// Enabled reports whether the Tracker would process a record with param:
// true for exception records, and for records whose event name is not known
// yet at severity ERROR or above.
func (t *Tracker) Enabled(_ context.Context, param sdklog.EnabledParameters) bool {
	if t.closed.Load() {
		return false
	}
	if param.EventName != "" {
		return IsException(param.EventName)
	}
	return param.Severity == log.SeverityUndefined || param.Severity >= log.SeverityError
}

// OnEmit records r when it is an exception record ([IsException] of its
// event name) and ignores every other record. It never blocks on delivery
// and always returns nil.
func (t *Tracker) OnEmit(_ context.Context, r *sdklog.Record) error {
	if r == nil || !IsException(r.EventName()) || t.closed.Load() {
		return nil
	}
	now := t.cfg.now() // the notification rules run on processing time
	o := t.read(r)
	t.pair.logged(o)
	var n *Notification
	t.mu.Lock()
	n = t.add(o, now)
	t.mu.Unlock()
	if n != nil {
		t.del.enqueue(*n)
	}
	return nil
}

// ForceFlush waits until the notifications queued so far are delivered (or
// failed), or until ctx is done.
func (t *Tracker) ForceFlush(ctx context.Context) error {
	return t.del.flush(ctx)
}

// Shutdown stops accepting records and stops notification delivery: queued
// notifications are still sent while ctx allows; when ctx is done, the send
// in progress is cancelled and the rest are dropped. No goroutine of the
// Tracker runs after Shutdown returns. The stored errors stay readable, so the
// page keeps working. Shutdown returns ctx's error if ctx ended first.
func (t *Tracker) Shutdown(ctx context.Context) error {
	t.closed.Store(true)
	return t.del.shutdown(ctx)
}

// Stats are counters of a [Tracker].
type Stats struct {
	Records      int64 // exception records processed
	Fingerprints int   // fingerprints held now
	Evicted      int64 // fingerprints evicted by the bound
	Queued       int64 // notifications queued for delivery
	Dropped      int64 // notifications dropped because the queue was full or the Tracker was shut down
	Sent         int64 // notifier calls that succeeded
	Failed       int64 // notifier calls that failed or timed out
}

// Stats returns the Tracker's counters.
func (t *Tracker) Stats() Stats {
	t.mu.Lock()
	s := Stats{Records: t.records, Fingerprints: len(t.groups), Evicted: t.evicted}
	t.mu.Unlock()
	s.Queued = t.del.queued.Load()
	s.Dropped = t.del.dropped.Load()
	s.Sent = t.del.sent.Load()
	s.Failed = t.del.failed.Load()
	return s
}

// Group is a snapshot of the errors that share one fingerprint.
type Group struct {
	Fingerprint string               // otelkit.error.fingerprint, else otelkit.error.id, else exception.type
	ID          string               // otelkit.error.id
	Status      int                  // http.response.status_code of the latest occurrence that has one (a gRPC one has none), 0 when none has
	Type        string               // exception.type of the latest occurrence
	Kind        string               // otelkit.capture.kind of the latest occurrence
	Count       int64                // occurrences since the fingerprint was first kept
	FirstSeen   time.Time            // time of the first occurrence kept
	LastSeen    time.Time            // time of the latest occurrence
	Message     string               // latest message, masked
	Route       string               // http.route of the latest occurrence
	Method      string               // http.request.method of the latest occurrence
	TraceID     string               // latest trace id (hex), "" when none
	Info        []attribute.KeyValue // otelkit.error.info.* of the latest occurrence (keys without the prefix), masked
	Extras      []attribute.KeyValue // other attributes of the latest occurrence, masked
	Occurrences []Occurrence         // recent occurrences, newest first; only filled by [Tracker.Group]
}

// Occurrence is one captured error of a [Group].
type Occurrence struct {
	Time       time.Time
	Message    string               // masked
	Type       string               // exception.type
	Stack      string               // exception.stacktrace
	TraceID    string               // hex, "" when none
	SpanID     string               // hex, "" when none
	Attributes []attribute.KeyValue // every attribute but the stack, masked
}

// group is the stored form of a Group; guarded by Tracker.mu.
type group struct {
	Group              // Occurrences unused
	ring  []Occurrence // len <= maxOccurrences
	next  int          // ring write position once full
	rate  []time.Time  // last rateCount occurrence times (ring)
	rnext int          // rate ring write position once full
	noted time.Time    // processing time of the last notification
}

// notedEntry remembers the last notification of an evicted fingerprint.
type notedEntry struct {
	fingerprint string
	at          time.Time // processing time
}

// occurrence is what one record contributes, read outside the lock.
type occurrence struct {
	fingerprint, id, typ, kind, route, method string
	status                                    int
	occ                                       Occurrence
	info, extras                              []attribute.KeyValue
}

// source is what read takes from a record: an *sdklog.Record, or an
// exception span event (spanEvent).
type source interface {
	AttributesLen() int
	WalkAttributes(func(attribute.KeyValue) bool)
	Body() attribute.Value
	TraceID() trace.TraceID
	SpanID() trace.SpanID
	Timestamp() time.Time
	ObservedTimestamp() time.Time
}

func (t *Tracker) read(r source) occurrence {
	p := t.policy()
	var o occurrence
	var rawMessage string
	attrs := make([]attribute.KeyValue, 0, r.AttributesLen())
	r.WalkAttributes(func(kv attribute.KeyValue) bool {
		k := string(kv.Key)
		switch k {
		case keyStack:
			o.occ.Stack = clip(stacktext.Truncate(kv.Value.String(), t.cfg.frames), MaxStackBytes)
			return true
		case keyType:
			o.typ = clip(kv.Value.String(), MaxValueBytes)
		case keyMessage:
			rawMessage = kv.Value.String()
		case keyID:
			o.id = clip(kv.Value.String(), MaxValueBytes)
		case keyFingerprint:
			o.fingerprint = clip(kv.Value.String(), MaxValueBytes)
		case keyStatus:
			switch kv.Value.Type() {
			case attribute.INT64:
				o.status = int(kv.Value.AsInt64())
			case attribute.STRING:
				o.status = atoi(kv.Value.AsString())
			}
		case keyRoute:
			o.route = clip(kv.Value.String(), MaxValueBytes)
		case keyMethod:
			o.method = clip(kv.Value.String(), MaxValueBytes)
		case keyKind:
			o.kind = clip(kv.Value.String(), MaxValueBytes)
		default:
			m := storeAttr(p, kv)
			if info, ok := strings.CutPrefix(string(m.Key), infoPrefix); ok {
				o.info = append(o.info, attribute.KeyValue{Key: attribute.Key(info), Value: m.Value})
			} else {
				o.extras = append(o.extras, m)
			}
			attrs = append(attrs, m)
			return true
		}
		attrs = append(attrs, storeAttr(p, kv))
		return true
	})
	msg := ""
	if b := r.Body(); b.Type() != attribute.EMPTY {
		msg = b.String()
	}
	if msg == "" {
		msg = rawMessage
	}
	o.occ.Message = maskClip(p, msg, MaxMessageBytes)
	o.occ.Type = o.typ
	o.occ.Attributes = attrs
	if tid := r.TraceID(); tid.IsValid() {
		o.occ.TraceID = tid.String()
	}
	if sid := r.SpanID(); sid.IsValid() {
		o.occ.SpanID = sid.String()
	}
	ts := r.Timestamp()
	if ts.IsZero() {
		ts = r.ObservedTimestamp()
	}
	if ts.IsZero() {
		ts = time.Now()
	}
	o.occ.Time = ts
	switch {
	case o.fingerprint != "":
	case o.id != "":
		o.fingerprint = o.id
	case o.typ != "":
		o.fingerprint = o.typ
	default:
		o.fingerprint = "unknown"
	}
	return o
}

func atoi(s string) int {
	n := 0
	for _, c := range []byte(s) {
		if c < '0' || c > '9' {
			return 0
		}
		n = n*10 + int(c-'0')
	}
	return n
}

// add stores o, received at processing time now, and returns the
// notification it causes, if any. t.mu held.
func (t *Tracker) add(o occurrence, now time.Time) *Notification {
	t.records++
	var g *group
	if e, ok := t.groups[o.fingerprint]; ok {
		g = e.Value.(*group)
		t.lru.MoveToFront(e)
	} else {
		for len(t.groups) >= t.cfg.maxFingerprints {
			back := t.lru.Back()
			old := back.Value.(*group)
			delete(t.groups, old.Fingerprint)
			t.lru.Remove(back)
			t.evicted++
			t.remember(old, now)
		}
		g = &group{Group: Group{Fingerprint: o.fingerprint, FirstSeen: o.occ.Time}}
		g.noted = t.recall(o.fingerprint, now)
		t.groups[o.fingerprint] = t.lru.PushFront(g)
	}
	g.Count++
	if o.occ.Time.Before(g.FirstSeen) {
		g.FirstSeen = o.occ.Time
	}
	if !o.occ.Time.Before(g.LastSeen) {
		g.LastSeen = o.occ.Time
		g.ID, g.Type, g.Kind = o.id, o.typ, o.kind
		if o.status != 0 {
			g.Status = o.status // the same id over gRPC has no HTTP status
		}
		g.Message, g.Route, g.Method = o.occ.Message, o.route, o.method
		g.Info, g.Extras = o.info, o.extras
		if o.occ.TraceID != "" {
			g.TraceID = o.occ.TraceID
		}
	}
	if len(g.ring) < t.cfg.maxOccurrences {
		g.ring = append(g.ring, o.occ)
	} else {
		g.ring[g.next] = o.occ
		g.next = (g.next + 1) % len(g.ring)
	}
	if !t.del.enabled() {
		return nil
	}
	return t.rule(g, o, now)
}

// remember keeps the last notification time of g, which is being evicted,
// in a bounded LRU. t.mu held.
func (t *Tracker) remember(g *group, now time.Time) {
	if g.noted.IsZero() || t.expired(g.noted, now) {
		return
	}
	if e, ok := t.noted[g.Fingerprint]; ok { // cannot happen: recall removes it
		t.notedLRU.Remove(e)
	}
	t.noted[g.Fingerprint] = t.notedLRU.PushFront(&notedEntry{fingerprint: g.Fingerprint, at: g.noted})
	for t.notedLRU.Len() > notedPerFingerprint*t.cfg.maxFingerprints {
		t.forget(t.notedLRU.Back())
	}
	// Expired entries at the back go first; others expire on lookup.
	for e := t.notedLRU.Back(); e != nil && t.expired(e.Value.(*notedEntry).at, now); e = t.notedLRU.Back() {
		t.forget(e)
	}
}

// recall returns (and forgets) the remembered last notification time of
// fingerprint fp, or the zero time. t.mu held.
func (t *Tracker) recall(fp string, now time.Time) time.Time {
	e, ok := t.noted[fp]
	if !ok {
		return time.Time{}
	}
	at := e.Value.(*notedEntry).at
	t.forget(e)
	if t.expired(at, now) {
		return time.Time{}
	}
	return at
}

func (t *Tracker) forget(e *list.Element) {
	delete(t.noted, e.Value.(*notedEntry).fingerprint)
	t.notedLRU.Remove(e)
}

// expired reports whether a notification made at noted no longer holds back
// a first-occurrence notification at now: its rate window has passed. Without
// the rate rule there is no window and it never expires.
func (t *Tracker) expired(noted, now time.Time) bool {
	return t.cfg.rateWindow > 0 && now.Sub(noted) >= t.cfg.rateWindow
}

// rule applies the notification rules to g after o was added at processing
// time now. t.mu held.
func (t *Tracker) rule(g *group, o occurrence, now time.Time) *Notification {
	reason := Reason("")
	inWindow := 0
	if t.cfg.rateCount > 0 {
		if len(g.rate) < t.cfg.rateCount {
			g.rate = append(g.rate, now)
		} else {
			g.rate[g.rnext] = now
			g.rnext = (g.rnext + 1) % len(g.rate)
		}
		from := now.Add(-t.cfg.rateWindow)
		for _, ts := range g.rate {
			if ts.After(from) && !ts.After(now) {
				inWindow++
			}
		}
	}
	switch {
	case g.noted.IsZero():
		reason = ReasonFirst
	case t.cfg.rateCount > 0 && inWindow >= t.cfg.rateCount && now.Sub(g.noted) >= t.cfg.rateWindow:
		reason = ReasonRate
	default:
		return nil
	}
	g.noted = now
	n := &Notification{
		Reason:      reason,
		Fingerprint: g.Fingerprint,
		ErrorID:     g.ID,
		Status:      g.Status,
		Type:        o.typ,
		Kind:        o.kind,
		Message:     o.occ.Message,
		Count:       g.Count,
		WindowCount: inWindow,
		FirstSeen:   g.FirstSeen,
		LastSeen:    g.LastSeen,
		Route:       o.route,
		Method:      o.method,
		TraceID:     o.occ.TraceID,
		Stack:       o.occ.Stack,
		Info:        o.info,
		Extras:      o.extras,
	}
	if t.cfg.pageURL != "" {
		n.URL = strings.TrimRight(t.cfg.pageURL, "/") + "/" + url.PathEscape(g.Fingerprint)
	}
	return n
}

// Groups returns a snapshot of the groups, the most recently seen first,
// without their occurrences.
func (t *Tracker) Groups() []Group {
	t.mu.Lock()
	out := make([]Group, 0, len(t.groups))
	for e := t.lru.Front(); e != nil; e = e.Next() {
		out = append(out, e.Value.(*group).Group)
	}
	t.mu.Unlock()
	slices.SortStableFunc(out, func(a, b Group) int { return b.LastSeen.Compare(a.LastSeen) })
	return out
}

// Group returns a snapshot of the group with fingerprint fp, with its recent
// occurrences newest first; ok is false when fp is not held.
func (t *Tracker) Group(fp string) (g Group, ok bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	e, ok := t.groups[fp]
	if !ok {
		return Group{}, false
	}
	sg := e.Value.(*group)
	g = sg.Group
	g.Occurrences = make([]Occurrence, 0, len(sg.ring))
	// Oldest is at sg.next once the ring is full, else at 0.
	for i := len(sg.ring) - 1; i >= 0; i-- {
		g.Occurrences = append(g.Occurrences, sg.ring[(sg.next+i)%len(sg.ring)])
	}
	slices.SortStableFunc(g.Occurrences, func(a, b Occurrence) int { return b.Time.Compare(a.Time) })
	return g, true
}
