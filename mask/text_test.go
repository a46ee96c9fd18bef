package mask_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/otelkit/otelkit/mask"
)

func TestPolicyText(t *testing.T) {
	p := mask.New(mask.DefaultKeys()...)
	tests := []struct{ in, want string }{
		{"connect: password=hunter2 host=db", "connect: password=" + mask.Mask + " host=db"},
		{`{"user":"ada","api_key":"k-1"}`, `{"user":"ada","api_key":"` + mask.Mask + `"}`},
		{"Authorization: Bearer abc.def", "Authorization: " + mask.Mask},
		{"refresh_token: xyz, next", "refresh_token: " + mask.Mask + ", next"},
		{"Cookie: session=1", "Cookie: " + mask.Mask},
		{"no secrets here: user=ada", "no secrets here: user=ada"},
		{"dial postgres://app:hunter2@db:5432/shop: refused", "dial postgres://app:" + mask.Mask + "@db:5432/shop: refused"},
		{"see https://example.com/a:b@c and http://u@host", "see https://example.com/a:b@c and http://u@host"},
		{"X-Api-Key: k-1", "X-Api-Key: " + mask.Mask},
		{"password", "password"},
		{"", ""},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			assert.Equal(t, tt.want, p.Text(tt.in))
		})
	}
	var nilPolicy *mask.Policy
	assert.Equal(t, "password=x", nilPolicy.Text("password=x"))
}

func TestPolicyTextDoesNotAllocateWithoutSecrets(t *testing.T) {
	p := mask.Default()
	s := "select user 0: sql: no rows in result set"
	allocs := testing.AllocsPerRun(100, func() { _ = p.Text(s) })
	assert.Zero(t, allocs)
}

// Issue 18 item 11: the free-text evasions found by the attack run, in the
// key=value and key: value shapes Text documents.
func TestTextEvasionsItem11(t *testing.T) {
	p := mask.Default()
	const M = mask.Mask
	tests := []struct{ name, in, want string }{
		{"tab after colon", "password:\thunter2 next", "password:\t" + M + " next"},
		{"newline after colon", "password:\nhunter2\nnext", "password:\n" + M + "\nnext"},
		{"%q-escaped JSON", `"{\"password\":\"hunter2\",\"user\":\"ada\"}"`, `"{\"password\":\"` + M + `\",\"user\":\"ada\"}"`},
		{"double-escaped JSON", `{\\\"token\\\":\\\"t-1\\\"}`, `{\\\"token\\\":\\\"` + M + `\\\"}`},
		{"JSON array value", `{"passwords":["a1","b2"],"n":1}`, `{"passwords":` + M + `,"n":1}`},
		{"JSON object value", `{"secret":{"k":"v","w":[1]},"n":1}`, `{"secret":` + M + `,"n":1}`},
		{"second cookie", "Cookie: theme=dark; sid=abc123\nHost: x", "Cookie: " + M + "\nHost: x"},
		{"Token scheme", "Authorization: Token abc123", "Authorization: " + M},
		{"Digest scheme", `Authorization: Digest username="ada", response="6629fae4"`, "Authorization: " + M},
		{"AWS4 scheme", "Authorization: AWS4-HMAC-SHA256 Credential=AKID/20261129/us-east-1/s3/aws4_request, Signature=fe5f80f7", "Authorization: " + M},
		{"gRPC metadata", "rpc error: metadata map[authorization:[Bearer x.y.z] user-agent:[grpc-go]]", "rpc error: metadata map[authorization:" + M + " user-agent:[grpc-go]]"},
		{"URL password with @", "dial postgres://app:p@ss@db:5432/shop: refused", "dial postgres://app:" + M + "@db:5432/shop: refused"},
		{"URL password with /", "dial postgres://app:pa/ss@db:5432/shop", "dial postgres://app:" + M + "@db:5432/shop"},
		{"MySQL DSN", "open app:hunter2@tcp(db:3306)/shop?parseTime=true: denied", "open app:" + M + "@tcp(db:3306)/shop?parseTime=true: denied"},
		{"MySQL DSN with @", "dsn=app:p@ss@unix(/tmp/my.sock)/shop", "dsn=app:" + M + "@unix(/tmp/my.sock)/shop"},
		{"form body", "user=ada&password=hunter2&remember=1", "user=ada&password=" + M + "&remember=1"},
		{"form field name", "user%5Bpassword%5D=hunter2&x=1", "user%5Bpassword%5D=" + M + "&x=1"},
		{"bracketed field", "user[password]=hunter2&x=1", "user[password]=" + M + "&x=1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, p.Text(tt.in))
			assert.Equal(t, tt.want, p.Text(tt.want), "masking twice changes nothing")
		})
	}
}

