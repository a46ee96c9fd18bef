package httpx

import (
	"encoding/hex"
	"encoding/json"
	"math"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/otelkit/otelkit/errorsx"
)

// Renderer writes a problem to the client: headers, status and body. p is
// valid only until Render returns; a renderer that needs it later copies it.
type Renderer interface {
	Render(w http.ResponseWriter, r *http.Request, p *Problem) error
}

// RendererFunc adapts a function to [Renderer].
type RendererFunc func(w http.ResponseWriter, r *http.Request, p *Problem) error

// Render calls f.
func (f RendererFunc) Render(w http.ResponseWriter, r *http.Request, p *Problem) error {
	return f(w, r, p)
}

// ProblemJSON renders RFC 9457 problem details: the default renderer. The
// body is served as application/problem+json, or as application/json to a
// client that asks only for that.
type ProblemJSON struct{}

var _ Renderer = ProblemJSON{}

// Render writes p as problem details.
func (ProblemJSON) Render(w http.ResponseWriter, r *http.Request, p *Problem) error {
	bp := getBuf()
	defer putBuf(bp)
	b := appendProblem((*bp)[:0], p)
	*bp = b
	ct := "application/problem+json"
	if wantsPlainJSON(headerValue(r.Header, "Accept")) {
		ct = "application/json"
	}
	return writeJSON(w, ct, true, p, b)
}

// ErrorList renders the flask-apiexceptions shape,
// {"errors":[{"code":…,"message":…,"info":{…}}]}, as application/json: one
// entry per error of a joined error, or one for a single error.
type ErrorList struct{}

var _ Renderer = ErrorList{}

// Render writes p as a list of errors.
func (ErrorList) Render(w http.ResponseWriter, r *http.Request, p *Problem) error {
	bp := getBuf()
	defer putBuf(bp)
	b := append((*bp)[:0], `{"errors":[`...)
	if len(p.Errors) == 0 {
		b = appendListEntry(b, p.ID, p.Title, p.Detail, p.Info)
	}
	for i, e := range p.Errors {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendListEntry(b, e.ID, e.Title, e.Detail, e.Info)
	}
	b = append(b, "]}\n"...)
	*bp = b
	return writeJSON(w, "application/json", false, p, b)
}

func appendListEntry(b []byte, id, msg, detail string, info []errorsx.Field) []byte {
	b = append(b, `{"code":`...)
	b = appendString(b, id)
	b = append(b, `,"message":`...)
	b = appendString(b, msg)
	if detail != "" {
		b = append(b, `,"detail":`...)
		b = appendString(b, detail)
	}
	if len(info) > 0 {
		b = append(b, `,"info":`...)
		b = appendInfo(b, info)
	}
	return append(b, '}')
}

// writeJSON writes the headers and body. byAccept says the content type
// was chosen from Accept; with a language chosen from Accept-Language,
// caches are told both (Vary).
func writeJSON(w http.ResponseWriter, contentType string, byAccept bool, p *Problem, body []byte) error {
	h := w.Header()
	// Deleting from an empty map costs nothing; from one holding a key,
	// hashing each key: delete before the headers below are set.
	delete(h, "Content-Length")
	delete(h, "Content-Encoding")
	if byAccept || p.Language != "" {
		setVary(h, varyOf(byAccept, p.Language))
	}
	switch contentType {
	case "application/problem+json":
		h["Content-Type"] = ctProblemJSON
	case "application/json":
		h["Content-Type"] = ctJSON
	default:
		h.Set("Content-Type", contentType)
	}
	h["X-Content-Type-Options"] = nosniff
	if p.Language != "" {
		h.Set("Content-Language", p.Language)
	}
	w.WriteHeader(p.Status)
	_, err := w.Write(body)
	return err
}

// varyOf returns the Vary value of a response whose content type was
// chosen from Accept (byAccept) and whose language, when not "", from
// Accept-Language.
func varyOf(byAccept bool, lang string) []string {
	switch {
	case byAccept && lang != "":
		return varyAcceptLanguage
	case byAccept:
		return varyAccept
	}
	return varyLanguage
}

// setVary sets Vary, after the handler's own value when it set one.
func setVary(h http.Header, vary []string) {
	if len(h["Vary"]) > 0 {
		h.Add("Vary", vary[0]) // keep the handler's own
	} else {
		h["Vary"] = vary
	}
}

