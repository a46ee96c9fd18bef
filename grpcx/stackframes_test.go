package grpcx_test

import (
	"context"
	"strings"
	"testing"

	"github.com/otelkit/otelkit/grpcx"
)

// TestStackFrames: WithStackFrames bounds or removes the stack trace of
// the server's exception records (issue 17 item 4).
func TestStackFrames(t *testing.T) {
	for _, tt := range []struct {
		name   string
		opts   []grpcx.Option
		frames int // -1: more than 1, not elided; 0: no stack trace
	}{
		{"default: every frame", nil, -1},
		{"at most one frame", []grpcx.Option{grpcx.WithStackFrames(1)}, 1},
		{"off", []grpcx.Option{grpcx.WithStackFrames(0)}, 0},
	} {
		t.Run(tt.name, func(t *testing.T) {
			e := start(t, tt.opts...)
			for _, call := range []string{"unregistered", "panic"} {
				ctx := traced(context.Background())
				_ = check(t, e.client, ctx, call)
				ss := spanOf(t, e.spans, true, ctx)
				var stack string
				var has bool
				for _, ev := range ss.Events() {
					if ev.Name != grpcx.EventServerException {
						continue
					}
					for _, kv := range ev.Attributes {
						if kv.Key == "exception.stacktrace" {
							stack, has = kv.Value.AsString(), true
						}
					}
				}
				n, elided := 0, strings.HasSuffix(stack, "...additional frames elided...\n")
				for _, l := range strings.Split(stack, "\n") {
					if l != "" && !strings.HasPrefix(l, "\t") && !strings.HasPrefix(l, "...") {
						n++
					}
				}
				switch tt.frames {
				case -1:
					if !has || n < 2 || elided {
						t.Errorf("%s: want the whole stack, got %d frames (elided %v):\n%s", call, n, elided, stack)
					}
				case 0:
					if has {
						t.Errorf("%s: want no stack trace, got:\n%s", call, stack)
					}
				default:
					if n != tt.frames || !elided {
						t.Errorf("%s: want %d frames and the elided line, got %d:\n%s", call, tt.frames, n, stack)
					}
				}
			}
		})
	}
}