// Issue 14 (masking at Sentry's level): value patterns in free text.
func TestTextPatterns(t *testing.T) {
	p := mask.Default()
	const M = mask.Mask
	jwt := "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
	tests := []struct{ name, in, want string }{
		{"card", "charge 4111 1111 1111 1111 failed", "charge " + M + " failed"},
		{"card with dashes", "card=x 5500-0000-0000-0004.", "card=x " + M + "."},
		{"card plain", "pan 378282246310005 rejected", "pan " + M + " rejected"},
		{"not Luhn", "order 4111111111111112 failed", "order 4111111111111112 failed"},
		{"timestamp", "at 1732838400000 ms", "at 1732838400000 ms"},
		{"card then count", "4111 1111 1111 1111 2 items", M + " 2 items"},
		{"bearer anywhere", "sent Bearer abc.DEF-123 upstream", "sent Bearer " + M + " upstream"},
		{"jwt", "bad session " + jwt + " expired", "bad session " + M + " expired"},
		{"query secret", "GET https://x.example/cb?code=1&access_token=abc&state=2", "GET https://x.example/cb?code=1&access_token=" + M + "&state=2"},
		{"sig query", "GET https://acct.blob.core.windows.net/c/b?sv=2020&sig=AbC%2Bdef", "GET https://acct.blob.core.windows.net/c/b?sv=2020&sig=" + M},
		{"presigned", "GET https://b.s3.amazonaws.com/k?X-Amz-Credential=AKID%2F1&X-Amz-Signature=fe5f80f7&x=1", "GET https://b.s3.amazonaws.com/k?X-Amz-Credential=" + M + "&X-Amz-Signature=" + M + "&x=1"},
		{"userinfo", "redis://:hunter2@cache:6379", "redis://:" + M + "@cache:6379"},
		{"aws", "key AKIAIOSFODNN7EXAMPLE denied", "key " + M + " denied"},
		{"github", "ghp_" + strings.Repeat("a", 36) + " revoked", M + " revoked"},
		{"slack", "slack xoxb-123456789012-abcdefghij failed", "slack " + M + " failed"},
		{"google", "AIza" + strings.Repeat("B", 35), M},
		{"stripe", "sk_live_" + strings.Repeat("c", 24), M},
		{"gitlab", "glpat-" + strings.Repeat("d", 20), M},
		{"pem", "key: -----BEGIN RSA PRIVATE KEY-----\nMIIE\n-----END RSA PRIVATE KEY----- end", "key: " + M + " end"},
		{"aws-like but short", "AKIA123", "AKIA123"},
		{"ordinary", "user 42 not found in region us-east-1", "user 42 not found in region us-east-1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, p.Text(tt.in))
		})
	}
	none := p.With(mask.WithPatterns(0))
	assert.Equal(t, "charge 4111 1111 1111 1111", none.Text("charge 4111 1111 1111 1111"))
	assert.Equal(t, "password="+M, none.Text("password=x"), "keys apply whatever the patterns")
	noCards := p.With(mask.WithPatterns(mask.AllPatterns &^ mask.CardNumbers))
	assert.Equal(t, "4111 1111 1111 1111", noCards.Text("4111 1111 1111 1111"))
	assert.Equal(t, "x "+M, noCards.Text("x AKIAIOSFODNN7EXAMPLE"))
}

// Issue 14: the default keys cover Sentry's default scrub list, on every
// sink; the keys the audit-trail issue names reach no client.
func TestDefaultKeysCoverSentry(t *testing.T) {
	p := mask.Default()
	// sentry-python sentry_sdk/scrubber.py DEFAULT_DENYLIST.
	for _, k := range []string{"password", "passwd", "secret", "api_key", "apikey", "auth", "credentials",
		"mysql_pwd", "privatekey", "private_key", "token", "ip_address", "session", "csrftoken", "sessionid",
		"remote_addr", "x_csrftoken", "x_forwarded_for", "set_cookie", "cookie", "authorization", "x_api_key",
		"x_real_ip", "aiohttp_session", "connect.sid", "csrf_token", "csrf", "_csrf", "_csrf_token",
		"PHPSESSID", "_session", "symfony", "user_session", "_xsrf", "XSRF-TOKEN",
		"pwd", "session_id", "X-Api-Key", "Set-Cookie"} {
		assert.True(t, p.Sensitive(k), k)
	}
	for _, k := range []string{"user", "client.address", "http.route", "count", "id", "name", "email"} {
		assert.False(t, p.Sensitive(k), k)
	}
}
