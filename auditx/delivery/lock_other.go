//go:build !unix

package delivery

import "os"

// lockDir opens the spool directory; without flock it does not exclude
// other processes.
func lockDir(dir string) (*os.File, error) {
	return os.Open(dir)
}
