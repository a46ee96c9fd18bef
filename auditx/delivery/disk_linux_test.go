//go:build linux

package delivery

import (
	"errors"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/stretchr/testify/require"
)

// mountTmpfs mounts a tmpfs with the given options on a fresh directory, or
// skips the test when the process may not mount (not root, no
// CAP_SYS_ADMIN). The mount is removed when the test ends.
func mountTmpfs(t *testing.T, opts string) string {
	t.Helper()
	dir := t.TempDir()
	if err := syscall.Mount("tmpfs", dir, "tmpfs", 0, opts); err != nil {
		t.Skipf("cannot mount a tmpfs here (%v); the ENOTDIR and size-cap tests cover this path", err)
	}
	t.Cleanup(func() { _ = syscall.Unmount(dir, syscall.MNT_DETACH) })
	return dir
}

// Fault test 5d: a read-only filesystem (EROFS applies to root too).
func TestFaultSpoolReadOnlyFS(t *testing.T) {
	t.Parallel()
	dir := mountTmpfs(t, "size=1m")
	// Remount read-only so the directory exists but nothing can be created.
	if err := syscall.Mount("tmpfs", dir, "tmpfs", syscall.MS_REMOUNT|syscall.MS_RDONLY, "size=1m"); err != nil {
		t.Skipf("cannot remount read-only: %v", err)
	}
	diskFault(t, "read-only tmpfs", dir, ReasonSpoolUnwritable, 300)
}

// Fault test 5e: a tiny filesystem that fills up (ENOSPC).
func TestFaultSpoolDiskFull(t *testing.T) {
	t.Parallel()
	dir := mountTmpfs(t, "size=64k")
	diskFault(t, "64 KiB tmpfs, disk full", dir, ReasonDiskFull, 2000)
}

// When a write of a later chunk fails (disk full), the chunks written
// before it are taken back: the segment is as it was before the batch.
func TestSpoolAppendChunkedDiskFull(t *testing.T) {
	dir := mountTmpfs(t, "size=2m")
	sp := openTestSpool(t, dir)
	small := chunkBatch(t)[:10]
	_, err := sp.append(small)
	require.NoError(t, err)
	before, err := os.ReadFile(filepath.Join(dir, sp.active.name))
	require.NoError(t, err)

	_, err = sp.append(chunkBatch(t)[10:])
	require.Error(t, err)
	require.True(t, errors.Is(err, syscall.ENOSPC), "%v", err)
	after, err := os.ReadFile(filepath.Join(dir, sp.active.name))
	require.NoError(t, err)
	require.Equal(t, before, after)
}
