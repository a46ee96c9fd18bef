//go:build !unix

package delivery

import "os"

// lockDir opens dir/LOCK; without flock it does not exclude other processes.
func lockDir(dir string) (*os.File, error) {
	return os.OpenFile(dir+"/LOCK", os.O_CREATE|os.O_RDWR, 0o600)
}
