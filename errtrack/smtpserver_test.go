package errtrack_test

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
	"github.com/stretchr/testify/require"
)

// mail is one message received by the test SMTP server.
type mail struct {
	from string
	to   []string
	data string
	user string
}

// mailServer is a real SMTP server (github.com/emersion/go-smtp) on
// 127.0.0.1:0.
type mailServer struct {
	addr   string
	mails  chan mail
	hang   chan struct{} // closed when the test ends; Data waits on it when hanging
	inData chan struct{} // one value per DATA command of a hanging server
	// behaviour
	hanging bool
	reject  bool
	user    string // required PLAIN user; "" means no AUTH
	pass    string
	pool    *x509.CertPool // roots that trust the server's certificate, when TLS
}

type mailServerOpt func(*mailServer, *smtp.Server)

func hangingData() mailServerOpt { return func(m *mailServer, _ *smtp.Server) { m.hanging = true } }
func rejectData() mailServerOpt  { return func(m *mailServer, _ *smtp.Server) { m.reject = true } }
func plainAuth(user, pass string) mailServerOpt {
	return func(m *mailServer, _ *smtp.Server) { m.user, m.pass = user, pass }
}

// withCert gives the server the certificate of an httptest TLS server, which
// is valid for 127.0.0.1.
func withCert(t *testing.T) mailServerOpt {
	return func(m *mailServer, s *smtp.Server) {
		ts := httptest.NewUnstartedServer(http.NotFoundHandler())
		ts.StartTLS()
		t.Cleanup(ts.Close)
		s.TLSConfig = &tls.Config{Certificates: ts.TLS.Certificates, MinVersion: tls.VersionTLS12}
		m.pool = x509.NewCertPool()
		m.pool.AddCert(ts.Certificate())
	}
}

// startMailServer starts a server; implicit makes it speak TLS from the first
// byte (needs withCert).
func startMailServer(t *testing.T, implicit bool, opts ...mailServerOpt) *mailServer {
	t.Helper()
	m := &mailServer{mails: make(chan mail, 100), hang: make(chan struct{}), inData: make(chan struct{}, 100)}
	s := smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) {
		return &mailSession{srv: m}, nil
	}))
	s.Domain = "localhost"
	for _, o := range opts {
		o(m, s)
	}
	s.AllowInsecureAuth = m.user != "" && s.TLSConfig == nil
	var l net.Listener
	var err error
	if implicit {
		l, err = tls.Listen("tcp", "127.0.0.1:0", s.TLSConfig)
	} else {
		l, err = net.Listen("tcp", "127.0.0.1:0")
	}
	require.NoError(t, err)
	m.addr = l.Addr().String()
	var wg sync.WaitGroup
	wg.Go(func() { _ = s.Serve(l) })
	t.Cleanup(func() {
		close(m.hang)
		_ = s.Close()
		wg.Wait()
	})
	return m
}

type mailSession struct {
	srv  *mailServer
	m    mail
	user string
}

var _ smtp.AuthSession = (*mailSession)(nil)

func (s *mailSession) AuthMechanisms() []string {
	if s.srv.user == "" {
		return nil
	}
	return []string{sasl.Plain}
}

func (s *mailSession) Auth(string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(_, user, pass string) error {
		if user != s.srv.user || pass != s.srv.pass {
			return errors.New("invalid credentials")
		}
		s.user = user
		return nil
	}), nil
}

func (s *mailSession) Mail(from string, _ *smtp.MailOptions) error {
	if s.srv.user != "" && s.user == "" {
		return smtp.ErrAuthRequired
	}
	s.m.from = from
	return nil
}

func (s *mailSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	s.m.to = append(s.m.to, to)
	return nil
}

func (s *mailSession) Data(r io.Reader) error {
	if s.srv.hanging {
		s.srv.inData <- struct{}{}
		<-s.srv.hang
		return errors.New("closing")
	}
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	if s.srv.reject {
		return &smtp.SMTPError{Code: 554, EnhancedCode: smtp.EnhancedCode{5, 7, 1}, Message: "rejected by policy"}
	}
	s.m.data = string(b)
	s.m.user = s.user
	s.srv.mails <- s.m
	return nil
}

func (s *mailSession) Reset()        { s.m = mail{} }
func (s *mailSession) Logout() error { return nil }
