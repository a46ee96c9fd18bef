package httpx_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/otelkit/otelkit/httpx"
)

// TestServer runs the handler behind a real listener on 127.0.0.1 and a
// real client, many requests at once (run with -race).
func TestServer(t *testing.T) {
	te := newTestErrors()
	tel := newTelemetry(t)
	dir := t.TempDir()
	file := filepath.Join(dir, "f.txt")
	require.NoError(t, os.WriteFile(file, []byte(strings.Repeat("x", 10_000)), 0o600))

	mux := http.NewServeMux()
	mux.Handle("GET /users/{id}", httpx.HandlerFunc(func(w http.ResponseWriter, r *http.Request) error {
		if r.PathValue("id") == "0" {
			return te.notFound.With("id", r.PathValue("id"))
		}
		_, err := fmt.Fprintf(w, "user %s", r.PathValue("id"))
		return err
	}))
	mux.HandleFunc("GET /panic", func(http.ResponseWriter, *http.Request) { panic("boom") })
	mux.HandleFunc("GET /abort", func(http.ResponseWriter, *http.Request) { panic(http.ErrAbortHandler) })
	mux.HandleFunc("GET /file", func(w http.ResponseWriter, r *http.Request) {
		f, err := os.Open(file)
		if err != nil {
			httpx.WriteError(w, r, err)
			return
		}
		defer f.Close()
		_, _ = io.Copy(w, f) // through responseWriter.ReadFrom
	})
	mux.HandleFunc("GET /stream", func(w http.ResponseWriter, _ *http.Request) {
		_, _ = w.Write([]byte("a\n"))
		require.NoError(t, http.NewResponseController(w).Flush())
		_, _ = w.Write([]byte("b\n"))
	})
	mux.HandleFunc("GET /hijack", func(w http.ResponseWriter, _ *http.Request) {
		conn, buf, err := http.NewResponseController(w).Hijack()
		if !assert.NoError(t, err) {
			return
		}
		defer conn.Close()
		_, _ = buf.WriteString("HTTP/1.1 200 OK\r\nContent-Length: 8\r\nConnection: close\r\n\r\nhijacked")
		_ = buf.Flush()
	})
	srv := httptest.NewServer(tel.serve(mux, httpx.WithRegistry(te.reg)))
	t.Cleanup(srv.Close)
	client := srv.Client()

	get := func(path string) (int, string, http.Header, error) {
		resp, err := client.Get(srv.URL + path)
		if err != nil {
			return 0, "", nil, err
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b), resp.Header, err
	}

	var wg sync.WaitGroup
	for i := range 40 {
		wg.Go(func() {
			path := fmt.Sprintf("/users/%d", i%4)
			code, text, hdr, err := get(path)
			if !assert.NoError(t, err) {
				return
			}
			if i%4 == 0 {
				assert.Equal(t, 404, code)
				assert.Equal(t, "application/problem+json", hdr.Get("Content-Type"))
				var b map[string]any
				assert.NoError(t, json.Unmarshal([]byte(text), &b))
				assert.Equal(t, "users.not-found", b["id"])
			} else {
				assert.Equal(t, 200, code)
				assert.Equal(t, fmt.Sprintf("user %d", i%4), text)
			}
		})
	}
	wg.Wait()

	code, text, _, err := get("/panic")
	require.NoError(t, err)
	assert.Equal(t, 500, code)
	assert.Contains(t, text, `"id":"internal"`)
	assert.NotContains(t, text, "boom")

	_, _, _, err = get("/abort")
	assert.Error(t, err, "ErrAbortHandler aborts the response")

	code, text, _, err = get("/file")
	require.NoError(t, err)
	assert.Equal(t, 200, code)
	assert.Len(t, text, 10_000)

	_, text, _, err = get("/stream")
	require.NoError(t, err)
	assert.Equal(t, "a\nb\n", text)

	code, text, _, err = get("/hijack")
	require.NoError(t, err)
	assert.Equal(t, 200, code)
	assert.Equal(t, "hijacked", text)

	code, text, hdr, err := get("/nope")
	require.NoError(t, err)
	assert.Equal(t, 404, code)
	assert.Equal(t, "application/problem+json", hdr.Get("Content-Type"))
	assert.Contains(t, text, `"id":"not-found"`)
}

func TestContextPassesThrough(t *testing.T) {
	type key struct{}
	parent, cancel := context.WithCancelCause(context.WithValue(context.Background(), key{}, "v"))
	var got context.Context
	h := httpx.Handler(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) { got = r.Context() }))
	h.ServeHTTP(httptestRecorder(), httptestRequest(parent, "GET", "/"))
	require.NotNil(t, got)
	assert.Equal(t, "v", got.Value(key{}))
	assert.NoError(t, got.Err())
	cause := errors.New("client went away")
	cancel(cause)
	<-got.Done()
	assert.ErrorIs(t, got.Err(), context.Canceled)
	assert.Equal(t, cause, context.Cause(got))
	child, stop := context.WithCancel(got)
	defer stop()
	<-child.Done()
}
