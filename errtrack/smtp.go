package errtrack

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"mime"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"net/smtp"
	"os"
	"strconv"
	"strings"
	"time"
)

// TLSMode says how an [SMTPNotifier] protects its connection, as
// flask-error-tracker's MAIL_USE_TLS / MAIL_USE_SSL settings do.
type TLSMode int

// TLS modes of an [SMTPNotifier].
const (
	// TLSStartTLS upgrades a plain connection with STARTTLS and fails when
	// the server does not offer it (MAIL_USE_TLS). It is the default.
	TLSStartTLS TLSMode = iota
	// TLSImplicit speaks TLS from the first byte, usually on port 465
	// (MAIL_USE_SSL).
	TLSImplicit
	// TLSNone sends in the clear; for a local relay only.
	TLSNone
)

// String returns the mode's name.
func (m TLSMode) String() string {
	switch m {
	case TLSStartTLS:
		return "starttls"
	case TLSImplicit:
		return "implicit"
	case TLSNone:
		return "none"
	}
	return fmt.Sprintf("TLSMode(%d)", int(m))
}

type smtpConfig struct {
	prefix string
	auth   smtp.Auth
	mode   TLSMode
	tls    *tls.Config
	helo   string
}

// SMTPOption configures an [SMTPNotifier].
type SMTPOption func(*smtpConfig)

// WithSubjectPrefix sets the text put before every subject
// (APP_ERROR_SUBJECT_PREFIX); the default is "[otelkit]".
func WithSubjectPrefix(prefix string) SMTPOption {
	return func(c *smtpConfig) { c.prefix = prefix }
}

// WithSMTPAuth authenticates with a; for example
// smtp.PlainAuth("", user, password, host) (MAIL_USERNAME, MAIL_PASSWORD).
// net/smtp refuses PLAIN auth over an unencrypted connection to a host other
// than localhost.
func WithSMTPAuth(a smtp.Auth) SMTPOption {
	return func(c *smtpConfig) { c.auth = a }
}

// WithSMTPTLS sets the TLS mode; the default is [TLSStartTLS].
func WithSMTPTLS(mode TLSMode) SMTPOption {
	return func(c *smtpConfig) { c.mode = mode }
}

// WithSMTPTLSConfig sets the TLS configuration (for example RootCAs for a
// private CA). ServerName defaults to the host of the address.
func WithSMTPTLSConfig(cfg *tls.Config) SMTPOption {
	return func(c *smtpConfig) { c.tls = cfg }
}

// WithSMTPHello sets the name sent in HELO/EHLO; the default is "localhost".
func WithSMTPHello(name string) SMTPOption {
	return func(c *smtpConfig) { c.helo = name }
}

// SMTPNotifier mails notifications with net/smtp. Each notification is one
// message to all recipients over a new connection, bounded by the context
// the Tracker passes.
type SMTPNotifier struct {
	addr string
	host string
	from string
	to   []string
	cfg  smtpConfig
}

var _ Notifier = (*SMTPNotifier)(nil)

// NewSMTPNotifier returns a notifier that sends mail through the server at
// addr ("host:port", MAIL_SERVER and MAIL_PORT) from the sender address from
// (APP_ERROR_EMAIL_SENDER) to the recipients to (APP_ERROR_RECIPIENT_EMAIL).
// It reports an error when an address does not parse.
func NewSMTPNotifier(addr, from string, to []string, opts ...SMTPOption) (*SMTPNotifier, error) {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, fmt.Errorf("errtrack: smtp address %q: %w", addr, err)
	}
	fa, err := mail.ParseAddress(from)
	if err != nil {
		return nil, fmt.Errorf("errtrack: smtp sender %q: %w", from, err)
	}
	if len(to) == 0 {
		return nil, errors.New("errtrack: smtp notifier needs at least one recipient")
	}
	rcpts := make([]string, len(to))
	for i, s := range to {
		a, err := mail.ParseAddress(s)
		if err != nil {
			return nil, fmt.Errorf("errtrack: smtp recipient %q: %w", s, err)
		}
		rcpts[i] = a.Address
	}
	n := &SMTPNotifier{addr: addr, host: host, from: fa.Address, to: rcpts,
		cfg: smtpConfig{prefix: "[otelkit]", helo: "localhost"}}
	for _, o := range opts {
		if o != nil {
			o(&n.cfg)
		}
	}
	switch n.cfg.mode {
	case TLSStartTLS, TLSImplicit, TLSNone:
	default:
		return nil, fmt.Errorf("errtrack: unknown %v", n.cfg.mode)
	}
	return n, nil
}

