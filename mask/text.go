package mask

import "strings"

// Text masks the values that follow sensitive keys in free text, such as
// "password=hunter2", "token: abc", `"api_key":"abc"` or
// "Authorization: Bearer abc". otelkit applies it to the error text it
// writes into exception records and span events, where a cause may have
// quoted a secret. Text without such keys is returned as it is, without
// allocating.
func (p *Policy) Text(s string) string {
	if p == nil || s == "" {
		return s
	}
	s = maskUserinfo(s)
	var b strings.Builder
	last := 0
	i := 0
	for i < len(s) {
		if !isKeyByte(s[i]) {
			i++
			continue
		}
		j := i
		for j < len(s) && isKeyByte(s[j]) {
			j++
		}
		key := s[i:j]
		k := j
		if k < len(s) && (s[k] == '"' || s[k] == '\'') {
			k++
		}
		for k < len(s) && s[k] == ' ' {
			k++
		}
		if k >= len(s) || (s[k] != '=' && s[k] != ':') || !p.Sensitive(key) {
			i = j
			continue
		}
		k++
		for k < len(s) && s[k] == ' ' {
			k++
		}
		start, end := valueSpan(s, k)
		if end > start && s[start:end] != Mask {
			b.WriteString(s[last:start])
			b.WriteString(Mask)
			last = end
		}
		if end <= j {
			end = j
		}
		i = end
	}
	if last == 0 {
		return s
	}
	b.WriteString(s[last:])
	return b.String()
}

// valueSpan returns the bounds of the value that starts at k: a quoted
// string, or a run up to a separator; an HTTP auth scheme ("Bearer x")
// includes its credentials.
func valueSpan(s string, k int) (start, end int) {
	if k < len(s) && (s[k] == '"' || s[k] == '\'') {
		q := s[k]
		start = k + 1
		end = start
		for end < len(s) && s[end] != q {
			if s[end] == '\\' && end+1 < len(s) {
				end++
			}
			end++
		}
		return start, end
	}
	start = k
	end = scanValue(s, k)
	word := s[start:end]
	if (strings.EqualFold(word, "bearer") || strings.EqualFold(word, "basic")) && end < len(s) && s[end] == ' ' {
		end = scanValue(s, end+1)
	}
	return start, end
}

func scanValue(s string, k int) int {
	for k < len(s) {
		switch s[k] {
		case ' ', '\t', '\r', '\n', ',', ';', '&', '}', ')', ']', '"', '\'':
			return k
		}
		k++
	}
	return k
}

func isKeyByte(c byte) bool {
	return c == '_' || c == '-' || c == '.' ||
		('a' <= c && c <= 'z') || ('A' <= c && c <= 'Z') || ('0' <= c && c <= '9')
}

// maskUserinfo masks the password of URLs in s ("postgres://app:hunter2@db"
// becomes "postgres://app:**************@db"). Text without "://" is
// returned as it is, without allocating.
func maskUserinfo(s string) string {
	if !strings.Contains(s, "://") {
		return s
	}
	var b strings.Builder
	last := 0
	for i := 0; i+3 <= len(s); {
		k := strings.Index(s[i:], "://")
		if k < 0 {
			break
		}
		start := i + k + 3
		end := start
		for end < len(s) && s[end] != '/' && s[end] != '@' && s[end] != ' ' && s[end] != '"' && s[end] != '\n' {
			end++
		}
		if end < len(s) && s[end] == '@' {
			if c := strings.IndexByte(s[start:end], ':'); c >= 0 && start+c+1 < end && s[start+c+1:end] != Mask {
				b.WriteString(s[last : start+c+1])
				b.WriteString(Mask)
				last = end
			}
		}
		i = end
		if i == start {
			i++
		}
	}
	if last == 0 {
		return s
	}
	b.WriteString(s[last:])
	return b.String()
}
