// Package errtrack is otelkit's error tracker without a vendor: it reads the
// exception records that otelbridge.Capture, otelbridge.Track and httpx
// write, groups them by fingerprint, notifies people, and shows them on a
// /dev/errors page.
//
// # Tracking
//
// A [Tracker] is an OpenTelemetry SDK log processor
// (go.opentelemetry.io/otel/sdk/log.Processor) and span processor
// (go.opentelemetry.io/otel/sdk/trace.SpanProcessor), because otelkit writes
// exception records where OTEL_SEMCONV_EXCEPTION_SIGNAL_OPT_IN says: as span
// events by default, as log records with "logs", as both with "logs/dup".
// Register it with both providers (otelbridge.Setup does this with
// otelbridge.WithLogProcessor), and it sees every failure whatever the
// signal: exception log records as they are emitted, exception span events
// when their span ends (with the span's http.route, http.request.method and
// http.response.status_code). A "logs/dup" pair (same span, timestamp and
// fingerprint) is counted once; the pairing remembers the last 4096 log
// records that belong to a span.
//
// It reads records whose event name is an exception's ([IsException]:
// "exception", http.server.request.exception, rpc.server.call.exception...)
// and ignores the others. It groups them by their otelkit.error.fingerprint
// attribute (the registered error id, or for unregistered errors a hash of
// the innermost cause's type and top stack frames), falling back to
// otelkit.error.id, then exception.type.
//
// Per fingerprint it keeps the error id, HTTP status, count, first and last
// seen, the latest message, info, extras and trace id, and a ring of recent
// occurrences with their stacks. Memory is bounded: [WithMaxFingerprints]
// evicts the fingerprint seen least recently, [WithMaxOccurrences] bounds the
// ring, and each occurrence is capped in size: [MaxMessageBytes] of message,
// [MaxStackBytes] of stack and [MaxValueBytes] per attribute value, longer
// texts ending in a "… [truncated N bytes]" marker; [WithStackFrames] keeps
// only the first frames of each stack, or none. Messages, info, extras
// and attributes are masked with [mask.Default] (or the policy given to
// [WithMask]) before they are stored, even though their writers mask them
// already.
//
// The times shown (first and last seen, occurrence times) are the records'
// timestamps. The notification rules below run on processing time, when the
// Tracker receives a record, so a record with a wrong clock cannot hold
// notifications back.
//
// # Notifications
//
// A [Notifier] is told about the first occurrence of each fingerprint and,
// with [WithNotifyRate], about a fingerprint that reaches a number of
// occurrences within a window; never more than once per fingerprint per
// window, even when the fingerprint was evicted and seen again in between
// (the Tracker remembers recent notification times of evicted fingerprints,
// in a bounded list). [SMTPNotifier] mails with net/smtp (STARTTLS, implicit
// TLS or none; optional auth; a quoted-printable body with Date and
// Message-ID) and [WebhookNotifier] POSTs JSON.
//
// Delivery never runs on the caller's path: notifications wait in a bounded
// queue ([WithNotifyQueue]) for one worker goroutine that gives every send a
// timeout ([WithNotifyTimeout]). When the queue is full a notification is
// dropped, counted in [Stats] and reported with otel.Handle, so a slow or
// failing mail server never blocks or fails a request. [Tracker.Shutdown]
// stops the worker.
//
// # The /dev/errors page
//
// [Tracker.Handler] returns the page: the groups newest first and a detail
// view per fingerprint with its recent occurrences and stacks, as HTML
// (self-contained, no external assets) or, for requests that accept
// application/json, as JSON. Importing the package registers nothing; the
// service mounts the page where it wants it:
//
//	mux.Handle("/dev/errors/", tracker.Handler(errtrack.AllowLoopback()))
//
// # Who may read the page
//
// The page shows messages, stacks and request data, so it is refused (403)
// until the service chooses an access rule:
//
//   - [WithToken]: clients that present a token (a Bearer header, or once
//     ?token= in a browser, kept in an HttpOnly cookie); the rule to use
//     wherever the page can be reached through a proxy or a network.
//   - [AllowLoopback]: requests [LoopbackOnly] accepts: from a loopback
//     address, for a loopback Host (localhost, 127.0.0.1, [::1]: a page in
//     the developer's browser that rebinds its own DNS name to 127.0.0.1 is
//     refused), with no Forwarded, X-Forwarded-For or X-Real-Ip header. This
//     guarantees only that the connection comes from this host: a reverse
//     proxy on the same host that adds no forwarding header relays remote
//     clients from loopback. Choose it on a developer's machine, never
//     behind such a proxy.
//   - [WithGuard]: a rule of your own (an authenticating proxy's header).
//
// Refusals are RFC 9457 problem details. [WithPrefix] moves the page
// (flask-error-tracker's APP_ERROR_URL_PREFIX); only the prefix itself and
// paths below it ("/dev/errors/...") are served.
package errtrack
