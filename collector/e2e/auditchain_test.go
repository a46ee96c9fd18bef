package e2e_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/plog"
)

// TestAuditTrailTamperEvidence produces a real audit trail (the quickstart
// demo run twice on one spool directory with a signing key, through the
// collector distribution and collector/config.yaml into the JSONL archive,
// and into VictoriaLogs when a victoria-logs binary is available), checks
// that "otelkit audit verify" finds it whole, then tampers with copies of
// the archive and checks that each tampering is detected and named.
func TestAuditTrailTamperEvidence(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the collector and the quickstart twice")
	}
	root := repoRoot(t)
	bin := collectorBinary(t, root)
	ctx, cancel := context.WithTimeout(t.Context(), 4*time.Minute)
	defer cancel()

	vl := startVictoriaLogs(t, root)
	opts := collectorOptions{}
	if vl != "" {
		opts.AuditEndpoint = vl + "/insert/opentelemetry"
	}
	col := startCollector(t, bin, root, opts)
	otelkit := buildOtelkit(t, root)
	dir := t.TempDir()
	key, pub := filepath.Join(dir, "key.pem"), filepath.Join(dir, "pub.pem")
	out, err := exec.Command(otelkit, "audit", "keygen", "-o", key, "-pub", pub).CombinedOutput()
	require.NoError(t, err, "%s", out)

	exe := buildQuickstart(t, root)
	spool := filepath.Join(dir, "spool")
	for range 2 {
		require.NoError(t, runQuickstart(ctx, t, exe, root, col,
			"OTELKIT_AUDIT_SPOOL_DIR="+spool, "OTELKIT_AUDIT_SIGNING_KEY_FILE="+key))
	}
	archive := filepath.Join(col.ExportDir, "audit.jsonl")
	var recs []auditLine
	require.Eventually(t, func() bool {
		recs, err = splitArchive(archive)
		finals := 0
		for _, r := range recs {
			if r.kind == "final" {
				finals++
			}
		}
		return err == nil && finals == 2
	}, 60*time.Second, 200*time.Millisecond, "both runs' final checkpoints reach the archive")

	// The archive as the collector wrote it is whole and valid.
	rep, code, text := verify(t, otelkit, pub, archive)
	require.Equal(t, 0, code, text)
	require.True(t, rep.OK)
	require.True(t, rep.Signed)
	require.Len(t, rep.Streams, 2)
	s1, s2 := rep.Streams[0].StreamID, rep.Streams[1].StreamID
	require.Equal(t, s1, rep.Streams[1].PrevStreamID, "the second run's stream continues the first")
	t.Logf("untouched archive:\n%s", text)

	idx := func(stream string, seq int64) int {
		for i, r := range recs {
			if r.stream == stream && r.seq == seq {
				return i
			}
		}
		t.Fatalf("no record %s/%d", stream, seq)
		return -1
	}
	// A plain audit (not a checkpoint) of the first stream with a string
	// attribute, and its neighbours.
	victim := -1
	for i, r := range recs {
		if r.stream == s1 && r.kind == "" && r.seq > 1 && r.seq < rep.Streams[0].LastSeq-1 {
			victim = i
			break
		}
	}
	require.GreaterOrEqual(t, victim, 0, "the first stream has a record with neighbours")
	vseq := recs[victim].seq

	cases := []struct {
		name   string
		tamper func([]string) []string
		check  func(t *testing.T, rep report)
	}{
		{"edit one attribute", func(l []string) []string {
			l[victim] = editRecord(t, l[victim], func(lr plog.LogRecord) {
				lr.Attributes().PutStr("user.id", "mallory")
			})
			return l
		}, func(t *testing.T, rep report) { assert.NotEmpty(t, rep.stream(s1).Modified) }},
		{"delete one record", func(l []string) []string {
			return append(l[:victim:victim], l[victim+1:]...)
		}, func(t *testing.T, rep report) {
			assert.Equal(t, []gap{{vseq, vseq}}, rep.stream(s1).Gaps)
		}},
		{"swap two", func(l []string) []string {
			l[victim], l[victim+1] = l[victim+1], l[victim]
			return l
		}, func(t *testing.T, rep report) { assert.NotEmpty(t, rep.stream(s1).Reordered) }},
		{"insert a forged one", func(l []string) []string {
			forged := editRecord(t, l[victim], func(lr plog.LogRecord) {
				lr.Body().SetStr("User 'ada' deleted every account")
			})
			return append(l[:victim+1:victim+1], append([]string{forged}, l[victim+1:]...)...)
		}, func(t *testing.T, rep report) {
			s := rep.stream(s1)
			assert.NotEmpty(t, append(s.Modified, s.Inserted...))
		}},
		{"cut the tail", func(l []string) []string {
			return l[:len(l)-2] // the second stream's last audit and final checkpoint
		}, func(t *testing.T, rep report) {
			assert.True(t, rep.stream(s2).Truncated)
			assert.False(t, rep.stream(s2).Final)
		}},
		{"replace a checkpoint signature", func(l []string) []string {
			other := recs[idx(s1, rep.Streams[0].LastSeq)].signature
			i := idx(s2, rep.Streams[1].LastSeq)
			l[i] = editRecord(t, l[i], func(lr plog.LogRecord) {
				lr.Attributes().PutStr("otelkit.audit.checkpoint.signature", other)
			})
			return l
		}, func(t *testing.T, rep report) { assert.NotEmpty(t, rep.stream(s2).BadSignatures) }},
		{"mix two streams", func(l []string) []string {
			i := idx(s2, 2)
			l[i] = editRecord(t, l[i], func(lr plog.LogRecord) {
				lr.Attributes().PutStr("otelkit.audit.stream_id", s1)
			})
			return l
		}, func(t *testing.T, rep report) { assert.NotEmpty(t, rep.stream(s1).Mixed) }},
	}
	tmp := t.TempDir()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			lines := make([]string, len(recs))
			for i, r := range recs {
				lines[i] = r.line
			}
			path := filepath.Join(tmp, strings.ReplaceAll(tc.name, " ", "-")+".jsonl")
			require.NoError(t, os.WriteFile(path, []byte(strings.Join(tc.tamper(lines), "\n")+"\n"), 0o600))
			rep, code, text := verify(t, otelkit, pub, path)
			t.Logf("%s:\n%s", tc.name, text)
			assert.Equal(t, 1, code, "tampering makes the trail invalid")
			assert.False(t, rep.OK)
			tc.check(t, rep)
		})
	}

	t.Run("duplicates of at-least-once delivery", func(t *testing.T) {
		lines := []string{}
		for _, r := range recs {
			lines = append(lines, r.line)
		}
		lines = append(lines, recs[victim].line, recs[victim+1].line) // delivered twice
		path := filepath.Join(tmp, "duplicates.jsonl")
		require.NoError(t, os.WriteFile(path, []byte(strings.Join(lines, "\n")+"\n"), 0o600))
		rep, code, text := verify(t, otelkit, pub, path)
		t.Logf("duplicates:\n%s", text)
		assert.Equal(t, 0, code, text)
		assert.Equal(t, 2, rep.stream(s1).Duplicates)
	})

	t.Run("rotated and gzip-compressed", func(t *testing.T) {
		d := filepath.Join(tmp, "rotated")
		require.NoError(t, os.MkdirAll(d, 0o700))
		half := len(recs) / 2
		var gz bytes.Buffer
		zw := gzip.NewWriter(&gz)
		for _, r := range recs[:half] {
			_, _ = io.WriteString(zw, r.line+"\n")
		}
		require.NoError(t, zw.Close())
		require.NoError(t, os.WriteFile(filepath.Join(d, "audit-2026-11-29T00-00-00.000.jsonl.gz"), gz.Bytes(), 0o600))
		var live strings.Builder
		for _, r := range recs[half:] {
			live.WriteString(r.line + "\n")
		}
		require.NoError(t, os.WriteFile(filepath.Join(d, "audit.jsonl"), []byte(live.String()), 0o600))
		_, code, text := verify(t, otelkit, pub, d)
		assert.Equal(t, 0, code, text)
	})

	t.Run("victorialogs", func(t *testing.T) {
		if vl == "" {
			t.Skip("no victoria-logs binary (OTELKIT_VICTORIALOGS_BIN, bin/victoria-logs): the LogsQL reader is tested on a recorded export in cmd/otelkit/internal/auditread")
		}
		var export []byte
		require.Eventually(t, func() bool {
			export, err = logsqlQuery(ctx, vl, "otelkit.audit.stream_id:*")
			return err == nil && bytes.Count(export, []byte("\n")) >= len(recs)
		}, 30*time.Second, 300*time.Millisecond, "VictoriaLogs has every audit")
		out, err := exec.CommandContext(ctx, otelkit, "audit", "verify", "-key", pub, "-url", vl).CombinedOutput()
		t.Logf("otelkit audit verify -url:\n%s", out)
		require.NoError(t, err, "the trail read back from VictoriaLogs is whole and valid")

		path := filepath.Join(tmp, "logsql.jsonl")
		edited := bytes.Replace(export, []byte(`"user.id":"ada"`), []byte(`"user.id":"mallory"`), 1)
		require.NotEqual(t, export, edited)
		require.NoError(t, os.WriteFile(path, edited, 0o600))
		rep, code, text := verify(t, otelkit, pub, path)
		t.Logf("edited LogsQL export:\n%s", text)
		assert.Equal(t, 1, code)
		n := 0
		for _, s := range rep.Streams {
			n += len(s.Modified)
		}
		assert.Equal(t, 1, n)
	})
}

