package delivery

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const (
	crashChildEnv    = "OTELKIT_DELIVERY_CRASH_CHILD"
	crashSpoolEnv    = "OTELKIT_DELIVERY_CRASH_SPOOL"
	crashEndpointEnv = "OTELKIT_DELIVERY_CRASH_ENDPOINT"
	crashCountEnv    = "OTELKIT_DELIVERY_CRASH_COUNT"
	crashBatch       = 100
)

// TestCrashChild is the process that fault test 4 kills; it only runs when
// re-executed by TestFaultKill9. It emits audits at a steady rate with the
// receiver down and prints, after every 50, how many it emitted and how many
// the otelkit.audit.spooled counter says reached the spool. After every
// emit it also overwrites a small file with the number of audits whose
// OnEmit has returned (no fsync: kill -9 keeps the page cache), so the
// parent knows exactly what was emitted when the signal landed.
func TestCrashChild(t *testing.T) {
	if os.Getenv(crashChildEnv) != "1" {
		t.Skip("re-executed by TestFaultKill9 only")
	}
	mr := newMetricsReader()
	p, err := NewProcessor(newExporter(t, os.Getenv(crashEndpointEnv)),
		WithSpoolDir(os.Getenv(crashSpoolEnv)), WithMemoryLimit(500), WithBatchSize(crashBatch),
		WithMeterProvider(mr.mp), WithErrorHandler(func(error) {}))
	require.NoError(t, err)
	l, _ := auditLogger(p)
	countFile, err := os.OpenFile(os.Getenv(crashCountEnv), os.O_CREATE|os.O_WRONLY, 0o600)
	require.NoError(t, err)
	for i := range 200_000 { // the parent kills us long before
		emitAudit(l, fmt.Sprintf("k-%d", i))
		_, err := countFile.WriteAt([]byte(fmt.Sprintf("%012d", i+1)), 0)
		require.NoError(t, err)
		if i%50 == 49 {
			fmt.Printf("progress emitted=%d spooled=%d\n", i+1, mr.sum(t, "otelkit.audit.spooled", ""))
		}
		time.Sleep(100 * time.Microsecond)
	}
}

// Fault test 4: kill -9 mid-stream with the receiver down; restart with the
// receiver up; every record that reached the spool is delivered. The second
// case kills the child while it is delivering: the restart re-sends at most
// the batch whose acknowledgement the kill interrupted.
func TestFaultKill9(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name       string
		receiverUp bool
	}{
		{"receiver down", false},
		{"receiver up", true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			kill9(t, tt.receiverUp)
		})
	}
}

func kill9(t *testing.T, receiverUp bool) {
	dir := t.TempDir()
	countPath := t.TempDir() + "/emitted"
	rcv := newReceiver(t)
	if !receiverUp {
		rcv.stop()
	}

	cmd := exec.Command(os.Args[0], "-test.run=^TestCrashChild$", "-test.count=1")
	cmd.Env = append(os.Environ(), crashChildEnv+"=1", crashSpoolEnv+"="+dir, crashEndpointEnv+"="+rcv.addr, crashCountEnv+"="+countPath)
	out, err := cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	killed := false
	defer func() {
		if !killed {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
		}
	}()

	var emitted, spooled int
	sc := bufio.NewScanner(out)
	deadline := time.Now().Add(30 * time.Second)
	for sc.Scan() {
		e, s, ok := parseProgress(sc.Text())
		if !ok {
			continue
		}
		emitted, spooled = e, s
		if spooled >= 3000 {
			// Land the signal at an arbitrary point of the stream.
			time.Sleep(time.Duration(3+time.Now().UnixNano()%7) * time.Millisecond)
			require.NoError(t, cmd.Process.Kill()) // SIGKILL
			killed = true
			break
		}
		require.True(t, time.Now().Before(deadline), "child too slow")
	}
	require.True(t, killed, "child exited before being killed")
	for sc.Scan() { // lines already in the pipe when the signal landed
		if e, s, ok := parseProgress(sc.Text()); ok {
			emitted, spooled = e, s
		}
	}
	_ = cmd.Wait()
	b, err := os.ReadFile(countPath)
	require.NoError(t, err)
	exact, err := strconv.Atoi(strings.TrimSpace(string(b)))
	require.NoError(t, err)
	require.GreaterOrEqual(t, exact, emitted)
	emitted = exact

	onDisk := spooledIDs(t, dir)
	require.GreaterOrEqual(t, len(onDisk), spooled, "everything the counter reported is on disk")

	if !receiverUp {
		rcv.start()
	}
	sink := &errSink{}
	p, err := NewProcessor(newExporter(t, rcv.addr), WithSpoolDir(dir), WithErrorHandler(sink.handle))
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	require.NoError(t, p.Shutdown(ctx))

	for id := range onDisk {
		require.True(t, rcv.has(id), "spooled record %s delivered", id)
	}
	c := rcv.counts(ids("k", emitted))
	t.Logf("fault 4 (kill -9, receiver up=%t, restart): child emitted=%d (exact, count file) spooled>=%d (last counter report); valid on disk after kill=%d", receiverUp, emitted, spooled, len(onDisk))
	t.Logf("fault 4: %v (lost = emitted but not spooled when killed; bound 2 x batch = %d)", c, 2*crashBatch)
	assert.LessOrEqual(t, c.lost, 2*crashBatch)
	if receiverUp {
		assert.LessOrEqual(t, c.duplicated, crashBatch, "at most the unacknowledged batch")
	} else {
		assert.Zero(t, c.duplicated)
	}
	assert.Empty(t, spoolFiles(t, dir, segExt))
}

func parseProgress(line string) (emitted, spooled int, ok bool) {
	rest, found := strings.CutPrefix(line, "progress emitted=")
	if !found {
		return 0, 0, false
	}
	e, s, found := strings.Cut(rest, " spooled=")
	if !found {
		return 0, 0, false
	}
	ei, err1 := strconv.Atoi(e)
	si, err2 := strconv.Atoi(s)
	return ei, si, err1 == nil && err2 == nil
}
