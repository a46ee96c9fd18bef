package e2e_test

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/plog/plogotlp"
)

// proc is one process of the scaled-out topology that the fault test can
// kill (SIGKILL, no chance to flush) and start again with the same
// arguments, data directories and ports.
type proc struct {
	name string
	args []string
	env  []string
	log  *syncBuffer

	mu   sync.Mutex
	cmd  *exec.Cmd
	done chan struct{}
}

func (p *proc) start(t *testing.T) {
	t.Helper()
	p.mu.Lock()
	defer p.mu.Unlock()
	cmd := exec.Command(p.args[0], p.args[1:]...)
	cmd.Env = append(os.Environ(), p.env...)
	cmd.Stdout, cmd.Stderr = p.log, p.log
	require.NoError(t, cmd.Start(), p.name)
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	p.cmd, p.done = cmd, done
}

// kill ends the process with SIGKILL and waits for it.
func (p *proc) kill() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cmd == nil {
		return
	}
	_ = p.cmd.Process.Signal(syscall.SIGKILL)
	<-p.done
	p.cmd = nil
}

// stop ends the process with SIGINT (SIGKILL after 15 s).
func (p *proc) stop() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cmd == nil {
		return
	}
	_ = p.cmd.Process.Signal(os.Interrupt)
	select {
	case <-p.done:
	case <-time.After(15 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.done
	}
	p.cmd = nil
}

// waitHTTP waits until url answers 200.
func waitHTTP(t *testing.T, what, url string) {
	t.Helper()
	require.Eventually(t, func() bool {
		resp, err := http.Get(url)
		if err != nil {
			return false
		}
		_ = resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	}, 60*time.Second, 100*time.Millisecond, "%s answers %s", what, url)
}

