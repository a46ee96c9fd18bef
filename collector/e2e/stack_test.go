package e2e_test

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// backendsRequired reports whether a missing backend binary fails the test
// instead of skipping it: collector/test.sh builds them and sets
// OTELKIT_E2E_BACKENDS=1, so CI always runs the backend tests.
func backendsRequired() bool { return os.Getenv("OTELKIT_E2E_BACKENDS") != "" }

// needStack skips the tests that run the whole stack (scripts/stack.sh with
// Jaeger) unless OTELKIT_E2E_STACK is set; collector/test.sh (and so CI)
// builds Jaeger and sets it.
func needStack(t *testing.T) {
	t.Helper()
	if os.Getenv("OTELKIT_E2E_STACK") == "" {
		t.Skip("set OTELKIT_E2E_STACK=1 (after scripts/backends.sh) to run the whole stack")
	}
}

// needBackends skips (or, when required, fails) the test unless the backend
// binaries scripts/backends.sh builds are in bin/: the named ones, or all.
func needBackends(t *testing.T, root string, names ...string) {
	t.Helper()
	if len(names) == 0 {
		names = []string{"victoria-logs", "victoria-metrics", "jaeger", "otelkit-otelcol"}
	}
	for _, name := range names {
		if _, err := os.Stat(filepath.Join(root, "bin", name)); err != nil {
			if backendsRequired() {
				t.Fatalf("bin/%s is missing (OTELKIT_E2E_BACKENDS is set): run scripts/backends.sh", name)
			}
			t.Skipf("bin/%s is missing: run scripts/backends.sh (collector/test.sh does)", name)
		}
	}
}

// stack is a scripts/stack.sh run on free loopback ports in a temporary
// data directory.
type stack struct {
	Dir             string // OTELKIT_STACK_DIR
	HTTP            string // collector OTLP/HTTP host:port
	VictoriaLogs    string // base URL
	VictoriaMetrics string
	Jaeger          string // query API base URL
	env             []string
	root            string
}

// stackEnv returns the environment that puts a stack on free ports in dir.
func stackEnv(t *testing.T, dir string) (*stack, []string) {
	t.Helper()
	// Every port chosen below stays held (listening) until all are chosen, so
	// the kernel cannot hand one of them out twice, nor give a single port
	// inside Jaeger's consecutive run (a collision seen once in CI:
	// "bind: address already in use" on the run's health port).
	var held []net.Listener
	defer func() {
		for _, l := range held {
			_ = l.Close()
		}
	}()
	port := func() int {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		require.NoError(t, err)
		held = append(held, l)
		return l.Addr().(*net.TCPAddr).Port
	}
	// Jaeger's four extra ports are consecutive from a base: find a free run.
	base := 0
	for range 50 {
		b := port()
		if b > 65000 {
			continue
		}
		run := []net.Listener{}
		for i := 1; i < 4; i++ {
			l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", b+i))
			if err != nil {
				break
			}
			run = append(run, l)
		}
		held = append(held, run...)
		if len(run) == 3 {
			base = b
			break
		}
	}
	require.NotZero(t, base, "four consecutive free ports")
	s := &stack{Dir: dir}
	p := map[string]int{}
	for _, k := range []string{"OTLP_GRPC", "OTLP_HTTP", "HEALTH", "SELF_METRICS", "VICTORIALOGS", "VICTORIAMETRICS", "JAEGER_QUERY", "JAEGER_OTLP"} {
		p[k] = port()
	}
	env := []string{
		"OTELKIT_STACK_DIR=" + dir,
		"OTELKIT_STACK_JAEGER_PORTS_BASE=" + strconv.Itoa(base),
		"OTELKIT_STACK_TIMEOUT=120",
	}
	for k, v := range p {
		env = append(env, "OTELKIT_STACK_"+k+"_PORT="+strconv.Itoa(v))
	}
	s.HTTP = fmt.Sprintf("127.0.0.1:%d", p["OTLP_HTTP"])
	s.VictoriaLogs = fmt.Sprintf("http://127.0.0.1:%d", p["VICTORIALOGS"])
	s.VictoriaMetrics = fmt.Sprintf("http://127.0.0.1:%d", p["VICTORIAMETRICS"])
	s.Jaeger = fmt.Sprintf("http://127.0.0.1:%d", p["JAEGER_QUERY"])
	s.env = env
	return s, env
}

