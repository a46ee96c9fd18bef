package chain

import (
	"crypto/ed25519"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"strconv"
)

// Checkpoint is what a checkpoint record states.
type Checkpoint struct {
	StreamID string
	Kind     string // KindStart, KindPeriodic or KindFinal
	Seq      uint64 // the last record covered (the one before the checkpoint)
	Hash     string // its hash
	// The earlier stream a start checkpoint continues, if any.
	PrevStreamID string
	PrevSeq      uint64
	PrevHash     string
}

// Statement returns the bytes a checkpoint's signature covers (see the
// package documentation).
func (c *Checkpoint) Statement() []byte {
	b := make([]byte, 0, 256)
	b = append(b, "otelkit.audit.checkpoint/v1\n"...)
	for _, s := range [...]string{
		c.StreamID, strconv.FormatUint(c.Seq, 10), c.Hash, c.Kind,
		c.PrevStreamID, strconv.FormatUint(c.PrevSeq, 10), c.PrevHash,
	} {
		b = append(b, s...)
		b = append(b, '\n')
	}
	return b
}

// Signer signs checkpoints with an Ed25519 key. It is safe for concurrent
// use.
type Signer struct {
	key ed25519.PrivateKey
	id  string
}

// NewSigner returns a Signer for key, which must be a valid Ed25519 private
// key.
func NewSigner(key ed25519.PrivateKey) (*Signer, error) {
	if len(key) != ed25519.PrivateKeySize {
		return nil, fmt.Errorf("chain: Ed25519 private key of %d bytes, want %d", len(key), ed25519.PrivateKeySize)
	}
	return &Signer{key: key, id: KeyID(key.Public().(ed25519.PublicKey))}, nil
}

// KeyID returns the id of a public key: the first 16 hex digits of SHA-256
// over its 32 bytes.
func KeyID(pub ed25519.PublicKey) string {
	sum := sha256.Sum256(pub)
	return hex.EncodeToString(sum[:8])
}

// KeyID returns the id of the signer's public key.
func (s *Signer) KeyID() string { return s.id }

// Public returns the signer's public key.
func (s *Signer) Public() ed25519.PublicKey { return s.key.Public().(ed25519.PublicKey) }

// Sign returns the base64 signature of c's statement.
func (s *Signer) Sign(c *Checkpoint) string {
	return base64.StdEncoding.EncodeToString(ed25519.Sign(s.key, c.Statement()))
}

// Verify reports whether sig (base64) is pub's signature of c's statement.
func Verify(pub ed25519.PublicKey, c *Checkpoint, sig string) bool {
	raw, err := base64.StdEncoding.DecodeString(sig)
	if err != nil || len(pub) != ed25519.PublicKeySize {
		return false
	}
	return ed25519.Verify(pub, c.Statement(), raw)
}

// Environment variables read by [SignerFromEnv].
const (
	EnvSigningKey     = "OTELKIT_AUDIT_SIGNING_KEY"      // PEM text of the private key
	EnvSigningKeyFile = "OTELKIT_AUDIT_SIGNING_KEY_FILE" // path of a PEM file
)

// ParseSigner parses a PKCS#8 PEM Ed25519 private key, as written by
// "openssl genpkey -algorithm ed25519".
func ParseSigner(pemData []byte) (*Signer, error) {
	block, _ := pem.Decode(pemData)
	if block == nil {
		return nil, errors.New("chain: no PEM block in the signing key")
	}
	k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("chain: signing key: %w", err)
	}
	ek, ok := k.(ed25519.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("chain: signing key is a %T, not Ed25519", k)
	}
	return NewSigner(ek)
}

// LoadSigner reads a PKCS#8 PEM Ed25519 private key from path.
func LoadSigner(path string) (*Signer, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("chain: %w", err)
	}
	return ParseSigner(b)
}

// SignerFromEnv returns the signer configured by OTELKIT_AUDIT_SIGNING_KEY
// (PEM text) or OTELKIT_AUDIT_SIGNING_KEY_FILE (a path), the first one set,
// or nil and no error when neither is.
func SignerFromEnv() (*Signer, error) {
	if v := os.Getenv(EnvSigningKey); v != "" {
		return ParseSigner([]byte(v))
	}
	if p := os.Getenv(EnvSigningKeyFile); p != "" {
		return LoadSigner(p)
	}
	return nil, nil
}

// ParsePublicKey parses a PKIX PEM Ed25519 public key ("openssl pkey
// -pubout"); a PKCS#8 private key is accepted too, for its public half.
func ParsePublicKey(pemData []byte) (ed25519.PublicKey, error) {
	block, _ := pem.Decode(pemData)
	if block == nil {
		return nil, errors.New("chain: no PEM block in the public key")
	}
	if block.Type == "PRIVATE KEY" {
		s, err := ParseSigner(pemData)
		if err != nil {
			return nil, err
		}
		return s.Public(), nil
	}
	k, err := x509.ParsePKIXPublicKey(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("chain: public key: %w", err)
	}
	ek, ok := k.(ed25519.PublicKey)
	if !ok {
		return nil, fmt.Errorf("chain: public key is a %T, not Ed25519", k)
	}
	return ek, nil
}

// MarshalPrivateKey returns key as PKCS#8 PEM, and MarshalPublicKey its
// public half as PKIX PEM: the formats LoadSigner and ParsePublicKey read.
func MarshalPrivateKey(key ed25519.PrivateKey) ([]byte, error) {
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), nil
}

// MarshalPublicKey returns pub as PKIX PEM.
func MarshalPublicKey(pub ed25519.PublicKey) ([]byte, error) {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}), nil
}
