//go:build unix

package delivery

import (
	"fmt"
	"os"
	"syscall"
)

// lockDir takes an exclusive, non-blocking flock on the spool directory
// itself so that two processes never append to the same spool. The kernel
// releases it when the process dies, including on kill -9. A lock on a file
// inside the directory (the former "LOCK") is lost when a tmp cleaner
// deletes that file, and a second process then locks a new one; a
// directory is not removed while it holds segments, and a new directory at
// the same path is a new spool.
func lockDir(dir string) (*os.File, error) {
	f, err := os.Open(dir)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		_ = f.Close()
		return nil, fmt.Errorf("spool %s is in use by another process: %w", dir, err)
	}
	return f, nil
}