func (s *SMTPNotifier) tlsConfig() *tls.Config {
	c := &tls.Config{MinVersion: tls.VersionTLS12}
	if s.cfg.tls != nil {
		c = s.cfg.tls.Clone()
	}
	if c.ServerName == "" {
		c.ServerName = s.host
	}
	return c
}

// Notify sends n as one plain-text message. A done ctx closes the
// connection, so a server that hangs cannot hold the caller.
func (s *SMTPNotifier) Notify(ctx context.Context, n Notification) (err error) {
	defer func() {
		if err != nil {
			cerr := ctx.Err()
			if _, ok := ctx.Deadline(); ok && cerr == nil && errors.Is(err, os.ErrDeadlineExceeded) {
				// The connection's deadline is ctx's; it may fire first.
				cerr = context.DeadlineExceeded
			}
			if cerr != nil && !errors.Is(err, cerr) {
				err = fmt.Errorf("%w (%w)", err, cerr)
			}
			err = fmt.Errorf("errtrack: smtp %s: %w", s.addr, err)
		}
	}()
	var conn net.Conn
	if s.cfg.mode == TLSImplicit {
		d := tls.Dialer{Config: s.tlsConfig()}
		conn, err = d.DialContext(ctx, "tcp", s.addr)
	} else {
		var d net.Dialer
		conn, err = d.DialContext(ctx, "tcp", s.addr)
	}
	if err != nil {
		return err
	}
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()
	if dl, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(dl)
	}
	c, err := smtp.NewClient(conn, s.host)
	if err != nil {
		conn.Close()
		return err
	}
	defer c.Close()
	if err := c.Hello(s.cfg.helo); err != nil {
		return err
	}
	if s.cfg.mode == TLSStartTLS {
		if ok, _ := c.Extension("STARTTLS"); !ok {
			return errors.New("server does not offer STARTTLS")
		}
		if err := c.StartTLS(s.tlsConfig()); err != nil {
			return err
		}
	}
	if s.cfg.auth != nil {
		if err := c.Auth(s.cfg.auth); err != nil {
			return err
		}
	}
	if err := c.Mail(s.from); err != nil {
		return err
	}
	for _, r := range s.to {
		if err := c.Rcpt(r); err != nil {
			return err
		}
	}
	msg, err := s.message(n)
	if err != nil {
		return err
	}
	w, err := c.Data()
	if err != nil {
		return err
	}
	if _, err := w.Write(msg); err != nil {
		return err
	}
	if err := w.Close(); err != nil {
		return err
	}
	return c.Quit()
}

