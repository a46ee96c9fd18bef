package errtrack

import (
	"crypto/subtle"
	"encoding/json"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"time"

	"go.opentelemetry.io/otel/attribute"
)

// DefaultPrefix is the URL prefix of the page unless [WithPrefix] sets
// another (flask-error-tracker's APP_ERROR_URL_PREFIX).
const DefaultPrefix = "/dev/errors"

type handlerConfig struct {
	prefix   string
	guard    func(*http.Request) bool // WithGuard: the whole rule
	token    string                   // WithToken
	loopback bool                     // AllowLoopback
}

// HandlerOption configures the handler returned by [Tracker.Handler].
type HandlerOption func(*handlerConfig)

// WithPrefix sets the URL prefix the page is mounted at; the default is
// [DefaultPrefix]. The list is served at prefix and prefix+"/", the detail
// view of a fingerprint at prefix+"/"+fingerprint.
func WithPrefix(prefix string) HandlerOption {
	return func(c *handlerConfig) {
		c.prefix = "/" + strings.Trim(prefix, "/")
	}
}

// WithGuard replaces the access rule: the page is served when guard returns
// true and answers 403 otherwise; [WithToken] and [AllowLoopback] no longer
// apply.
func WithGuard(guard func(*http.Request) bool) HandlerOption {
	return func(c *handlerConfig) {
		if guard != nil {
			c.guard = guard
		}
	}
}

// WithToken serves the page to any client that presents token: as
// "Authorization: Bearer <token>", or once as ?token=<token> in a browser,
// which sets an HttpOnly, SameSite=Strict cookie scoped to the page and
// redirects to the same URL without the token. An empty token adds no rule.
// Use a long random token, and HTTPS where the page crosses a network.
func WithToken(token string) HandlerOption {
	return func(c *handlerConfig) { c.token = token }
}

// AllowLoopback serves the page to the requests [LoopbackOnly] accepts,
// without a token. It is an explicit choice because a loopback peer proves
// only that the connection comes from this host, not that a local user
// made it: a reverse proxy on the same host that adds no forwarding header
// (nginx's default proxy_pass, httputil.ReverseProxy with Rewrite) relays
// remote clients from loopback, and they would be served. Choose it only
// where no such proxy forwards to the service (a developer's machine).
func AllowLoopback() HandlerOption {
	return func(c *handlerConfig) { c.loopback = true }
}

// forwardingHeaders are the headers a reverse proxy adds to say whom it
// forwards for.
var forwardingHeaders = [...]string{"Forwarded", "X-Forwarded-For", "X-Real-Ip"}

// LoopbackOnly reports whether r comes from a loopback address (127.0.0.0/8
// or ::1, judged by r.RemoteAddr), names a loopback host in its Host header
// (localhost, *.localhost or a loopback address, any port: a page on
// another site that rebinds its DNS name to 127.0.0.1 sends its own name),
// and was not forwarded: a request that carries a Forwarded,
// X-Forwarded-For or X-Real-Ip header is refused whatever those headers say.
// What it cannot tell is whether a reverse proxy on the same host relayed
// the request without saying so; see [AllowLoopback].
func LoopbackOnly(r *http.Request) bool {
	for _, k := range forwardingHeaders {
		if _, ok := r.Header[k]; ok {
			return false
		}
	}
	if !loopbackHost(r.Host) {
		return false
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	if i := strings.IndexByte(host, '%'); i >= 0 { // zone
		host = host[:i]
	}
	a, err := netip.ParseAddr(host)
	return err == nil && a.Unmap().IsLoopback()
}

// loopbackHost reports whether the Host header value h names this host's
// loopback interface.
func loopbackHost(h string) bool {
	if host, _, err := net.SplitHostPort(h); err == nil {
		h = host
	}
	h = strings.TrimSuffix(strings.TrimPrefix(h, "["), "]")
	if h == "" {
		return false
	}
	h = strings.ToLower(strings.TrimSuffix(h, "."))
	if h == "localhost" || strings.HasSuffix(h, ".localhost") {
		return true
	}
	if i := strings.IndexByte(h, '%'); i >= 0 {
		h = h[:i]
	}
	a, err := netip.ParseAddr(h)
	return err == nil && a.Unmap().IsLoopback()
}

// tokenCookie carries a token given once in the query.
const tokenCookie = "otelkit_errors_token"

// allowed applies the access rule to r.
func (c *handlerConfig) allowed(r *http.Request) bool {
	if c.guard != nil {
		return c.guard(r)
	}
	if c.token != "" {
		if t, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); ok && sameToken(t, c.token) {
			return true
		}
		if ck, err := r.Cookie(tokenCookie); err == nil && sameToken(ck.Value, c.token) {
			return true
		}
	}
	return c.loopback && LoopbackOnly(r)
}

