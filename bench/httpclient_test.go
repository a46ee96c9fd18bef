package bench_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/otelkit/otelkit/bench"
	"github.com/otelkit/otelkit/errorsx"
	"github.com/otelkit/otelkit/httpx"
)

// Implementations of BenchmarkHTTPClientError.
const (
	httpClientOtelkit     = "otelkit"     // httpx.ResponseErr
	httpClientHandwritten = "handwritten" // handResponseErr
)

// recordedResponse is the 429 otelkit's service answers to POST /login
// (problem+json: type, title, status, id, instance, info retry_after=30,
// trace_id), recorded once: its status, header and body.
func recordedResponse(tb testing.TB) (int, http.Header, []byte) {
	tel := bench.NewTelemetry()
	defer tel.Shutdown(context.Background())
	h, err := bench.NewService(bench.ImplOtelkit, tel)
	if err != nil {
		tb.Fatal(err)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, bench.Path4xx, nil))
	if rec.Code != http.StatusTooManyRequests {
		tb.Fatalf("recorded %d, want 429", rec.Code)
	}
	return rec.Code, rec.Header().Clone(), rec.Body.Bytes()
}

// replay is a response whose body reads the recorded bytes again after
// reset, so that a benchmark iteration allocates nothing for it.
type replay struct {
	resp http.Response
	body bytes.Reader
	data []byte
}

func newReplay(status int, header http.Header, body []byte) *replay {
	r := &replay{data: body}
	r.resp = http.Response{StatusCode: status, Status: fmt.Sprintf("%d %s", status, http.StatusText(status)), Header: header, Body: io.NopCloser(&r.body)}
	r.reset()
	return r
}

// reset rewinds the body and returns the response.
func (r *replay) reset() *http.Response {
	r.body.Reset(r.data)
	return &r.resp
}

// decoders are the two ways of turning the response back into the error.
var decoders = map[string]func(*http.Response, *errorsx.Registry) error{
	httpClientOtelkit:     httpx.ResponseErr,
	httpClientHandwritten: handResponseErr,
}

// BenchmarkHTTPClientError is the calling side of the HTTP error path: the
// recorded 429 problem+json response turned back into the registered error
// by httpx.ResponseErr and by the hand-written decode (bounded read,
// content-type check, JSON decode, id -> definition). Target: otelkit at
// most 1.10x hand-written.
func BenchmarkHTTPClientError(b *testing.B) {
	status, header, body := recordedResponse(b)
	defs := bench.NewDefs()
	for _, impl := range []string{httpClientHandwritten, httpClientOtelkit} {
		b.Run("impl="+impl, func(b *testing.B) {
			decode, r := decoders[impl], newReplay(status, header, body)
			if err := decode(r.reset(), defs.Registry); !errors.Is(err, defs.RateLimited) {
				b.Fatalf("%s: %v", impl, err)
			}
			run(b, func() { _ = decode(r.reset(), defs.Registry) })
		})
	}
}

// handMaxErrorBody is how much of an error body the hand-written decode
// reads at most (httpx.MaxErrorBody's bound).
const handMaxErrorBody = 64 << 10

// handResponseError is a non-2xx answer as the hand-written client decodes
// it: the status, the problem's id, title, detail and info, and the
// registered definition when the id names one.
type handResponseError struct {
	StatusCode int
	ID, Title  string
	Detail     string
	Info       map[string]any
	def        *errorsx.Def
}

func (e *handResponseError) Error() string {
	return fmt.Sprintf("%d %s: %s: %s", e.StatusCode, http.StatusText(e.StatusCode), e.ID, e.Title)
}

func (e *handResponseError) Unwrap() error {
	if e.def == nil {
		return nil
	}
	return e.def
}