// Header values every problem response sets, made once: assigning them to
// the header map as gin's renderers do (render.writeContentType) costs no
// allocation, where h.Set makes a slice per value. Each has capacity 1, so
// that h.Add appends to a copy; code that
// overwrites a header value in place (h["Vary"][0] = …) instead of
// setting it would change them for every later response, which is why
// none of them is exported.
var (
	ctProblemJSON      = []string{"application/problem+json"}
	ctJSON             = []string{"application/json"}
	nosniff            = []string{"nosniff"}
	varyAccept         = []string{"Accept"}
	varyLanguage       = []string{"Accept-Language"}
	varyAcceptLanguage = []string{"Accept, Accept-Language"}
)

// headerValue is h.Get(key) for a canonical key, which it need not
// canonicalize again.
func headerValue(h http.Header, key string) string {
	if v := h[key]; len(v) > 0 {
		return v[0]
	}
	return ""
}

// wantsPlainJSON reports whether an Accept header prefers application/json
// to application/problem+json, by their quality values (RFC 9110 §12.5.1;
// wildcards count for both, an explicit entry wins over a wildcard). The
// body is the same JSON either way; only the media type differs.
func wantsPlainJSON(accept string) bool {
	if accept == "" {
		return false
	}
	qProblem, qJSON, qWild := -1.0, -1.0, -1.0
	for accept != "" {
		var part string
		part, accept, _ = strings.Cut(accept, ",")
		mt, params, _ := strings.Cut(part, ";")
		q := qValue(params)
		switch mt = strings.TrimSpace(mt); {
		case strings.EqualFold(mt, "application/problem+json"):
			qProblem = max(qProblem, q)
		case strings.EqualFold(mt, "application/json"):
			qJSON = max(qJSON, q)
		case mt == "*/*" || strings.EqualFold(mt, "application/*"):
			qWild = max(qWild, q)
		}
	}
	if qProblem < 0 {
		qProblem = qWild
	}
	if qJSON < 0 {
		qJSON = qWild
	}
	return qJSON > 0 && qJSON > qProblem
}

// qValue returns the q parameter of a media range's parameters (1 when
// absent, 0 when malformed).
func qValue(params string) float64 {
	for params != "" {
		var p string
		p, params, _ = strings.Cut(params, ";")
		k, v, ok := strings.Cut(strings.TrimSpace(p), "=")
		if !ok || !strings.EqualFold(strings.TrimSpace(k), "q") {
			continue
		}
		q, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
		if err != nil || q < 0 || q > 1 {
			return 0
		}
		return q
	}
	return 1
}

func appendProblem(b []byte, p *Problem) []byte {
	if h := p.head; h != nil && h.matches(p) {
		b = append(b, h.json...)
	} else {
		b = appendHead(b, p.Type, p.Title, p.Status, p.ID)
	}
	if p.Instance != "" {
		b = append(b, `,"instance":`...)
		b = appendString(b, p.Instance)
	}
	if p.Detail != "" {
		b = append(b, `,"detail":`...)
		b = appendString(b, p.Detail)
	}
	if len(p.Info) > 0 {
		b = append(b, `,"info":`...)
		b = appendInfo(b, p.Info)
	}
	if p.TraceID != "" {
		b = append(b, `,"trace_id":`...)
		b = appendString(b, p.TraceID)
	} else if p.traceID.IsValid() {
		b = append(b, `,"trace_id":"`...)
		b = hex.AppendEncode(b, p.traceID[:]) // as TraceID.String
		b = append(b, '"')
	}
	if len(p.Errors) > 0 {
		b = appendEntries(b, p.Errors)
	}
	return append(b, "}\n"...)
}

