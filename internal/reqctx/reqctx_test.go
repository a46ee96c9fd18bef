package reqctx_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"go.opentelemetry.io/otel/attribute"

	"github.com/otelkit/otelkit/internal/reqctx"
)

type source struct{ calls *int }

func (s source) RequestInfo() reqctx.Info {
	*s.calls++
	return reqctx.Info{Route: "/r", Method: "GET", ClientAddress: "127.0.0.1", UserID: "u"}
}

func TestFromContext(t *testing.T) {
	_, ok := reqctx.FromContext(context.Background())
	assert.False(t, ok)
	var nilCtx context.Context
	_, ok = reqctx.FromContext(nilCtx)
	assert.False(t, ok)

	calls := 0
	ctx := reqctx.WithSource(context.Background(), source{&calls})
	assert.Zero(t, calls, "the source is asked lazily")
	type otherKey struct{}
	info, ok := reqctx.FromContext(context.WithValue(ctx, otherKey{}, 1))
	assert.True(t, ok)
	assert.Equal(t, reqctx.Info{Route: "/r", Method: "GET", ClientAddress: "127.0.0.1", UserID: "u"}, info)
	assert.Equal(t, 1, calls)
}

func TestExtras(t *testing.T) {
	ctx := context.Background()
	assert.Nil(t, reqctx.Extras(ctx))
	assert.Equal(t, ctx, reqctx.WithExtras(ctx))

	tests := []struct {
		name  string
		steps [][]attribute.KeyValue
		want  []attribute.KeyValue
	}{
		{"one", [][]attribute.KeyValue{{attribute.String("a", "1")}},
			[]attribute.KeyValue{attribute.String("a", "1")}},
		{"merge in order", [][]attribute.KeyValue{{attribute.String("a", "1")}, {attribute.Int("b", 2)}},
			[]attribute.KeyValue{attribute.String("a", "1"), attribute.Int("b", 2)}},
		{"replace keeps position", [][]attribute.KeyValue{{attribute.String("a", "1"), attribute.Int("b", 2)}, {attribute.String("a", "x")}},
			[]attribute.KeyValue{attribute.String("a", "x"), attribute.Int("b", 2)}},
		{"duplicate in one call", [][]attribute.KeyValue{{attribute.String("a", "1"), attribute.String("a", "2")}},
			[]attribute.KeyValue{attribute.String("a", "2")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := ctx
			var parents []context.Context
			for _, s := range tt.steps {
				parents = append(parents, c)
				c = reqctx.WithExtras(c, s...)
			}
			assert.Equal(t, tt.want, reqctx.Extras(c))
			if len(parents) > 1 {
				assert.Equal(t, tt.steps[0], reqctx.Extras(parents[1]), "a parent context is not changed")
			}
		})
	}
}
