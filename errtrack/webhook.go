package errtrack

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"
)

type webhookConfig struct {
	client  *http.Client
	timeout time.Duration
	header  http.Header
}

// WebhookOption configures a [WebhookNotifier].
type WebhookOption func(*webhookConfig)

// WithWebhookClient sets the HTTP client; the default is a client of its own
// with no redirects followed.
func WithWebhookClient(c *http.Client) WebhookOption {
	return func(w *webhookConfig) {
		if c != nil {
			w.client = c
		}
	}
}

// WithWebhookTimeout bounds each POST, within the Tracker's per-send
// timeout. The default is 5s.
func WithWebhookTimeout(d time.Duration) WebhookOption {
	return func(w *webhookConfig) {
		if d > 0 {
			w.timeout = d
		}
	}
}

// WithWebhookHeader adds a header to every POST, for example an
// Authorization token.
func WithWebhookHeader(key, value string) WebhookOption {
	return func(w *webhookConfig) { w.header.Add(key, value) }
}

// WebhookNotifier POSTs each notification as JSON ([Notification.MarshalJSON])
// to a URL and expects a 2xx answer.
type WebhookNotifier struct {
	url string
	cfg webhookConfig
}

var _ Notifier = (*WebhookNotifier)(nil)

// NewWebhookNotifier returns a notifier that POSTs to rawURL, which must be
// an absolute http or https URL.
func NewWebhookNotifier(rawURL string, opts ...WebhookOption) (*WebhookNotifier, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, fmt.Errorf("errtrack: webhook url: %w", err)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("errtrack: webhook url %q: want an absolute http(s) URL", rawURL)
	}
	w := &WebhookNotifier{url: rawURL, cfg: webhookConfig{
		timeout: 5 * time.Second,
		header:  http.Header{},
		client: &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		}},
	}}
	for _, o := range opts {
		if o != nil {
			o(&w.cfg)
		}
	}
	return w, nil
}

// Notify POSTs n as JSON.
func (w *WebhookNotifier) Notify(ctx context.Context, n Notification) error {
	body, err := json.Marshal(n)
	if err != nil {
		return fmt.Errorf("errtrack: webhook: %w", err)
	}
	ctx, cancel := context.WithTimeout(ctx, w.cfg.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.url, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("errtrack: webhook: %w", err)
	}
	for k, vs := range w.cfg.header {
		req.Header[k] = append([]string(nil), vs...)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := w.cfg.client.Do(req)
	if err != nil {
		return fmt.Errorf("errtrack: webhook: %w", err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fmt.Errorf("errtrack: webhook %s: %s", w.url, resp.Status)
	}
	return nil
}

// MarshalJSON encodes n with snake_case keys, times in RFC 3339, and Info
// and Extras as JSON objects.
func (n Notification) MarshalJSON() ([]byte, error) {
	return json.Marshal(notificationJSON{
		Reason:      n.Reason,
		Fingerprint: n.Fingerprint,
		ErrorID:     n.ErrorID,
		Status:      n.Status,
		Type:        n.Type,
		Kind:        n.Kind,
		Message:     n.Message,
		Count:       n.Count,
		WindowCount: n.WindowCount,
		FirstSeen:   n.FirstSeen.UTC(),
		LastSeen:    n.LastSeen.UTC(),
		Route:       n.Route,
		Method:      n.Method,
		TraceID:     n.TraceID,
		Stack:       n.Stack,
		Info:        attrMap(n.Info),
		Extras:      attrMap(n.Extras),
		URL:         n.URL,
	})
}

type notificationJSON struct {
	Reason      Reason         `json:"reason"`
	Fingerprint string         `json:"fingerprint"`
	ErrorID     string         `json:"error_id"`
	Status      int            `json:"status,omitempty"`
	Type        string         `json:"type,omitempty"`
	Kind        string         `json:"kind,omitempty"`
	Message     string         `json:"message"`
	Count       int64          `json:"count"`
	WindowCount int            `json:"window_count,omitempty"`
	FirstSeen   time.Time      `json:"first_seen"`
	LastSeen    time.Time      `json:"last_seen"`
	Route       string         `json:"route,omitempty"`
	Method      string         `json:"method,omitempty"`
	TraceID     string         `json:"trace_id,omitempty"`
	Stack       string         `json:"stack,omitempty"`
	Info        map[string]any `json:"info,omitempty"`
	Extras      map[string]any `json:"extras,omitempty"`
	URL         string         `json:"url,omitempty"`
}