// auditLine is one audit record of the archive, alone in an OTLP JSON line.
type auditLine struct {
	line      string
	stream    string
	seq       int64
	kind      string // checkpoint kind, "" for other records
	signature string
}

// splitArchive reads the archive and writes each record on a line of its
// own (with its resource and scope), so that tests can cut and move
// records.
func splitArchive(path string) ([]auditLine, error) {
	var out []auditLine
	err := readLines(path, func(b []byte) error {
		ld, err := (&plog.JSONUnmarshaler{}).UnmarshalLogs(b)
		if err != nil {
			return err
		}
		for _, rl := range ld.ResourceLogs().All() {
			for _, sl := range rl.ScopeLogs().All() {
				for _, lr := range sl.LogRecords().All() {
					one := plog.NewLogs()
					nrl := one.ResourceLogs().AppendEmpty()
					rl.Resource().CopyTo(nrl.Resource())
					nsl := nrl.ScopeLogs().AppendEmpty()
					sl.Scope().CopyTo(nsl.Scope())
					lr.CopyTo(nsl.LogRecords().AppendEmpty())
					line, err := (&plog.JSONMarshaler{}).MarshalLogs(one)
					if err != nil {
						return err
					}
					a := lr.Attributes()
					seq, _ := a.Get("otelkit.audit.seq")
					out = append(out, auditLine{
						line:      string(line),
						stream:    attr(a, "otelkit.audit.stream_id"),
						seq:       seq.Int(),
						kind:      attr(a, "otelkit.audit.checkpoint.kind"),
						signature: attr(a, "otelkit.audit.checkpoint.signature"),
					})
				}
			}
		}
		return nil
	})
	if err == nil && len(out) == 0 {
		err = errors.New("no audit yet")
	}
	return out, err
}