func sameToken(got, want string) bool {
	return subtle.ConstantTimeCompare([]byte(got), []byte(want)) == 1
}

// acceptQueryToken handles ?token=: a valid token becomes a cookie and the
// browser is sent to the URL without it. It reports whether it answered.
func (c *handlerConfig) acceptQueryToken(w http.ResponseWriter, r *http.Request) bool {
	if c.guard != nil || c.token == "" || (r.Method != http.MethodGet && r.Method != http.MethodHead) {
		return false
	}
	q := r.URL.Query()
	t := q.Get("token")
	if t == "" || !sameToken(t, c.token) {
		return false
	}
	path := c.prefix
	if path == "" {
		path = "/"
	}
	http.SetCookie(w, &http.Cookie{Name: tokenCookie, Value: c.token, Path: path, HttpOnly: true,
		SameSite: http.SameSiteStrictMode, Secure: r.TLS != nil})
	q.Del("token")
	u := *r.URL
	u.RawQuery = q.Encode()
	http.Redirect(w, r, u.RequestURI(), http.StatusSeeOther)
	return true
}

// Handler returns the /dev/errors page: the groups newest first, and a detail
// view per fingerprint with its recent occurrences and stacks. It serves
// HTML, or the same data as JSON when the request accepts
// application/json. Only GET and HEAD are served. Nothing is registered on
// any mux: mount it yourself, with the access rule you choose, for example
//
//	mux.Handle("/dev/errors/", tracker.Handler(errtrack.WithToken(os.Getenv("ERRORS_TOKEN"))))
//	mux.Handle("/dev/errors/", tracker.Handler(errtrack.AllowLoopback())) // a developer's machine
//
// Without [WithToken], [AllowLoopback] or [WithGuard] every request gets 403:
// the page shows error messages, stacks and request data, and nothing about
// a request proves that a local user sent it. Refusals and other errors are
// RFC 9457 problem details (application/problem+json).
func (t *Tracker) Handler(opts ...HandlerOption) http.Handler {
	cfg := handlerConfig{prefix: DefaultPrefix}
	for _, o := range opts {
		if o != nil {
			o(&cfg)
		}
	}
	if cfg.prefix == "/" {
		cfg.prefix = ""
	}
	return &page{t: t, cfg: cfg}
}

var _ http.Handler = (*Tracker)(nil)

// ServeHTTP serves the page with the default options: prefix [DefaultPrefix]
// and no access rule, so every request gets 403 until the service mounts
// [Tracker.Handler] with [WithToken], [AllowLoopback] or [WithGuard].
func (t *Tracker) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	t.defaultPage.ServeHTTP(w, r)
}

type page struct {
	t   *Tracker
	cfg handlerConfig
}

func (p *page) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Vary", "Accept")
	if p.cfg.acceptQueryToken(w, r) {
		return
	}
	if !p.cfg.allowed(r) {
		detail := "the error page is only served to allowed clients"
		if p.cfg.guard == nil && p.cfg.token == "" && !p.cfg.loopback {
			detail = "the error page is off until the service chooses who may read it: errtrack.WithToken, errtrack.AllowLoopback or errtrack.WithGuard"
		}
		writeProblem(w, r, http.StatusForbidden, detail)
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		h.Set("Allow", "GET, HEAD")
		writeProblem(w, r, http.StatusMethodNotAllowed, "the error page answers GET and HEAD only")
		return
	}
	rest, ok := strings.CutPrefix(r.URL.Path, p.cfg.prefix)
	switch {
	case !ok: // mounted behind http.StripPrefix
		rest = r.URL.Path
	case rest != "" && rest[0] != '/': // "/dev/errorsX" is not under "/dev/errors"
		p.notFound(w, r)
		return
	}
	rest = strings.TrimPrefix(rest, "/")
	asJSON := wantsJSON(r)
	if rest == "" {
		groups := p.t.Groups()
		st := p.t.Stats()
		list := listJSON{Prefix: p.cfg.prefix, Fingerprints: len(groups), Evicted: st.Evicted,
			Groups: make([]groupJSON, len(groups))}
		for i, g := range groups {
			list.Groups[i] = p.groupJSON(g)
		}
		if asJSON {
			writeJSON(w, http.StatusOK, list)
			return
		}
		p.html(w, http.StatusOK, "list", list)
		return
	}
	g, ok := p.t.Group(rest)
	if !ok {
		p.notFound(w, r)
		return
	}
	d := p.groupJSON(g)
	d.Occurrences = make([]occurrenceJSON, len(g.Occurrences))
	for i, o := range g.Occurrences {
		d.Occurrences[i] = occurrenceJSON{Time: o.Time.UTC(), Message: o.Message, Type: o.Type,
			Stack: o.Stack, TraceID: o.TraceID, SpanID: o.SpanID, Attributes: attrMap(o.Attributes)}
	}
	if asJSON {
		writeJSON(w, http.StatusOK, d)
		return
	}
	p.html(w, http.StatusOK, "detail", detailView{Prefix: p.cfg.prefix, Group: d})
}

