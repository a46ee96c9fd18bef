package e2e_test

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// repoRoot returns the root of the otelkit repository (two levels up).
func repoRoot(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs(filepath.Join("..", ".."))
	require.NoError(t, err)
	require.FileExists(t, filepath.Join(root, "collector", "config.yaml"))
	return root
}

// collectorBinary returns the collector to run: OTELKIT_COLLECTOR_BIN, or the
// distribution under bin/, built with collector/build.sh when it is missing.
func collectorBinary(t *testing.T, root string) string {
	t.Helper()
	if bin := os.Getenv("OTELKIT_COLLECTOR_BIN"); bin != "" {
		require.FileExists(t, bin, "OTELKIT_COLLECTOR_BIN")
		return bin
	}
	bin := filepath.Join(root, "bin", "otelkit-otelcol")
	if _, err := os.Stat(bin); err == nil {
		return bin
	}
	t.Logf("%s is missing: running collector/build.sh", bin)
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, filepath.Join(root, "collector", "build.sh"))
	cmd.Dir = root
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "collector/build.sh:\n%s", out)
	require.FileExists(t, bin)
	return bin
}

// freePort returns a loopback address with a port that was free a moment ago.
func freePort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := l.Addr().String()
	require.NoError(t, l.Close())
	return addr
}

// collector is a running collector process.
type collector struct {
	GRPC, HTTP, Health string // listen addresses
	ExportDir          string // where the file exporters write

	cmd      *exec.Cmd
	out      *syncBuffer
	done     chan error
	stopOnce sync.Once
}

// collectorOptions are the overrides of one collector run beyond fresh
// ports and directories.
type collectorOptions struct {
	StorageDir    string // file_storage directory; a fresh one when empty
	AuditEndpoint string // OTLP/HTTP backend of audits; a closed port when empty
}

// startCollector runs bin with root's collector/config.yaml, overriding only
// ports and file paths, and waits until its health check answers.
func startCollector(t *testing.T, bin, root string, opts collectorOptions) *collector {
	t.Helper()
	dir := t.TempDir()
	if opts.StorageDir == "" {
		opts.StorageDir = filepath.Join(dir, "storage")
	}
	if opts.AuditEndpoint == "" {
		opts.AuditEndpoint = "http://" + freePort(t)
	}
	c := &collector{
		GRPC:      freePort(t),
		HTTP:      freePort(t),
		Health:    freePort(t),
		ExportDir: filepath.Join(dir, "export"),
		out:       &syncBuffer{},
		done:      make(chan error, 1),
	}
	_, selfPort, err := net.SplitHostPort(freePort(t))
	require.NoError(t, err)
	// Nothing listens at the backend ports: the backend exporters fail and
	// retry, which must not hold up the file exporters.
	backend := freePort(t)

	c.cmd = exec.Command(bin, "--config", filepath.Join(root, "collector", "config.yaml"))
	c.cmd.Env = append(os.Environ(),
		"OTELKIT_OTLP_GRPC_ENDPOINT="+c.GRPC,
		"OTELKIT_OTLP_HTTP_ENDPOINT="+c.HTTP,
		"OTELKIT_HEALTH_ENDPOINT="+c.Health,
		"OTELKIT_SELF_METRICS_HOST=127.0.0.1",
		"OTELKIT_SELF_METRICS_PORT="+selfPort,
		"OTELKIT_TRACES_OTLP_ENDPOINT="+backend,
		"OTELKIT_METRICS_OTLP_ENDPOINT=http://"+backend,
		"OTELKIT_LOGS_OTLP_ENDPOINT=http://"+backend,
		"OTELKIT_AUDIT_OTLP_ENDPOINT="+opts.AuditEndpoint,
		"OTELKIT_EXPORT_DIR="+c.ExportDir,
		"OTELKIT_STORAGE_DIR="+opts.StorageDir,
	)
	c.cmd.Stdout = c.out
	c.cmd.Stderr = c.out
	require.NoError(t, c.cmd.Start())
	go func() { c.done <- c.cmd.Wait() }()
	t.Cleanup(func() { c.Stop(t) })

	deadline := time.Now().Add(60 * time.Second)
	for {
		select {
		case err := <-c.done:
			c.done <- err
			t.Fatalf("collector exited before it was healthy: %v\n%s", err, c.out.String())
		default:
		}
		resp, err := http.Get("http://" + c.Health + "/")
		if err == nil {
			_ = resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return c
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("collector not healthy after 60s (last error %v):\n%s", err, c.out.String())
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// Stop ends the collector with SIGINT, then SIGKILL after 15 s, and logs
// its output when the test failed. Calling it again does nothing.
func (c *collector) Stop(t *testing.T) {
	t.Helper()
	c.stopOnce.Do(func() {
		_ = c.cmd.Process.Signal(os.Interrupt)
		select {
		case <-c.done:
		case <-time.After(15 * time.Second):
			_ = c.cmd.Process.Kill()
			<-c.done
		}
		if t.Failed() {
			t.Logf("collector output (tail):\n%s", tail(c.out.String(), 8000))
		}
	})
}

func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "...\n" + s[len(s)-n:]
}

// syncBuffer is a bytes.Buffer safe for one writer and concurrent readers.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// envMillis formats d for OTEL_* environment variables in milliseconds.
func envMillis(d time.Duration) string {
	return strconv.FormatInt(d.Milliseconds(), 10)
}

var _ fmt.Stringer = (*syncBuffer)(nil)
