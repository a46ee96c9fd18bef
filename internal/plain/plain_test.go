package plain

import "testing"

func TestShort(t *testing.T) {
	for s, want := range map[string]bool{
		"": true, "mallory": true, "203.0.113.7": true, "a.b-c_D9": true, "123456789012": true,
		"1234567890123": false, "eyJ": false, "xeyJ": false, "ey": true, "eyj": true, "a b": false,
		"a=b": false, "a\\b": false, "é": false, "a\x00": false, "a:b": false,
	} {
		if got := Short(s); got != want {
			t.Errorf("Short(%q) = %v, want %v", s, got, want)
		}
	}
}

// FuzzShort checks Short against its definition.
func FuzzShort(f *testing.F) {
	for _, s := range []string{"mallory", "203.0.113.7", "eyJhbGc", "e", "ee", "eyJ", "a b"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		want := len(s) < 13
		for i := 0; i < len(s) && want; i++ {
			c := s[i]
			want = c == '_' || c == '-' || c == '.' || ('a' <= c && c <= 'z') || ('A' <= c && c <= 'Z') || ('0' <= c && c <= '9')
			if i+3 <= len(s) && s[i:i+3] == "eyJ" {
				want = false
			}
		}
		if got := Short(s); got != want {
			t.Fatalf("Short(%q) = %v, want %v", s, got, want)
		}
	})
}
