package record

import (
	"context"
	"sync"

	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
)

// labeler returns the otelhttp Labeler of the request in ctx, or nil
// outside otelhttp. otelhttp.LabelerFromContext allocates a new Labeler
// when the context has none, which would cost every error rendered outside
// otelhttp (or under another instrumentation) an allocation; this looks the
// Labeler up under otelhttp's own context key instead, which costs none.
func labeler(ctx context.Context) *otelhttp.Labeler {
	l, _ := ctx.Value(labelerKey()).(*otelhttp.Labeler)
	return l
}

// labelerKey returns the key otelhttp keeps its Labeler under in a
// context. The key is unexported: it is learnt once by letting
// otelhttp.LabelerFromContext look it up in a context that remembers the
// key it is asked for. (sync.Once's fast path inlines here; a
// sync.OnceValue is a call on every recorded error.)
func labelerKey() any {
	labelerKeyOnce.Do(learnLabelerKey)
	return labelerKeyValue
}

var (
	labelerKeyOnce  sync.Once
	labelerKeyValue any
)

func learnLabelerKey() {
	spy := keySpy{Context: context.Background()}
	otelhttp.LabelerFromContext(&spy)
	labelerKeyValue = spy.key
}

// keySpy is a context that remembers the last key looked up in it.
type keySpy struct {
	context.Context
	key any
}

func (s *keySpy) Value(key any) any {
	s.key = key
	return nil
}