// editRecord changes the one record of an OTLP JSON line.
func editRecord(t *testing.T, line string, edit func(plog.LogRecord)) string {
	t.Helper()
	ld, err := (&plog.JSONUnmarshaler{}).UnmarshalLogs([]byte(line))
	require.NoError(t, err)
	edit(ld.ResourceLogs().At(0).ScopeLogs().At(0).LogRecords().At(0))
	b, err := (&plog.JSONMarshaler{}).MarshalLogs(ld)
	require.NoError(t, err)
	return string(b)
}

// report is the part of "otelkit audit verify -json" the test reads.
type report struct {
	OK      bool           `json:"ok"`
	Signed  bool           `json:"signed"`
	Streams []streamReport `json:"streams"`
}

type gap struct {
	From int64 `json:"from"`
	To   int64 `json:"to"`
}

type streamReport struct {
	StreamID      string `json:"stream_id"`
	LastSeq       int64  `json:"last_seq"`
	Duplicates    int    `json:"duplicates"`
	Gaps          []gap  `json:"gaps"`
	Modified      []any  `json:"modified"`
	Inserted      []any  `json:"inserted"`
	Reordered     []any  `json:"reordered"`
	Mixed         []any  `json:"mixed"`
	BadSignatures []any  `json:"bad_signatures"`
	Final         bool   `json:"final"`
	Truncated     bool   `json:"possibly_truncated"`
	PrevStreamID  string `json:"prev_stream_id"`
}

