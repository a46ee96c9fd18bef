package delivery

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/log"
	sdklog "go.opentelemetry.io/otel/sdk/log"
	"go.opentelemetry.io/otel/sdk/resource"
	"go.opentelemetry.io/otel/trace"
	"google.golang.org/protobuf/proto"
)

type captured struct{ recs []sdklog.Record }

func (c *captured) OnEmit(_ context.Context, r *sdklog.Record) error {
	c.recs = append(c.recs, r.Clone())
	return nil
}
func (*captured) Enabled(context.Context, sdklog.EnabledParameters) bool { return true }
func (*captured) Shutdown(context.Context) error                         { return nil }
func (*captured) ForceFlush(context.Context) error                       { return nil }

func TestCodecRoundTrip(t *testing.T) {
	tid := trace.TraceID{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16}
	sid := trace.SpanID{1, 2, 3, 4, 5, 6, 7, 8}
	ts := time.Date(2026, 11, 21, 5, 0, 0, 123456789, time.UTC)

	tests := []struct {
		name  string
		ctx   context.Context
		build func(*log.Record)
	}{
		{"audit", trace.ContextWithSpanContext(context.Background(), trace.NewSpanContext(trace.SpanContextConfig{
			TraceID: tid, SpanID: sid, TraceFlags: trace.FlagsSampled,
		})), func(r *log.Record) {
			r.SetEventName("user.login")
			r.SetTimestamp(ts)
			r.SetObservedTimestamp(ts.Add(time.Millisecond))
			r.SetSeverity(log.SeverityWarn)
			r.SetSeverityText("WARN")
			r.SetBody(attribute.StringValue("user alice logged in"))
			r.AddAttributes(
				attribute.String("otelkit.audit.record_id", "id-1"),
				attribute.StringSlice("otelkit.audit.missing", []string{"a", "b"}),
				attribute.Bool("otelkit.audit.unregistered", true),
				attribute.Int64("n", -42),
				attribute.Float64("f", 1.5),
				attribute.Int64Slice("ns", []int64{1, 2}),
				attribute.Float64Slice("fs", []float64{0.5}),
				attribute.BoolSlice("bs", []bool{true, false}),
			)
		}},
		{"structured body", context.Background(), func(r *log.Record) {
			r.SetBody(attribute.MapValue(
				attribute.String("k", "v"),
				attribute.Slice("l", attribute.IntValue(1), attribute.StringValue("x")),
			))
			r.AddAttributes(attribute.KeyValue{Key: "bytes", Value: attribute.ByteSliceValue([]byte{0, 1, 2})})
		}},
		{"empty", context.Background(), func(*log.Record) {}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := &captured{}
			res := resource.NewWithAttributes("https://opentelemetry.io/schemas/1.26.0", attribute.String("service.name", "svc"), attribute.Int("pid", 7))
			lp := sdklog.NewLoggerProvider(sdklog.WithProcessor(c), sdklog.WithResource(res))
			l := lp.Logger(auditScope, log.WithInstrumentationVersion("v1"), log.WithSchemaURL("https://example.com/s"),
				log.WithInstrumentationAttributes(attribute.String("scope.k", "v")))
			var r log.Record
			tt.build(&r)
			l.Emit(tt.ctx, r)
			require.Len(t, c.recs, 1)
			orig := c.recs[0]

			frame := encodeFrame(&orig, nil)
			require.NotNil(t, frame)
			setFrameSeq(frame, 99)
			payload := frame[frameHdr:]
			dec := newDecoder()
			defer dec.shutdown(context.Background())
			seq, got, err := dec.decode(payload)
			require.NoError(t, err)
			assert.Equal(t, uint64(99), seq)

			// What the OTLP exporter would send must be identical.
			assert.True(t, proto.Equal(toProto(&orig), toProto(&got)), "want %v\ngot  %v", toProto(&orig), toProto(&got))
			assert.Equal(t, orig.InstrumentationScope().Name, got.InstrumentationScope().Name)
			assert.True(t, orig.Resource().Equal(got.Resource()))
			assert.Equal(t, orig.TraceID(), got.TraceID())
			assert.Equal(t, orig.Timestamp().UnixNano(), got.Timestamp().UnixNano())
		})
	}
}

func TestDecodeRejectsGarbage(t *testing.T) {
	dec := newDecoder()
	defer dec.shutdown(context.Background())
	for _, p := range [][]byte{nil, {1, 2, 3}, append(make([]byte, 8), 0xff, 0xff, 0xff)} {
		_, _, err := dec.decode(p)
		assert.ErrorIs(t, err, errBadPayload)
	}
}