// handResponseErr is what a service writes by hand to read another
// service's problem+json error: nil for a 2xx; otherwise the body, read up
// to a bound, when its content type is JSON, decoded, and its id (or the
// id in its type URN) looked up in the registry.
func handResponseErr(resp *http.Response, reg *errorsx.Registry) error {
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return nil
	}
	e := &handResponseError{StatusCode: resp.StatusCode}
	mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	if mt != "application/problem+json" && mt != "application/json" {
		return e
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, handMaxErrorBody+1))
	if err != nil {
		return fmt.Errorf("%w: reading the body: %w", e, err)
	}
	if len(body) > handMaxErrorBody {
		return fmt.Errorf("%w: body larger than %d bytes", e, handMaxErrorBody)
	}
	var p struct {
		Type   string         `json:"type"`
		Title  string         `json:"title"`
		ID     string         `json:"id"`
		Detail string         `json:"detail"`
		Info   map[string]any `json:"info"`
	}
	if err := json.Unmarshal(body, &p); err != nil {
		return fmt.Errorf("%w: %w", e, err)
	}
	e.ID, e.Title, e.Detail, e.Info = p.ID, p.Title, p.Detail, p.Info
	if e.ID == "" {
		e.ID = strings.TrimPrefix(p.Type, httpx.TypeURNPrefix)
	}
	e.def, _ = reg.Lookup(e.ID)
	return e
}

// decodedPublic is what a client reads of a decoded error: the id and
// title the body named, the detail and the public info.
type decodedPublic struct {
	ID, Title, Detail string
	Info              map[string]any
}

func publicOf(err error) decodedPublic {
	var he *handResponseError
	if errors.As(err, &he) {
		return decodedPublic{he.ID, he.Title, he.Detail, he.Info}
	}
	var re *httpx.ResponseError
	var oe *errorsx.Error
	if !errors.As(err, &re) {
		return decodedPublic{}
	}
	p := decodedPublic{ID: re.ID, Title: re.Title}
	if errors.As(err, &oe) {
		p.Detail = oe.Detail()
		p.Info = map[string]any{}
		for _, f := range oe.Info() {
			p.Info[f.Key] = f.Value
		}
	}
	return p
}

// TestHTTPClientSameWork: both decodes of BenchmarkHTTPClientError's
// response give an error for which errors.Is(err, def) holds and the same
// public id, title, detail and info.
func TestHTTPClientSameWork(t *testing.T) {
	status, header, body := recordedResponse(t)
	defs := bench.NewDefs()
	var got []decodedPublic
	for _, impl := range []string{httpClientHandwritten, httpClientOtelkit} {
		err := decoders[impl](newReplay(status, header, body).reset(), defs.Registry)
		if !errors.Is(err, defs.RateLimited) {
			t.Fatalf("%s: %v is not %v", impl, err, defs.RateLimited)
		}
		got = append(got, publicOf(err))
	}
	t.Logf("body %s\nhand-written %+v", body, got[0])
	want := decodedPublic{ID: bench.RateLimitedID, Title: bench.RateLimitedMsg, Info: map[string]any{"retry_after": 30.0}}
	for i, p := range got {
		if p.ID != want.ID || p.Title != want.Title || p.Detail != want.Detail || !equalAny(p.Info, want.Info) {
			t.Errorf("%d: %+v, want %+v", i, p, want)
		}
	}
}

// TestHTTPClientAllocBudget: httpx.ResponseErr decodes the recorded 429
// with no more allocations than the hand-written decode (20 and 20 when
// written: the error and the decoded document share one, the occurrence
// takes the place of the hand-written side's separate document).
func TestHTTPClientAllocBudget(t *testing.T) {
	status, header, body := recordedResponse(t)
	defs := bench.NewDefs()
	allocs := map[string]float64{}
	for impl, decode := range decoders {
		r := newReplay(status, header, body)
		allocs[impl] = testing.AllocsPerRun(200, func() { _ = decode(r.reset(), defs.Registry) })
	}
	t.Logf("allocs per decode: %v", allocs)
	if allocs[httpClientOtelkit] > allocs[httpClientHandwritten] {
		t.Errorf("httpx.ResponseErr %v allocations, hand-written decode %v", allocs[httpClientOtelkit], allocs[httpClientHandwritten])
	}
}
