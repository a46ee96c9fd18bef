package otelbridge_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log"
	"log/slog"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/otelkit/otelkit/mask"
	"github.com/otelkit/otelkit/otelbridge"
)

// TestSetupKeepsGoLogOnItsOutput: after Setup, the log package writes
// where it wrote before (not into OpenTelemetry), and shutdown restores the
// slog default, the log package's output and flags, and the mask policy.
func TestSetupKeepsGoLogOnItsOutput(t *testing.T) {
	clearEnv(t)
	restoreGlobals(t)
	var logged bytes.Buffer
	prevOut, prevFlags := log.Writer(), log.Flags()
	t.Cleanup(func() { log.SetOutput(prevOut); log.SetFlags(prevFlags) })
	log.SetOutput(&logged)
	log.SetFlags(log.Lmsgprefix)
	prevSlog, prevMask := slog.Default(), mask.Default()

	var telemetry syncBuffer
	shutdown, err := otelbridge.Setup(context.Background(), otelbridge.WithWriter(&telemetry),
		otelbridge.WithMask(mask.New("pin")))
	require.NoError(t, err)
	assert.NotSame(t, prevSlog, slog.Default(), "slog goes to OpenTelemetry")
	assert.NotSame(t, prevMask, mask.Default())

	log.Print("listen tcp 127.0.0.1:8080: bind: address already in use")
	assert.Equal(t, "listen tcp 127.0.0.1:8080: bind: address already in use\n", logged.String())
	assert.Equal(t, log.Lmsgprefix, log.Flags())

	require.NoError(t, shutdown(context.Background()))
	assert.Same(t, prevSlog, slog.Default())
	assert.Same(t, prevMask, mask.Default())
	assert.Equal(t, io.Writer(&logged), log.Writer())
	assert.Equal(t, log.Lmsgprefix, log.Flags())
	assert.NotContains(t, telemetry.String(), "address already in use", "log output is not turned into records")
}

// TestSetupThenLogFatalShowsItsMessage runs the case of a service whose
// port is taken in a child process: log.Fatal after Setup prints its
// message on stderr and exits 1.
func TestSetupThenLogFatalShowsItsMessage(t *testing.T) {
	if os.Getenv("OTELKIT_TEST_LOG_FATAL") == "1" {
		if _, err := otelbridge.Setup(context.Background()); err != nil {
			panic(err)
		}
		log.Fatal(errors.New("listen tcp 127.0.0.1:8080: bind: address already in use"))
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestSetupThenLogFatalShowsItsMessage$")
	cmd.Env = append(os.Environ(), "OTELKIT_TEST_LOG_FATAL=1",
		"OTEL_EXPORTER_OTLP_ENDPOINT=", "OTEL_TRACES_EXPORTER=", "OTEL_METRICS_EXPORTER=", "OTEL_LOGS_EXPORTER=")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	err := cmd.Run()
	var exit *exec.ExitError
	require.ErrorAs(t, err, &exit)
	assert.Equal(t, 1, exit.ExitCode())
	lines := strings.Split(strings.TrimSpace(stderr.String()), "\n")
	line := lines[len(lines)-1]
	assert.Regexp(t, `^\d{4}/\d\d/\d\d \d\d:\d\d:\d\d listen tcp 127.0.0.1:8080: bind: address already in use$`, line,
		"Go's log format, on stderr")
}