// run runs scripts/stack.sh with args and the stack's environment.
func (s *stack) run(ctx context.Context, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, filepath.Join(s.root, "scripts", "stack.sh"), args...)
	cmd.Dir = s.root
	cmd.Env = append(os.Environ(), s.env...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	return out.String(), err
}

// startStack runs `scripts/stack.sh up` on free ports and `down` at cleanup.
func startStack(t *testing.T, root string) *stack {
	t.Helper()
	s, _ := stackEnv(t, t.TempDir())
	s.root = root
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Minute)
	defer cancel()
	t.Cleanup(func() {
		out, err := s.run(context.Background(), "down")
		if err != nil || t.Failed() {
			t.Logf("stack.sh down: %v\n%s", err, out)
		}
		if t.Failed() {
			for _, n := range []string{"collector", "victoria-logs", "victoria-metrics", "jaeger"} {
				b, _ := os.ReadFile(filepath.Join(s.Dir, "logs", n+".log"))
				t.Logf("%s log (tail):\n%s", n, tail(string(b), 3000))
			}
		}
	})
	start := time.Now()
	out, err := s.run(ctx, "up")
	require.NoError(t, err, "scripts/stack.sh up:\n%s", out)
	t.Logf("scripts/stack.sh up (%s):\n%s", time.Since(start).Round(time.Millisecond), out)
	require.Contains(t, out, "OTEL_EXPORTER_OTLP_ENDPOINT=http://"+s.HTTP)
	require.Contains(t, out, filepath.Join(s.Dir, "export", "audit.jsonl"))
	return s
}

// pidsAlive returns the pids recorded in the stack's run directory whose
// processes still exist.
func (s *stack) pidsAlive(t *testing.T) []string {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(s.Dir, "run", "*.pid"))
	var alive []string
	for _, f := range files {
		b, err := os.ReadFile(f)
		require.NoError(t, err)
		pid := strings.TrimSpace(string(b))
		if _, err := os.Stat("/proc/" + pid); err == nil {
			alive = append(alive, filepath.Base(f)+"="+pid)
		}
	}
	return alive
}

// TestStackScriptFailures checks that scripts/stack.sh up fails with a
// clear message and leaves no process behind when a port is taken, when a
// build fails, and when a service does not become healthy.
func TestStackScriptFailures(t *testing.T) {
	root := repoRoot(t)
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Minute)
	defer cancel()

	t.Run("port taken", func(t *testing.T) {
		s, _ := stackEnv(t, t.TempDir())
		s.root = root
		l, err := net.Listen("tcp", strings.TrimPrefix(s.VictoriaLogs, "http://"))
		require.NoError(t, err)
		defer l.Close()
		_, port, _ := net.SplitHostPort(l.Addr().String())
		out, err := s.run(ctx, "up")
		require.Error(t, err, out)
		require.Contains(t, out, "port "+port+" (127.0.0.1, VictoriaLogs) is taken")
		require.Empty(t, s.pidsAlive(t), out)
	})

	t.Run("build fails", func(t *testing.T) {
		s, _ := stackEnv(t, t.TempDir())
		s.root = root
		// A go that always fails: collector/build.sh cannot even compute
		// its stamp.
		fake := t.TempDir()
		require.NoError(t, os.WriteFile(filepath.Join(fake, "go"), []byte("#!/bin/sh\necho 'go: simulated failure' >&2\nexit 1\n"), 0o755))
		s.env = append(s.env, "PATH="+fake+string(os.PathListSeparator)+os.Getenv("PATH"))
		out, err := s.run(ctx, "up")
		require.Error(t, err, out)
		require.Contains(t, out, "build failed")
		require.Contains(t, out, "nothing was started")
		require.Empty(t, s.pidsAlive(t), out)
	})

	t.Run("not healthy", func(t *testing.T) {
		needStack(t)
		needBackends(t, root)
		s, _ := stackEnv(t, t.TempDir())
		s.root = root
		s.env = append(s.env, "OTELKIT_STACK_TIMEOUT=0") // nothing is healthy in 0 s
		out, err := s.run(ctx, "up")
		require.Error(t, err, out)
		require.Contains(t, out, "stopping what was started")
		require.Contains(t, out, "stopped victoria-logs")
		require.Empty(t, s.pidsAlive(t), out)
		out, err = s.run(ctx, "status")
		require.NoError(t, err)
		require.NotContains(t, out, "running", out)
	})
}
