package delivery

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/log"
)

// A record with invalid UTF-8 would make the OTLP exporter fail its whole
// batch forever; it is repaired and delivered instead.
func TestInvalidUTF8IsDelivered(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name string
		opts []Option
	}{
		{"with spool", []Option{WithSpoolDir(t.TempDir())}},
		{"memory only", nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			rcv := newReceiver(t)
			sink := &errSink{}
			p, err := NewProcessor(newExporter(t, rcv.addr), append(tt.opts, WithErrorHandler(sink.handle))...)
			require.NoError(t, err)
			l, lp := auditLogger(p)
			var r log.Record
			r.SetBody(attribute.StringValue("bad \xff body"))
			r.AddAttributes(attribute.String("otelkit.audit.record_id", "u-0"),
				attribute.StringSlice("list", []string{"ok", "x\xfe"}),
				attribute.Map("m", attribute.String("k\xff", "v")))
			l.Emit(context.Background(), r)
			emitAudit(l, "u-1")
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			require.NoError(t, lp.Shutdown(ctx))
			assert.Equal(t, counts{emitted: 2, delivered: 2}, rcv.counts([]string{"u-0", "u-1"}))
			assert.Equal(t, "bad \uFFFD body", rcv.bodies["u-0"])
			assert.True(t, sink.contains("invalid UTF-8"))
		})
	}
}