func (p *page) notFound(w http.ResponseWriter, r *http.Request) {
	if wantsJSON(r) {
		writeProblem(w, r, http.StatusNotFound, "no errors with this fingerprint are held")
		return
	}
	p.html(w, http.StatusNotFound, "notfound", listJSON{Prefix: p.cfg.prefix})
}

func (p *page) groupJSON(g Group) groupJSON {
	return groupJSON{
		Fingerprint: g.Fingerprint, ID: g.ID, Status: g.Status, Type: g.Type, Kind: g.Kind,
		Count: g.Count, FirstSeen: g.FirstSeen.UTC(), LastSeen: g.LastSeen.UTC(),
		Message: g.Message, Route: g.Route, Method: g.Method, TraceID: g.TraceID,
		Info: attrMap(g.Info), Extras: attrMap(g.Extras),
		URL: p.cfg.prefix + "/" + url.PathEscape(g.Fingerprint),
	}
}

func wantsJSON(r *http.Request) bool {
	if r.URL.Query().Get("format") == "json" {
		return true
	}
	for _, a := range r.Header.Values("Accept") {
		if strings.Contains(a, "application/json") {
			return true
		}
	}
	return false
}

// problemJSON is an RFC 9457 problem details body without a specific type
// ("about:blank": the title is the status's phrase).
type problemJSON struct {
	Type     string `json:"type"`
	Title    string `json:"title"`
	Status   int    `json:"status"`
	Detail   string `json:"detail"`
	Instance string `json:"instance"`
}

func writeProblem(w http.ResponseWriter, r *http.Request, status int, detail string) {
	w.Header().Set("Content-Type", "application/problem+json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(problemJSON{Type: "about:blank", Title: http.StatusText(status), Status: status,
		Detail: detail, Instance: r.URL.EscapedPath()})
}

type listJSON struct {
	Prefix       string      `json:"prefix"`
	Fingerprints int         `json:"fingerprints"`
	Evicted      int64       `json:"evicted"`
	Groups       []groupJSON `json:"groups"`
}

type groupJSON struct {
	Fingerprint string           `json:"fingerprint"`
	ID          string           `json:"id"`
	Status      int              `json:"status,omitempty"`
	Type        string           `json:"type,omitempty"`
	Kind        string           `json:"kind,omitempty"`
	Count       int64            `json:"count"`
	FirstSeen   time.Time        `json:"first_seen"`
	LastSeen    time.Time        `json:"last_seen"`
	Message     string           `json:"message"`
	Route       string           `json:"route,omitempty"`
	Method      string           `json:"method,omitempty"`
	TraceID     string           `json:"trace_id,omitempty"`
	Info        map[string]any   `json:"info,omitempty"`
	Extras      map[string]any   `json:"extras,omitempty"`
	URL         string           `json:"url"`
	Occurrences []occurrenceJSON `json:"occurrences,omitempty"`
}

type occurrenceJSON struct {
	Time       time.Time      `json:"time"`
	Message    string         `json:"message"`
	Type       string         `json:"type,omitempty"`
	Stack      string         `json:"stack,omitempty"`
	TraceID    string         `json:"trace_id,omitempty"`
	SpanID     string         `json:"span_id,omitempty"`
	Attributes map[string]any `json:"attributes,omitempty"`
}

type detailView struct {
	Prefix string
	Group  groupJSON
}

func attrMap(kvs []attribute.KeyValue) map[string]any {
	if len(kvs) == 0 {
		return nil
	}
	m := make(map[string]any, len(kvs))
	for _, kv := range kvs {
		m[string(kv.Key)] = plainValue(kv.Value)
	}
	return m
}

// plainValue returns v as encoding/json should write it: maps as objects
// and slices as arrays, at any depth.
func plainValue(v attribute.Value) any {
	switch v.Type() {
	case attribute.MAP:
		kvs := v.AsMap()
		m := make(map[string]any, len(kvs))
		for _, kv := range kvs {
			m[string(kv.Key)] = plainValue(kv.Value)
		}
		return m
	case attribute.SLICE:
		vs := v.AsSlice()
		out := make([]any, len(vs))
		for i, inner := range vs {
			out[i] = plainValue(inner)
		}
		return out
	}
	return v.AsInterface()
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}

func (p *page) html(w http.ResponseWriter, status int, name string, data any) {
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'")
	w.WriteHeader(status)
	_ = pageTemplates().ExecuteTemplate(w, name, data)
}
