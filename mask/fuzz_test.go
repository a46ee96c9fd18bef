package mask_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/otelkit/otelkit/mask"
)

// textSeeds are the shapes Text handles; they run as ordinary tests and
// seed `go test -fuzz`.
var textSeeds = []string{
	"connect: password=hunter2 host=db",
	`{"user":"ada","api_key":"k-1"}`,
	`"{\"password\":\"hunter2\"}"`,
	"Authorization: Digest username=\"a\", response=\"b\"\nnext",
	"Cookie: a=1; session=2",
	"metadata map[authorization:[Bearer x] user-agent:[grpc-go]]",
	"postgres://app:p@ss/w@db:5432/shop",
	"app:pw@tcp(db:3306)/shop",
	"user%5Bpassword%5D=x&y=1",
	"4111 1111 1111 1111",
	"eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.sig",
	"AKIAIOSFODNN7EXAMPLE",
	"-----BEGIN RSA PRIVATE KEY-----\nMIIE\n-----END RSA PRIVATE KEY-----",
	"?sig=abc&token=",
	"password:",
	"\\\\\\\"",
	"[[[{{{",
}

// FuzzText checks that Text never panics, that masking twice changes
// nothing more, and that a secret planted after a sensitive key never
// survives, whatever text comes before it.
func FuzzText(f *testing.F) {
	for _, s := range textSeeds {
		f.Add(s, "hunter2")
	}
	p := mask.Default()
	f.Fuzz(func(t *testing.T, prefix, secret string) {
		once := p.Text(prefix)
		if twice := p.Text(once); twice != once {
			t.Fatalf("Text is not idempotent on %q:\n once %q\ntwice %q", prefix, once, twice)
		}
		secret = alnum(secret)
		if len(secret) < 4 || strings.Contains(prefix, secret) {
			return
		}
		in := prefix + " password=" + secret + " tail"
		if out := p.Text(in); strings.Contains(out, secret) {
			t.Fatalf("secret %q survives in %q -> %q", secret, in, out)
		}
	})
}

func alnum(s string) string {
	var b strings.Builder
	for i := 0; i < len(s) && b.Len() < 24; i++ {
		if c := s[i]; ('a' <= c && c <= 'z') || ('0' <= c && c <= '9') {
			b.WriteByte(c)
		}
	}
	return b.String()
}

// FuzzValue checks that Value's result always encodes as JSON and holds no
// sensitive key with a value other than Mask.
func FuzzValue(f *testing.F) {
	for _, s := range []string{
		`{"password":"x","n":[1,{"token":"t"}]}`,
		`[{"Authorization":"Bearer x"},null,true,1.5]`,
		`{"a":{"b":{"c":{"secret":{"d":1}}}}}`,
		`"plain"`,
	} {
		f.Add(s)
	}
	p := mask.Default()
	f.Fuzz(func(t *testing.T, doc string) {
		var v any
		if json.Unmarshal([]byte(doc), &v) != nil {
			return
		}
		m, _ := p.Value(v)
		b, err := json.Marshal(m)
		if err != nil {
			t.Fatalf("masked value does not encode: %v", err)
		}
		var back any
		if err := json.Unmarshal(b, &back); err != nil {
			t.Fatal(err)
		}
		checkMasked(t, p, back)
	})
}

func checkMasked(t *testing.T, p *mask.Policy, v any) {
	switch v := v.(type) {
	case map[string]any:
		for k, inner := range v {
			if p.Sensitive(k) && inner != mask.Mask {
				t.Fatalf("key %q keeps %v", k, inner)
			}
			checkMasked(t, p, inner)
		}
	case []any:
		for _, inner := range v {
			checkMasked(t, p, inner)
		}
	}
}

// FuzzSensitive checks Sensitive against its definition: the key, lower-
// cased with '-' written as '_', contains one of the words. Words of one
// byte and of many are both in the policy, so that each lookup path runs.
func FuzzSensitive(f *testing.F) {
	for _, s := range []string{"", "p", "X-Api-Key", "retry_after", "user.Password", "remote-ADDR", "sessid", "q", "xq", "toke", "tokenX", "\xffpwd", "a_b-c"} {
		f.Add(s)
	}
	words := append(mask.DefaultKeys(), "q", "Z-z")
	p := mask.New(words...)
	// The same words, the last two added by With: its index is rebuilt.
	q := mask.New(mask.DefaultKeys()...).With(mask.WithKeys("q", "Z-z"))
	f.Fuzz(func(t *testing.T, key string) {
		folded := strings.ReplaceAll(asciiLower(key), "-", "_")
		want := false
		for _, w := range words {
			if strings.Contains(folded, strings.ReplaceAll(strings.ToLower(w), "-", "_")) {
				want = true
			}
		}
		if got := p.Sensitive(key); got != want {
			t.Fatalf("Sensitive(%q) = %v, want %v", key, got, want)
		}
		if got := q.Sensitive(key); got != want {
			t.Fatalf("With: Sensitive(%q) = %v, want %v", key, got, want)
		}
	})
}

func asciiLower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}
