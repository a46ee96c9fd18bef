package main

import (
	"bytes"
	"regexp"
	"strings"
	"testing"
)

// TestDemo runs -demo: every error answers the same code, message and
// ErrorInfo over Connect, gRPC and gRPC-Web, the client resolves it back,
// and no cause leaks.
func TestDemo(t *testing.T) {
	var out bytes.Buffer
	if err := run("", true, &out); err != nil {
		t.Fatal(err)
	}
	s := out.String()
	want := map[string]string{
		`GetUser("0")`:   `NOT_FOUND "User not found" users.not-found`,
		`GetUser("abc")`: `INVALID_ARGUMENT "The user id must be a number" users.bad-id`,
		`CreateUser(`:    `INVALID_ARGUMENT "The user is not valid" users.invalid`,
		`GetOrder("7")`:  `UNAVAILABLE "The storage is unavailable, try again later" storage.unavailable`,
		`Panic`:          `INTERNAL "Internal server error" internal`,
		`Abort`:          `RESOURCE_EXHAUSTED "Rate limited due to too many false auth attempts from this ip" auth.rate-limited`,
	}
	line := regexp.MustCompile(`(?m)^  (connect|grpc|grpcweb) +([A-Z_]+ "[^"]*")\n           ErrorInfo reason=(\S+) domain=quickstart`)
	blocks := strings.Split(s, "▶ ")[1:]
	if len(blocks) != len(want) {
		t.Fatalf("%d calls, want %d:\n%s", len(blocks), len(want), s)
	}
	for _, b := range blocks {
		var exp string
		for prefix, w := range want {
			if strings.HasPrefix(b, prefix) {
				exp = w
			}
		}
		ms := line.FindAllStringSubmatch(b, -1)
		if len(ms) != 3 {
			t.Errorf("%d protocols answered, want 3:\n%s", len(ms), b)
		}
		for _, m := range ms {
			if got := m[2] + " " + m[3]; got != exp {
				t.Errorf("%s: %s, want %s", m[1], got, exp)
			}
		}
		if n := strings.Count(b, "the client resolves it to "+strings.Fields(exp)[len(strings.Fields(exp))-1]+" "); n != 3 {
			t.Errorf("the client resolved %d of 3 answers:\n%s", n, b)
		}
		for _, leak := range []string{"dial tcp", "load order", "nil map", "goroutine", ".go:", "*errors"} {
			if strings.Contains(b, leak) {
				t.Errorf("leak %q:\n%s", leak, b)
			}
		}
	}
	if !strings.Contains(s, "BadRequest field=email reason=users.email-invalid") {
		t.Errorf("no BadRequest violation:\n%s", s)
	}
}