// message renders the mail: headers (with Date and a unique Message-ID) and
// a plain-text body in quoted-printable, so that no line exceeds the 998
// octets RFC 5322 allows however long the message or a stack line is.
func (s *SMTPNotifier) message(n Notification) ([]byte, error) {
	var b bytes.Buffer
	subject := n.Subject(s.cfg.prefix)
	fmt.Fprintf(&b, "From: %s\r\n", s.from)
	fmt.Fprintf(&b, "To: %s\r\n", strings.Join(s.to, ", "))
	fmt.Fprintf(&b, "Subject: %s\r\n", mime.QEncoding.Encode("utf-8", subject))
	fmt.Fprintf(&b, "Date: %s\r\n", time.Now().Format(time.RFC1123Z))
	id, err := s.messageID()
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(&b, "Message-ID: %s\r\n", id)
	b.WriteString("MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n")
	qp := quotedprintable.NewWriter(&b)
	// Text lines end in LF; quoted-printable keeps them as CRLF line breaks.
	if _, err := qp.Write([]byte(n.Text())); err != nil {
		return nil, err
	}
	if err := qp.Close(); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// messageID returns a new Message-ID, "<random@sender's domain>".
func (s *SMTPNotifier) messageID() (string, error) {
	var r [16]byte
	if _, err := rand.Read(r[:]); err != nil {
		return "", fmt.Errorf("message id: %w", err)
	}
	domain := "otelkit.invalid"
	if i := strings.LastIndexByte(s.from, '@'); i >= 0 && i < len(s.from)-1 {
		domain = s.from[i+1:]
	}
	return "<" + hex.EncodeToString(r[:]) + "." + strconv.FormatInt(time.Now().UnixNano(), 36) + "@" + domain + ">", nil
}

// Subject returns the one-line subject of n after prefix, as mailed by
// [SMTPNotifier]: "<prefix> [<id>] <message>", or
// "<prefix> [<id>] <n> occurrences: <message>" for the rate rule.
func (n Notification) Subject(prefix string) string {
	id := n.ErrorID
	if id == "" {
		id = n.Fingerprint
	}
	msg := oneLine(n.Message)
	if r := []rune(msg); len(r) > 120 {
		msg = string(r[:119]) + "…"
	}
	s := fmt.Sprintf("[%s] %s", id, msg)
	if n.Reason == ReasonRate {
		s = fmt.Sprintf("[%s] %d occurrences: %s", id, n.WindowCount, msg)
	}
	if prefix != "" {
		s = oneLine(prefix) + " " + s
	}
	return s
}

func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

// Text renders n as the plain-text body mailed by [SMTPNotifier].
func (n Notification) Text() string {
	var b strings.Builder
	switch n.Reason {
	case ReasonRate:
		fmt.Fprintf(&b, "Error %s passed the notification rate: %d occurrences in the window.\n\n", n.ErrorID, n.WindowCount)
	default:
		fmt.Fprintf(&b, "New error %s.\n\n", n.ErrorID)
	}
	line := func(k, v string) {
		if v != "" {
			fmt.Fprintf(&b, "%-12s %s\n", k+":", v)
		}
	}
	line("Message", n.Message)
	line("Error id", n.ErrorID)
	if n.Status != 0 {
		line("Status", fmt.Sprint(n.Status))
	}
	line("Type", n.Type)
	line("Fingerprint", n.Fingerprint)
	line("Count", fmt.Sprint(n.Count))
	line("First seen", n.FirstSeen.UTC().Format(time.RFC3339))
	line("Last seen", n.LastSeen.UTC().Format(time.RFC3339))
	if n.Route != "" {
		line("Route", strings.TrimSpace(n.Method+" "+n.Route))
	}
	line("Trace id", n.TraceID)
	line("Details", n.URL)
	if len(n.Info) > 0 {
		b.WriteString("\nInfo:\n")
		for _, kv := range n.Info {
			fmt.Fprintf(&b, "  %s = %s\n", kv.Key, kv.Value.String())
		}
	}
	if len(n.Extras) > 0 {
		b.WriteString("\nExtras:\n")
		for _, kv := range n.Extras {
			fmt.Fprintf(&b, "  %s = %s\n", kv.Key, kv.Value.String())
		}
	}
	if n.Stack != "" {
		b.WriteString("\nStack:\n")
		b.WriteString(n.Stack)
		if !strings.HasSuffix(n.Stack, "\n") {
			b.WriteString("\n")
		}
	}
	return b.String()
}
