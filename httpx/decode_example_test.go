package httpx_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/otelkit/otelkit/httpx"
)

func ExampleDecodeJSON() {
	h := httpx.Handler(httpx.HandlerFunc(func(w http.ResponseWriter, r *http.Request) error {
		var note struct {
			Title string `json:"title"`
			Stars int    `json:"stars"`
		}
		if err := httpx.DecodeJSON(r, &note, httpx.DisallowUnknownFields()); err != nil {
			return err // a registered 4xx: the client's mistake, never a 500
		}
		_, err := fmt.Fprintf(w, "saved %q\n", note.Title)
		return err
	}))
	for _, body := range []string{`{"title":"a"}`, `{"title":`, `{"stars":"many"}`, `{"colour":"red"}`} {
		req := httptest.NewRequest("POST", "/notes", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		fmt.Print(rec.Code, " ", rec.Body.String())
	}
	// Output:
	// 200 saved "a"
	// 400 {"type":"urn:otelkit:error:truncated-json","title":"The request body ends before its JSON value does","status":400,"id":"truncated-json","instance":"/notes","info":{"offset":9}}
	// 400 {"type":"urn:otelkit:error:json-type-mismatch","title":"A value in the request body has the wrong type","status":400,"id":"json-type-mismatch","instance":"/notes","info":{"field":"stars","expected":"number","got":"string","offset":15}}
	// 400 {"type":"urn:otelkit:error:unknown-field","title":"The request body has a field that is not accepted","status":400,"id":"unknown-field","instance":"/notes","info":{"field":"colour"}}
}