// appendEntries appends the "errors" member of a joined error's problem.
func appendEntries(b []byte, entries []Entry) []byte {
	b = append(b, `,"errors":[`...)
	for i, e := range entries {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"id":`...)
		b = appendString(b, e.ID)
		b = append(b, `,"title":`...)
		b = appendString(b, e.Title)
		b = append(b, `,"status":`...)
		b = strconv.AppendInt(b, int64(e.Status), 10)
		if e.Detail != "" {
			b = append(b, `,"detail":`...)
			b = appendString(b, e.Detail)
		}
		if len(e.Info) > 0 {
			b = append(b, `,"info":`...)
			b = appendInfo(b, e.Info)
		}
		b = append(b, '}')
	}
	return append(b, ']')
}

// appendHead appends the start of a problem body: type, title, status and
// id.
func appendHead(b []byte, typ, title string, status int, id string) []byte {
	b = append(b, `{"type":`...)
	b = appendString(b, typ)
	b = append(b, `,"title":`...)
	b = appendString(b, title)
	b = append(b, `,"status":`...)
	b = strconv.AppendInt(b, int64(status), 10)
	b = append(b, `,"id":`...)
	return appendString(b, id)
}

func appendInfo(b []byte, info []errorsx.Field) []byte {
	b = append(b, '{')
	for i, f := range info {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendString(b, f.Key)
		b = append(b, ':')
		b = appendValue(b, f.Value)
	}
	return append(b, '}')
}

func appendValue(b []byte, v any) []byte {
	switch v := v.(type) {
	case nil:
		return append(b, "null"...)
	case string:
		return appendString(b, v)
	case bool:
		return strconv.AppendBool(b, v)
	case int:
		return strconv.AppendInt(b, int64(v), 10)
	case int64:
		return strconv.AppendInt(b, v, 10)
	case int32:
		return strconv.AppendInt(b, int64(v), 10)
	case uint:
		return strconv.AppendUint(b, uint64(v), 10)
	case uint64:
		return strconv.AppendUint(b, v, 10)
	case float64:
		if !math.IsInf(v, 0) && !math.IsNaN(v) {
			return strconv.AppendFloat(b, v, 'g', -1, 64)
		}
	case error:
		// An error's text is internal; only its id is public.
		return appendString(b, errorsx.Resolve(v).ID())
	}
	j, err := json.Marshal(v)
	if err != nil {
		// Info is masked (and made encodable) before it is rendered; a value
		// that still cannot be encoded is never printed with %v, which would
		// show what the masking hid.
		return appendString(b, "[unencodable]")
	}
	return append(b, j...)
}

const hexDigits = "0123456789abcdef"

// plainJSON[c] is true for the ASCII bytes a JSON string holds as they are
// (appendString escapes the others: control characters, '"', '\\' and the
// HTML-sensitive '<', '>', '&'; bytes from 0x80 start a UTF-8 sequence).
var plainJSON = func() (t [256]bool) {
	for c := 0x20; c < utf8.RuneSelf; c++ {
		t[c] = c != '"' && c != '\\' && c != '<' && c != '>' && c != '&'
	}
	return t
}()

// appendString appends s as a JSON string, escaping as encoding/json does
// (HTML-safe, invalid UTF-8 replaced).
func appendString(b []byte, s string) []byte {
	n := plainPrefix(s)
	b = append(b, '"')
	b = append(b, s[:n]...)
	if n < len(s) {
		b = appendEscaped(b, s[n:])
	}
	return append(b, '"')
}

// plainPrefix returns the length of the longest prefix of s that a JSON
// string holds as it is (see plainJSON), reading 8 bytes at a time while
// they are all plain.
func plainPrefix(s string) int {
	i := 0
	for ; len(s)-i >= 8; i += 8 {
		w := s[i : i+8]
		x := uint64(w[0]) | uint64(w[1])<<8 | uint64(w[2])<<16 | uint64(w[3])<<24 |
			uint64(w[4])<<32 | uint64(w[5])<<40 | uint64(w[6])<<48 | uint64(w[7])<<56
		if !plainWord(x) {
			break
		}
	}
	for i < len(s) && plainJSON[s[i]] {
		i++
	}
	return i
}

// Bytes repeated across a word, for plainWord.
const (
	lsbs = 0x0101010101010101
	msbs = 0x8080808080808080
)

// plainWord reports whether all 8 bytes of x are plain (plainJSON): none
// is 0x80 or above, below 0x20, '"', '\\', '<', '>' or '&'. '"' and '&'
// differ only in bit 2, '<' and '>' only in bit 1, so each pair is one
// test.
func plainWord(x uint64) bool {
	return x&msbs == 0 &&
		(x-0x20*lsbs)&^x&msbs == 0 && // no byte below 0x20 (x is ASCII)
		hasZero(x^('\\'*lsbs)) == 0 &&
		hasZero((x|0x04*lsbs)^('&'*lsbs)) == 0 && // no '"' or '&'
		hasZero((x|0x02*lsbs)^('>'*lsbs)) == 0 // no '<' or '>'
}

// hasZero is non-zero exactly when a byte of v is zero: the borrow of
// v - lsbs reaches the high bit of a byte only from a zero byte at or
// below it.
func hasZero(v uint64) uint64 { return (v - lsbs) &^ v & msbs }

// appendEscaped appends s, whose first byte is not plain, escaped: out of
// appendString's line, which most strings (ids, keys, paths) never leave.
func appendEscaped(b []byte, s string) []byte {
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if plainJSON[c] {
			i++
			continue
		}
		if c < utf8.RuneSelf {
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	return append(b, s[start:]...)
}

var bufPool = sync.Pool{New: func() any { b := make([]byte, 0, 512); return &b }}

func getBuf() *[]byte { return bufPool.Get().(*[]byte) }

func putBuf(b *[]byte) {
	if cap(*b) <= 64<<10 {
		bufPool.Put(b)
	}
}
