package delivery

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	sdklog "go.opentelemetry.io/otel/sdk/log"

	"github.com/otelkit/otelkit/auditx"
	"github.com/otelkit/otelkit/errorsx"
)

// requiredEvents returns a required and an ordinary event emitting through
// p, and the record ids the required one reported as stored.
func requiredEvents(t *testing.T, p *Processor, timeout time.Duration) (req, plain *auditx.Event) {
	t.Helper()
	lp := sdklog.NewLoggerProvider(sdklog.WithProcessor(p))
	reg := auditx.NewRegistry(auditx.WithLoggerProvider(lp), auditx.WithRequiredTimeout(timeout), auditx.WithErrorHandler(errSinkHandler{}))
	req = reg.Define("account.deleted", auditx.LevelWarn, "account {account} deleted", auditx.Required())
	plain = reg.Define("account.viewed", auditx.LevelInfo, "account {account} viewed")
	return req, plain
}

type errSinkHandler struct{}

func (errSinkHandler) Handle(error) {}

// assertUnavailable checks that err is the registered 503 and that its
// cause is not the timeout (the failure was found, not waited out), unless
// timedOut.
func assertUnavailable(t *testing.T, err error, timedOut bool) {
	t.Helper()
	require.Error(t, err)
	assert.ErrorIs(t, err, auditx.ErrUnavailable)
	assert.ErrorIs(t, err, auditx.ErrNotStored)
	var xe *errorsx.Error
	require.ErrorAs(t, err, &xe)
	assert.Equal(t, 503, xe.Def().Status())
	assert.Equal(t, timedOut, errors.Is(err, auditx.ErrNotStoredInTime), "%v", err)
}

// A required emit returns nil only once its record is fsynced to the
// spool: with nothing delivered (collector down), every record reported as
// stored is in the spool files when Emit returns.
func TestRequiredStoredBeforeReturn(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	rcv := newDownReceiver(t)
	p, err := NewProcessor(newExporter(t, rcv.addr), WithSpoolDir(dir), WithErrorHandler(func(error) {}))
	require.NoError(t, err)
	defer shutdownQuick(p)
	req, _ := requiredEvents(t, p, time.Minute)
	for i := range 20 {
		id := "r-" + strconv.Itoa(i)
		require.NoError(t, req.Emit(context.Background(), attribute.String("account", id)))
		found := false
		for _, body := range spooledBodies(t, dir) {
			if body == "account "+id+" deleted" {
				found = true
			}
		}
		require.True(t, found, "record %s reported stored but not in the spool", id)
	}
}

// Unwritable spool directory, read-only filesystem, full disk and a size
// cap: required events fail at once with the registered error, ordinary
// ones keep returning nil.
func TestRequiredFailsFast(t *testing.T) {
	file := filepath.Join(t.TempDir(), "file")
	require.NoError(t, os.WriteFile(file, nil, 0o600))
	cases := []struct {
		name string
		dir  func(t *testing.T) string
		opts []Option
		n    int // required records that may succeed before the failure
	}{
		{"unwritable (path under a file)", func(*testing.T) string { return filepath.Join(file, "spool") }, nil, 0},
		{"read-only filesystem", func(t *testing.T) string {
			dir := mountTmpfs(t, "size=1m")
			if err := syscall.Mount("tmpfs", dir, "tmpfs", syscall.MS_REMOUNT|syscall.MS_RDONLY, "size=1m"); err != nil {
				t.Skipf("cannot remount read-only: %v", err)
			}
			return dir
		}, nil, 0},
		{"disk full (64 KiB tmpfs)", func(t *testing.T) string { return mountTmpfs(t, "size=64k") }, nil, 2000},
		{"size cap", func(t *testing.T) string { return t.TempDir() }, []Option{WithMaxSpoolBytes(16 << 10)}, 2000},
		{"no spool directory", func(*testing.T) string { return "" }, nil, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := tc.dir(t)
			rcv := newDownReceiver(t)
			opts := append([]Option{WithErrorHandler(func(error) {}), WithBatchSize(1)}, tc.opts...)
			if dir != "" {
				opts = append(opts, WithSpoolDir(dir))
			}
			p, err := NewProcessor(newExporter(t, rcv.addr), opts...)
			require.NoError(t, err)
			defer shutdownQuick(p)
			req, plain := requiredEvents(t, p, time.Minute)
			var failed error
			stored := 0
			pad := attribute.String("pad", string(make([]byte, 512)))
			for range tc.n + 1 {
				if failed = req.Emit(context.Background(), attribute.String("account", "a"), pad); failed != nil {
					break
				}
				stored++
			}
			assertUnavailable(t, failed, false)
			require.NoError(t, plain.Emit(context.Background(), attribute.String("account", "b")))
			if dir != "" && stored > 0 {
				assert.GreaterOrEqual(t, len(spooledBodies(t, dir)), stored, "every record reported stored is in the spool")
			}
		})
	}
}

// An fsync that does not return: the required emit gives up after its
// bound with the registered error; the ordinary one does not wait.
func TestRequiredHungFsync(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	rcv := newDownReceiver(t)
	release := make(chan struct{})
	var hung atomic.Int32
	hook := optionFunc(func(c *config) {
		c.syncFile = func(f *os.File) error {
			hung.Add(1)
			<-release
			return f.Sync()
		}
	})
	p, err := NewProcessor(newExporter(t, rcv.addr), WithSpoolDir(dir), WithErrorHandler(func(error) {}), hook)
	require.NoError(t, err)
	req, plain := requiredEvents(t, p, 100*time.Millisecond)
	require.NoError(t, plain.Emit(context.Background(), attribute.String("account", "b")))
	err = req.Emit(context.Background(), attribute.String("account", "a"))
	assertUnavailable(t, err, true)
	close(release)
	shutdownQuick(p)
}

// Without a durable pipeline (a provider whose processor is not a
// delivery.Processor) a required emit fails at once.
func TestRequiredWithoutDurablePipeline(t *testing.T) {
	lp := sdklog.NewLoggerProvider(sdklog.WithProcessor(&captured{}))
	reg := auditx.NewRegistry(auditx.WithLoggerProvider(lp), auditx.WithRequired(), auditx.WithRequiredTimeout(time.Minute))
	ev := reg.Define("x.y", auditx.LevelInfo, "x")
	assertUnavailable(t, ev.Emit(context.Background()), false)
}

func shutdownQuick(p *Processor) {
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	_ = p.Shutdown(ctx)
}

// spooledBodies reads the bodies of every valid record in dir's segments.
func spooledBodies(t testing.TB, dir string) []string {
	var out []string
	dec := newDecoder()
	defer dec.shutdown(context.Background())
	for _, path := range spoolFiles(t, dir, segExt) {
		data, err := os.ReadFile(path)
		require.NoError(t, err)
		if len(data) < len(segMagic) {
			continue
		}
		scan(data, defaultMaxRecordBytes, func(off, n int, _ uint64) {
			if _, rec, err := dec.decode(data[off+frameHdr : off+n]); err == nil {
				out = append(out, rec.Body().AsString())
			}
		})
	}
	return out
}