func (r report) stream(id string) streamReport {
	for _, s := range r.Streams {
		if s.StreamID == id {
			return s
		}
	}
	return streamReport{}
}

// verify runs "otelkit audit verify" on path, as JSON and as text, and
// returns the report, the exit code and the text report.
func verify(t *testing.T, otelkit, pub, path string) (report, int, string) {
	t.Helper()
	var rep report
	out, err := exec.Command(otelkit, "audit", "verify", "-json", "-key", pub, path).Output()
	code := exitCode(t, err)
	require.NoError(t, json.Unmarshal(out, &rep), "%s", out)
	text, err := exec.Command(otelkit, "audit", "verify", "-key", pub, path).CombinedOutput()
	require.Equal(t, code, exitCode(t, err), "same verdict as text")
	return rep, code, string(text)
}

func exitCode(t *testing.T, err error) int {
	t.Helper()
	var ee *exec.ExitError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &ee):
		return ee.ExitCode()
	}
	t.Fatalf("running otelkit: %v", err)
	return -1
}

func buildOtelkit(t *testing.T, root string) string {
	t.Helper()
	exe := filepath.Join(t.TempDir(), "otelkit")
	build := exec.Command("go", "build", "-o", exe, "./cmd/otelkit")
	build.Dir = root
	out, err := build.CombinedOutput()
	require.NoError(t, err, "go build ./cmd/otelkit:\n%s", out)
	return exe
}

// startVictoriaLogs runs VictoriaLogs on a free port and returns its base
// URL: OTELKIT_VICTORIALOGS_BIN, or victoria-logs under bin/ (where the
// backend build puts it), built there by scripts/backends.sh when missing. It returns "" when
// there is none and it cannot be built.
func startVictoriaLogs(t *testing.T, root string) string {
	t.Helper()
	exe := os.Getenv("OTELKIT_VICTORIALOGS_BIN")
	if exe == "" {
		matches, _ := filepath.Glob(filepath.Join(root, "bin", "victoria-logs"))
		more, _ := filepath.Glob(filepath.Join(root, "bin", "*", "victoria-logs"))
		matches = append(matches, more...)
		if len(matches) == 0 {
			// Build it with the backends' script, cached (stamped) in bin/
			// for the next run (about 15 s on an idle machine).
			exe = filepath.Join(root, "bin", "victoria-logs")
			build := exec.Command(filepath.Join(root, "scripts", "backends.sh"), "victoria-logs")
			build.Dir = root
			if out, err := build.CombinedOutput(); err != nil {
				t.Logf("no victoria-logs binary and building it failed (the VictoriaLogs part is skipped): %v\n%s", err, tail(string(out), 2000))
				return ""
			}
			matches = []string{exe}
		}
		exe = matches[0]
	}
	addr := freePort(t)
	cmd := exec.Command(exe, "-storageDataPath="+t.TempDir(), "-httpListenAddr="+addr, "-loggerLevel=ERROR")
	var logs syncBuffer
	cmd.Stdout, cmd.Stderr = &logs, &logs
	require.NoError(t, cmd.Start())
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(os.Interrupt)
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
		if t.Failed() {
			t.Logf("victoria-logs output:\n%s", tail(logs.String(), 4000))
		}
	})
	base := "http://" + addr
	require.Eventually(t, func() bool {
		resp, err := http.Get(base + "/health")
		if err != nil {
			return false
		}
		_ = resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	}, 30*time.Second, 100*time.Millisecond, "victoria-logs answers /health")
	return base
}

// logsqlQuery runs a LogsQL query and returns the JSON lines.
func logsqlQuery(ctx context.Context, base, q string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/select/logsql/query?"+url.Values{"query": {q}}.Encode(), nil)
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("query: %s", resp.Status)
	}
	return io.ReadAll(resp.Body)
}
