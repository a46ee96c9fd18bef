package otelbridge_test

import (
	"context"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	sdklog "go.opentelemetry.io/otel/sdk/log"

	"github.com/otelkit/otelkit/otelbridge"
)

// stackFrames counts the frames of a stack trace and says whether it ends
// by saying some were elided.
func stackFrames(stack string) (n int, elided bool) {
	for _, l := range strings.Split(strings.TrimSuffix(stack, "\n"), "\n") {
		switch {
		case l == "...additional frames elided...":
			elided = true
		case l != "" && !strings.HasPrefix(l, "\t"):
			n++
		}
	}
	return n, elided
}

// capturedStack captures an error with r and returns the stack trace of
// its exception log record; ok is false when it has none.
func capturedStack(t *testing.T, opts ...otelbridge.RecorderOption) (stack string, ok bool) {
	t.Helper()
	sink := &logSink{}
	lp := sdklog.NewLoggerProvider(sdklog.WithProcessor(sink))
	r := otelbridge.NewRecorder(append([]otelbridge.RecorderOption{otelbridge.RecordWithLoggerProvider(lp)}, opts...)...)
	r.Capture(context.Background(), errors.New("lost"))
	recs := sink.records()
	require.Len(t, recs, 1)
	v, ok := attrs(recs[0])["exception.stacktrace"]
	return v.AsString(), ok
}

// TestRecorderStackFrames: RecordWithStackFrames bounds or removes the
// stack of the Recorder's exception records (issue 17 item 4).
func TestRecorderStackFrames(t *testing.T) {
	t.Parallel()
	full, ok := capturedStack(t)
	require.True(t, ok, "by default a capture carries its stack")
	n, elided := stackFrames(full)
	require.Greater(t, n, 1, full)
	assert.False(t, elided)
	assert.True(t, strings.HasPrefix(full, "github.com/otelkit/otelkit/otelbridge_test.capturedStack()"), full)

	st, ok := capturedStack(t, otelbridge.RecordWithStackFrames(1))
	require.True(t, ok)
	assert.Equal(t, "github.com/otelkit/otelkit/otelbridge_test.capturedStack()", strings.SplitN(st, "\n", 2)[0])
	n, elided = stackFrames(st)
	assert.Equal(t, 1, n, st)
	assert.True(t, elided)

	_, ok = capturedStack(t, otelbridge.RecordWithStackFrames(0))
	assert.False(t, ok, "no stack trace")
}

// TestSetupStackFrames: Setup's WithStackFrames sets the process default
// for the package-level functions and for Recorders without their own,
// until shutdown.
func TestSetupStackFrames(t *testing.T) {
	clearEnv(t)
	restoreGlobals(t)
	sink := &logSink{}
	shutdown, err := otelbridge.Setup(context.Background(), otelbridge.WithWriter(io.Discard),
		otelbridge.WithoutSlog(), otelbridge.WithLogProcessor(sink), otelbridge.WithStackFrames(2),
		otelbridge.WithExceptionSignal(otelbridge.ExceptionLogs))
	require.NoError(t, err)
	otelbridge.Capture(context.Background(), errors.New("global"))
	inherited, ok := capturedStack(t)
	require.True(t, ok)
	own, ok := capturedStack(t, otelbridge.RecordWithStackFrames(-1))
	require.True(t, ok)
	require.NoError(t, shutdown(context.Background()))
	after, ok := capturedStack(t)
	require.True(t, ok)

	recs := sink.records()
	require.Len(t, recs, 1)
	n, elided := stackFrames(attrs(recs[0])["exception.stacktrace"].AsString())
	assert.Equal(t, 2, n, "the package-level Capture follows Setup")
	assert.True(t, elided)
	n, _ = stackFrames(inherited)
	assert.Equal(t, 2, n, "a Recorder without its own bound follows Setup")
	_, elided = stackFrames(own)
	assert.False(t, elided, "a Recorder's own bound wins")
	_, elided = stackFrames(after)
	assert.False(t, elided, "shutdown puts the default back")
}
