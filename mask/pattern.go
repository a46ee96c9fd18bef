package mask

import "strings"

// Pattern is a set of value patterns: secrets that [Policy.Text] recognises
// by their form, wherever they appear and whatever key (if any) precedes
// them.
type Pattern uint32

// The value patterns. [AllPatterns] is the default of every policy.
const (
	// CardNumbers are payment card numbers: 13 to 19 digits, possibly in
	// groups separated by single spaces or dashes, starting with 2 to 6
	// (the major issuers' ranges) and passing the Luhn check (ISO/IEC
	// 7812-1), so that timestamps and ids rarely match.
	CardNumbers Pattern = 1 << iota
	// BearerTokens are the credentials after an HTTP auth scheme word
	// ("Bearer abc", "Basic dXNlcjpwYXNz"), with or without a header name.
	BearerTokens
	// JWTs are JSON Web Tokens: "eyJ…" followed by two dot-separated
	// base64url segments (RFC 7519's compact form).
	JWTs
	// URLSecrets are URL passwords ("https://user:pw@host", the password
	// running to the URL's last '@'), Go MySQL DSN passwords
	// ("user:pw@tcp(host)/db") and signature query parameters ("&sig=",
	// "&X-Amz-Signature=");
	// query parameters named by a sensitive key ("?access_token=") are
	// masked by key whatever the patterns.
	URLSecrets
	// CloudKeys are well-known credential formats, as secret scanners such
	// as gitleaks (config/gitleaks.toml) define them: AWS access key ids
	// (AKIA…, ASIA…), GitHub tokens (ghp_, gho_, ghu_, ghs_, ghr_,
	// github_pat_), GitLab tokens (glpat-), Slack tokens (xoxb-, xoxp-,
	// xapp-…), Google API keys (AIza…), Stripe secret keys (sk_live_…),
	// npm tokens (npm_), OpenAI and Anthropic keys (sk-proj-, sk-ant-) and
	// PEM private key blocks.
	CloudKeys

	// AllPatterns is every value pattern.
	AllPatterns = CardNumbers | BearerTokens | JWTs | URLSecrets | CloudKeys
)

// pattern returns the span to mask when a value pattern starts at the word
// s[i:j] (a run of key bytes), or end <= start.
func (p *Policy) pattern(s string, i, j int) (start, end int) {
	word := s[i:j]
	ps := p.patterns
	if ps&CardNumbers != 0 && word[0] >= '2' && word[0] <= '6' {
		if e := cardEnd(s, i); e > i {
			return i, e
		}
	}
	// The cheap tests first: a scheme is followed by a space and a token.
	if ps&BearerTokens != 0 && j+1 < len(s) && s[j] == ' ' && isTokenByte(s[j+1]) && isAuthScheme(word) {
		// The token and its padding; an '=' followed by more token bytes
		// ("token password=hunter2") is not padding, and what follows it
		// is masked too rather than left as the value of a key the token
		// swallowed.
		e := j + 1
		for e < len(s) && (isTokenByte(s[e]) || s[e] == '=') {
			e++
		}
		return j + 1, e
	}
	if ps&JWTs != 0 && isJWT(word) {
		return i, j
	}
	if ps&CloudKeys != 0 {
		if strings.HasPrefix(word, "-----BEGIN") {
			if e := privateKeyEnd(s, i); e > i {
				return i, e
			}
		}
		// A key may follow a prefix inside the word ("key.AKIA…").
		for k := i; k < j; k++ {
			if !cloudKeyFirst[s[k]] || (k > i && s[k-1] != '.' && s[k-1] != '-' && s[k-1] != '_') {
				continue
			}
			if n := cloudKey(s[k:j]); n > 0 {
				return k, k + n
			}
		}
	}
	return 0, 0
}

// cardEnd returns the end of a card number that starts at i, or i.
func cardEnd(s string, i int) int {
	var digits [19]byte
	var ends [19]int // ends[n-1]: the end of the text holding n digits, at a group boundary
	n := 0
	k := i
	for k < len(s) && n < 19 {
		c := s[k]
		if c >= '0' && c <= '9' {
			digits[n] = c - '0'
			n++
			k++
			ends[n-1] = k
			continue
		}
		if (c == ' ' || c == '-') && k+1 < len(s) && s[k+1] >= '0' && s[k+1] <= '9' && k > i {
			k++
			continue
		}
		break
	}
	// The number must not continue with a letter or digit.
	for m := n; m >= 13; m-- {
		e := ends[m-1]
		if e < len(s) && (isAlnum(s[e]) || (m < n && s[e] != ' ' && s[e] != '-')) {
			continue
		}
		if luhn(digits[:m]) {
			return e
		}
	}
	return i
}

