package connectx_test

import (
	"context"
	"strings"
	"testing"

	"connectrpc.com/connect"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"

	"github.com/otelkit/otelkit/connectx"
)

// TestStackFrames: WithStackFrames bounds or removes the stack trace of
// the server's exception records, span event and log record alike (issue
// 17 item 4; grpcx's TestStackFrames over Connect).
func TestStackFrames(t *testing.T) {
	for _, tt := range []struct {
		name   string
		opts   []connectx.Option
		frames int // -1: more than 1, not elided; 0: no stack trace
	}{
		{"default: every frame", nil, -1},
		{"at most one frame", []connectx.Option{connectx.WithStackFrames(1)}, 1},
		{"off", []connectx.Option{connectx.WithStackFrames(0)}, 0},
	} {
		t.Run(tt.name, func(t *testing.T) {
			e := start(t, tt.opts...)
			client := e.client(t, connect.WithGRPC(), reg)
			for _, call := range []string{"unregistered", "panic"} {
				ctx := traced(context.Background())
				_ = check(t, client, ctx, call)
				var stacks []string // the span event's, then the log record's
				var has []bool
				var found bool
				for _, ev := range spanOf(t, e.spans, true, ctx).Events() {
					if ev.Name != connectx.EventServerException {
						continue
					}
					found = true
					s, ok := "", false
					if v, in := attr(ev.Attributes, "exception.stacktrace"); in {
						s, ok = v.AsString(), true
					}
					stacks, has = append(stacks, s), append(has, ok)
				}
				for _, r := range e.logs.of(trace.SpanContextFromContext(ctx).TraceID()) {
					s, ok := "", false
					r.WalkAttributes(func(kv attribute.KeyValue) bool {
						if string(kv.Key) == "exception.stacktrace" {
							s, ok = kv.Value.AsString(), true
						}
						return true
					})
					stacks, has = append(stacks, s), append(has, ok)
				}
				if !found || len(stacks) != 2 {
					t.Fatalf("%s: want one exception event and one log record, got %d records (event %v)", call, len(stacks), found)
				}
				for i, stack := range stacks {
					where := [...]string{"span event", "log record"}[i]
					n, elided := 0, strings.HasSuffix(stack, "...additional frames elided...\n")
					for _, l := range strings.Split(stack, "\n") {
						if l != "" && !strings.HasPrefix(l, "\t") && !strings.HasPrefix(l, "...") {
							n++
						}
					}
					switch tt.frames {
					case -1:
						if !has[i] || n < 2 || elided {
							t.Errorf("%s %s: want the whole stack, got %d frames (elided %v):\n%s", call, where, n, elided, stack)
						}
					case 0:
						if has[i] {
							t.Errorf("%s %s: want no stack trace, got:\n%s", call, where, stack)
						}
					default:
						if n != tt.frames || !elided {
							t.Errorf("%s %s: want %d frames and the elided line, got %d:\n%s", call, where, tt.frames, n, stack)
						}
					}
				}
			}
		})
	}
}
