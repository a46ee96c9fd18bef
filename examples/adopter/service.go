package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"sync"

	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"go.opentelemetry.io/otel/attribute"
	otellog "go.opentelemetry.io/otel/log"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/trace"

	"github.com/otelkit/otelkit/examples/adopter/api"
	"github.com/otelkit/otelkit/httpx"
	"github.com/otelkit/otelkit/otelbridge"
)

// Config is what the service is built from: every provider explicitly,
// never a global, so that two services (or two parallel tests) stay apart.
type Config struct {
	TracerProvider trace.TracerProvider
	MeterProvider  metric.MeterProvider
	LoggerProvider otellog.LoggerProvider
	AccessLog      io.Writer // one line per request
	StackFrames    int       // bound of exception.stacktrace (httpx.WithStackFrames: 0 none, negative every frame)
}

// Service is the notes API.
type Service struct {
	http.Handler
	recorder *otelbridge.Recorder
	audits   *api.Audits
	store    *store
}

// New builds the service: routes under an httpx.Handler with the
// company's body, inside otelhttp, inside an access log.
func New(cfg Config) *Service {
	s := &Service{
		recorder: otelbridge.NewRecorder(
			otelbridge.RecordWithRegistry(api.Registry),
			otelbridge.RecordWithLoggerProvider(cfg.LoggerProvider),
			otelbridge.RecordWithTracerProvider(cfg.TracerProvider),
		),
		audits: api.NewAudits(cfg.LoggerProvider),
		store:  newStore(),
	}

	mux := http.NewServeMux()
	mux.Handle("POST /notes", httpx.HandlerFunc(s.create))
	mux.Handle("GET /notes/{id}", httpx.HandlerFunc(s.get))
	mux.Handle("DELETE /notes/{id}", httpx.HandlerFunc(s.delete))
	mux.HandleFunc("GET /panic", func(http.ResponseWriter, *http.Request) { panic("the notes index is corrupt") })

	// The /admin/ group has its own registry and nothing else: it inherits
	// the renderer, logger provider and stack bound of the service's Handler.
	admin := http.NewServeMux()
	admin.Handle("POST /admin/notes/{id}/purge", httpx.HandlerFunc(func(http.ResponseWriter, *http.Request) error {
		return api.ErrAdminForbidden
	}))
	mux.Handle("/admin/", httpx.Handler(admin, httpx.WithRegistry(api.AdminRegistry)))

	h := httpx.Handler(mux,
		httpx.WithRegistry(api.Registry),
		httpx.WithRenderer(api.Body{}),
		httpx.WithLoggerProvider(cfg.LoggerProvider),
		httpx.WithUser(func(r *http.Request) string { return r.Header.Get("X-User") }),
		httpx.WithStackFrames(cfg.StackFrames),
	)
	s.Handler = accessLog(cfg.AccessLog, otelhttp.NewHandler(h, "notes",
		otelhttp.WithTracerProvider(cfg.TracerProvider), otelhttp.WithMeterProvider(cfg.MeterProvider)))
	return s
}

// accessLog writes one line per request with what the Handler inside did,
// read from httpx.TrackOutcome: no second resolution of the error.
func accessLog(w io.Writer, next http.Handler) http.Handler {
	var mu sync.Mutex
	return http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		r, out := httpx.TrackOutcome(r)
		next.ServeHTTP(rw, r)
		mu.Lock()
		defer mu.Unlock()
		fmt.Fprintf(w, "%s %s status=%d error=%q panic=%v\n", r.Method, r.URL.Path, out.Status, out.ID(), out.Panic)
	})
}

type note struct {
	ID    int    `json:"id"`
	Title string `json:"title"`
	Body  string `json:"body,omitempty"`
}

func (s *Service) create(w http.ResponseWriter, r *http.Request) error {
	var in note
	// Every client mistake is a registered 4xx: truncated JSON, a wrong
	// type, an unknown field, a wrong content type.
	if err := httpx.DecodeJSON(r, &in, httpx.DisallowUnknownFields()); err != nil {
		return err
	}
	if in.Title == "" {
		return api.ErrTitleMissing.With("field", "title")
	}
	n, err := s.store.add(in)
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusCreated)
	return json.NewEncoder(w).Encode(n)
}

func (s *Service) get(w http.ResponseWriter, r *http.Request) error {
	n, err := s.store.get(r.PathValue("id"))
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "application/json")
	return json.NewEncoder(w).Encode(n)
}

func (s *Service) delete(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	if err := s.store.remove(id); err != nil {
		return err
	}
	if err := s.audits.NoteDeleted.Emit(r.Context(), attribute.String("note.id", id)); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// Compact is the background job: it runs under the service's Recorder, so
// its span and exception record go to the service's providers.
func (s *Service) Compact(ctx context.Context) error {
	return s.recorder.Track(ctx, "notes.compact", func(ctx context.Context) error {
		return s.store.compact()
	})
}

// Close closes the store; later calls fail with api.ErrClosed.
func (s *Service) Close() { s.store.close() }

// store is an in-memory notes table.
type store struct {
	mu     sync.Mutex
	notes  map[string]note
	next   int
	closed bool
}

func newStore() *store { return &store{notes: map[string]note{}} }

func (st *store) add(n note) (note, error) {
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.closed {
		return note{}, fmt.Errorf("adding a note: %w", api.ErrClosed)
	}
	st.next++
	n.ID = st.next
	st.notes[strconv.Itoa(n.ID)] = n
	return n, nil
}

func (st *store) get(id string) (note, error) {
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.closed {
		return note{}, fmt.Errorf("loading note %s: %w", id, api.ErrClosed)
	}
	n, ok := st.notes[id]
	if !ok {
		return note{}, api.ErrNoteNotFound.With("id", id)
	}
	return n, nil
}

func (st *store) remove(id string) error {
	st.mu.Lock()
	defer st.mu.Unlock()
	if _, ok := st.notes[id]; !ok {
		return api.ErrNoteNotFound.With("id", id)
	}
	delete(st.notes, id)
	return nil
}

func (st *store) compact() error {
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.closed {
		return fmt.Errorf("compacting: %w", api.ErrClosed)
	}
	return nil
}

func (st *store) close() {
	st.mu.Lock()
	defer st.mu.Unlock()
	st.closed = true
}
