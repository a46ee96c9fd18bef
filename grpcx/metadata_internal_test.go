package grpcx

import (
	"context"
	"strconv"
	"strings"
	"testing"

	"google.golang.org/grpc/metadata"

	"github.com/otelkit/otelkit/internal/rpcstatus"
)

// TestAcceptLanguageLargeMetadata: the server reads accept-language
// without copying the rest of the caller's metadata, and cuts it (issue
// 12: interceptors never allocate unboundedly on large metadata).
func TestAcceptLanguageLargeMetadata(t *testing.T) {
	md := metadata.MD{"accept-language": {"de," + strings.Repeat("en-gb;q=0.1,", 10_000)}}
	for i := range 2_000 {
		md["x-key-"+strconv.Itoa(i)] = []string{strings.Repeat("v", 100)}
	}
	ctx := metadata.NewIncomingContext(context.Background(), md)
	if got := acceptLanguage(ctx); len(got) > rpcstatus.MaxAcceptLanguage+1 || !strings.HasPrefix(got, "de,") {
		t.Errorf("accept-language cut to %d bytes: %.20q", len(got), got)
	}
	if n := testing.AllocsPerRun(20, func() { acceptLanguage(ctx) }); n > 1 {
		t.Errorf("%v allocations for 2,000 metadata keys, want at most 1 (a copy of the value slice)", n)
	}
	if acceptLanguage(context.Background()) != "" {
		t.Error("no metadata: want no language")
	}
}