func isAlnum(c byte) bool {
	return ('a' <= c && c <= 'z') || ('A' <= c && c <= 'Z') || ('0' <= c && c <= '9')
}

// luhn reports whether digits pass the Luhn check.
func luhn(digits []byte) bool {
	sum := 0
	double := false
	for k := len(digits) - 1; k >= 0; k-- {
		d := int(digits[k])
		if double {
			if d *= 2; d > 9 {
				d -= 9
			}
		}
		sum += d
		double = !double
	}
	return sum%10 == 0
}

// isTokenByte reports whether c may appear in an RFC 7235 token68.
func isTokenByte(c byte) bool {
	return isAlnum(c) || c == '-' || c == '.' || c == '_' || c == '~' || c == '+' || c == '/'
}

// isJWT reports whether w has the compact form of a JSON Web Token: three
// base64url segments (the last may be empty when unsigned), the first
// starting with `eyJ` (a JSON object's `{"`).
func isJWT(w string) bool {
	if len(w) < 10 || !strings.HasPrefix(w, "eyJ") {
		return false
	}
	a := strings.IndexByte(w, '.')
	if a < 0 {
		return false
	}
	b := strings.IndexByte(w[a+1:], '.')
	return b > 0
}

// cloudKeyFirst[c] reports whether some prefix of cloudKeys starts with c
// (TestCloudKeyFirst keeps it in step).
var cloudKeyFirst = [256]bool{'A': true, 'g': true, 'x': true, 's': true, 'r': true, 'n': true}

// cloudKeys are the prefixes of well-known credentials, the characters
// that follow and how many at least.
var cloudKeys = [...]struct {
	prefix string
	set    byte // 'U': upper-case letters and digits; 'A': letters and digits; 'W': also '_' and '-'
	min    int
	exact  bool
}{
	{"AKIA", 'U', 16, true}, {"ASIA", 'U', 16, true}, {"ABIA", 'U', 16, true}, {"ACCA", 'U', 16, true},
	{"AGPA", 'U', 16, true}, {"AIDA", 'U', 16, true}, {"AIPA", 'U', 16, true}, {"ANPA", 'U', 16, true},
	{"ANVA", 'U', 16, true}, {"AROA", 'U', 16, true}, {"APKA", 'U', 16, true},
	{"ghp_", 'A', 36, false}, {"gho_", 'A', 36, false}, {"ghu_", 'A', 36, false},
	{"ghs_", 'A', 36, false}, {"ghr_", 'A', 36, false}, {"github_pat_", 'W', 22, false},
	{"glpat-", 'W', 20, false},
	{"xoxb-", 'W', 10, false}, {"xoxp-", 'W', 10, false}, {"xoxa-", 'W', 10, false},
	{"xoxr-", 'W', 10, false}, {"xoxs-", 'W', 10, false}, {"xoxe-", 'W', 10, false},
	{"xapp-", 'W', 10, false},
	{"AIza", 'W', 35, false},
	{"sk_live_", 'A', 16, false}, {"rk_live_", 'A', 16, false}, {"sk_test_", 'A', 16, false},
	{"npm_", 'A', 36, false},
	{"sk-proj-", 'W', 20, false}, {"sk-ant-", 'W', 20, false},
}

// cloudKey returns the length of the well-known credential that w starts
// with, or 0.
func cloudKey(w string) int {
	for _, ck := range cloudKeys {
		if len(w) < len(ck.prefix)+ck.min || w[0] != ck.prefix[0] || !strings.HasPrefix(w, ck.prefix) {
			continue
		}
		n := len(ck.prefix)
		for n < len(w) && inSet(w[n], ck.set) {
			n++
		}
		body := n - len(ck.prefix)
		if body < ck.min || (ck.exact && body != ck.min) {
			continue
		}
		return n
	}
	return 0
}

func inSet(c byte, set byte) bool {
	switch set {
	case 'U':
		return ('A' <= c && c <= 'Z') || ('0' <= c && c <= '9')
	case 'A':
		return isAlnum(c)
	}
	return isAlnum(c) || c == '_' || c == '-'
}

// privateKeyEnd returns the end of a PEM private key block that starts at
// i ("-----BEGIN RSA PRIVATE KEY-----" … "-----END RSA PRIVATE KEY-----"),
// or i; a block without its end line runs to the end of s.
func privateKeyEnd(s string, i int) int {
	line := s[i:lineEnd(s, i)]
	h := strings.Index(line, "PRIVATE KEY")
	if h < 0 || !strings.HasPrefix(line, "-----BEGIN ") {
		return i
	}
	rest := i + h
	if e := strings.Index(s[rest:], "-----END"); e >= 0 {
		end := rest + e + len("-----END")
		if f := strings.Index(s[end:], "-----"); f >= 0 {
			return end + f + len("-----")
		}
		return len(s)
	}
	return len(s)
}