// TestScaleOutFaults streams audits at a steady rate through the scaled-out
// topology, all on loopback:
//
//	sender --OTLP/HTTP--> agent collector (collector/config.yaml, persistent queue)
//	  --OTLP/HTTP--> gateway collector (collector/gateway.yaml, persistent queue)
//	  --OTLP/HTTP--> vlinsert/vlselect (victoria-logs -storageNode=s1,s2)
//	  --> two vlstorage nodes (victoria-logs)
//
// and, while they stream, kills the gateway (SIGKILL) and starts it again,
// then kills one storage node and starts it again. It counts the audits
// emitted, delivered (queried back from vlselect by otelkit.audit.record_id),
// duplicated and lost; lost must be 0 (at-least-once: duplicates are
// allowed and counted).
//
// Short form by default (20 audits/s for 20 s); OTELKIT_FAULT_RATE and
// OTELKIT_FAULT_SECONDS make it longer.
func TestScaleOutFaults(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a collector agent, a gateway and a VictoriaLogs cluster")
	}
	root := repoRoot(t)
	needBackends(t, root, "victoria-logs", "otelkit-otelcol")
	rate, seconds := envInt("OTELKIT_FAULT_RATE", 20), envInt("OTELKIT_FAULT_SECONDS", 20)
	vlBin := filepath.Join(root, "bin", "victoria-logs")
	colBin := collectorBinary(t, root)
	dir := t.TempDir()

	var procs []*proc
	newProc := func(name string, env []string, args ...string) *proc {
		p := &proc{name: name, args: args, env: env, log: &syncBuffer{}}
		procs = append(procs, p)
		return p
	}
	t.Cleanup(func() {
		for i := len(procs) - 1; i >= 0; i-- {
			procs[i].stop()
			if t.Failed() {
				t.Logf("%s output (tail):\n%s", procs[i].name, tail(procs[i].log.String(), 3000))
			}
		}
	})

	// VictoriaLogs cluster: two storage nodes, one insert/select node.
	s1, s2, front := freePort(t), freePort(t), freePort(t)
	storage1 := newProc("vlstorage-1", nil, vlBin, "-httpListenAddr="+s1, "-storageDataPath="+filepath.Join(dir, "s1"), "-loggerLevel=WARN")
	storage2 := newProc("vlstorage-2", nil, vlBin, "-httpListenAddr="+s2, "-storageDataPath="+filepath.Join(dir, "s2"), "-loggerLevel=WARN")
	vlfront := newProc("vlinsert+vlselect", nil, vlBin, "-httpListenAddr="+front, "-storageNode="+s1+","+s2,
		"-storageDataPath="+filepath.Join(dir, "front"), "-loggerLevel=WARN")
	for _, p := range []*proc{storage1, storage2, vlfront} {
		p.start(t)
	}
	for _, a := range []string{s1, s2, front} {
		waitHTTP(t, "victoria-logs", "http://"+a+"/health")
	}

	// Gateway collector.
	gwHTTP, gwHealth, gwSelf := freePort(t), freePort(t), freePort(t)
	_, gwSelfPort, _ := strings.Cut(gwSelf, ":")
	gateway := newProc("gateway", []string{
		"OTELKIT_GATEWAY_OTLP_HTTP_ENDPOINT=" + gwHTTP,
		"OTELKIT_GATEWAY_HEALTH_ENDPOINT=" + gwHealth,
		"OTELKIT_GATEWAY_SELF_METRICS_HOST=127.0.0.1",
		"OTELKIT_GATEWAY_SELF_METRICS_PORT=" + gwSelfPort,
		"OTELKIT_GATEWAY_AUDIT_OTLP_ENDPOINT=http://" + front + "/insert/opentelemetry",
		"OTELKIT_GATEWAY_STORAGE_DIR=" + filepath.Join(dir, "gateway-queue"),
	}, colBin, "--config", filepath.Join(root, "collector", "gateway.yaml"))
	gateway.start(t)
	waitHTTP(t, "gateway", "http://"+gwHealth+"/")

	// Agent collector: the ordinary configuration, audits to the gateway.
	agent := startCollector(t, colBin, root, collectorOptions{
		StorageDir:    filepath.Join(dir, "agent-queue"),
		AuditEndpoint: "http://" + gwHTTP,
	})

	run := strconv.FormatInt(time.Now().UnixNano(), 36)
	total := rate * seconds
	var emitted atomic.Int64
	ctx, cancel := context.WithTimeout(t.Context(), time.Duration(seconds)*time.Second+2*time.Minute)
	defer cancel()

	// The faults, at fixed fractions of the stream.
	faults := make(chan string, 8)
	go func() {
		step := time.Duration(seconds) * time.Second / 5
		time.Sleep(step)
		gateway.kill()
		faults <- fmt.Sprintf("gateway killed after %d audits", emitted.Load())
		time.Sleep(step)
		gateway.start(t)
		faults <- fmt.Sprintf("gateway started after %d audits", emitted.Load())
		time.Sleep(step)
		storage2.kill()
		faults <- fmt.Sprintf("vlstorage-2 killed after %d audits", emitted.Load())
		time.Sleep(step)
		storage2.start(t)
		faults <- fmt.Sprintf("vlstorage-2 started after %d audits", emitted.Load())
		close(faults)
	}()

	// The stream: one audit per tick, each with its own record id; a send
	// the agent does not accept is retried until it does (the SDK's spool
	// does the same), so every audit is emitted exactly once.
	tick := time.NewTicker(time.Second / time.Duration(rate))
	start := time.Now()
	for i := range total {
		<-tick.C
		id := fmt.Sprintf("%s-%d", run, i)
		for {
			err := postFaultAudit(ctx, "http://"+agent.HTTP, run, id, i)
			if err == nil {
				break
			}
			require.NoError(t, ctx.Err(), "sending %s: %v", id, err)
			time.Sleep(100 * time.Millisecond)
		}
		emitted.Add(1)
	}
	tick.Stop()
	t.Logf("emitted %d audits in %s", emitted.Load(), time.Since(start).Round(time.Millisecond))
	for f := range faults {
		t.Log(f)
	}

	// Delivered: distinct record ids of this run in the cluster; duplicated:
	// rows beyond one per id.
	var delivered, rows int
	q := `fault.run:="` + run + `" | stats count_uniq(otelkit.audit.record_id) as ids, count() as rows`
	deadline := time.Now().Add(3 * time.Minute)
	for {
		res := logsql(t, ctx, "http://"+front, q)
		if len(res) == 1 {
			delivered, _ = strconv.Atoi(res[0]["ids"])
			rows, _ = strconv.Atoi(res[0]["rows"])
		}
		if delivered >= total || time.Now().After(deadline) {
			break
		}
		time.Sleep(time.Second)
	}
	lost := total - delivered
	t.Logf("scale-out fault test: emitted %d, delivered %d, duplicated %d, lost %d (rate %d/s for %ds)",
		total, delivered, rows-delivered, lost, rate, seconds)
	require.Equal(t, 0, lost, "no audit is lost")
	require.Equal(t, total, delivered)
}

// postFaultAudit sends one audit record with the given record id to the OTLP/HTTP
// receiver at base.
func postFaultAudit(ctx context.Context, base, run, id string, seq int) error {
	ld := plog.NewLogs()
	rl := ld.ResourceLogs().AppendEmpty()
	rl.Resource().Attributes().PutStr("service.name", "e2e-scaleout")
	sl := rl.ScopeLogs().AppendEmpty()
	sl.Scope().SetName(auditScope)
	lr := sl.LogRecords().AppendEmpty()
	lr.SetTimestamp(pcommon.NewTimestampFromTime(time.Now()))
	lr.SetEventName("e2e.scaleout")
	lr.SetSeverityNumber(plog.SeverityNumberInfo)
	lr.SetSeverityText("INFO")
	lr.Body().SetStr(fmt.Sprintf("audit %d of run %s", seq, run))
	lr.Attributes().PutStr("otelkit.audit.record_id", id)
	lr.Attributes().PutStr("fault.run", run)
	body, err := plogotlp.NewExportRequestFromLogs(ld).MarshalProto()
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+"/v1/logs", bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/x-protobuf")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("agent answered %s", resp.Status)
	}
	return nil
}

func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}
