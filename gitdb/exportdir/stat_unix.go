//go:build unix

package exportdir

import "golang.org/x/sys/unix"

// sameDevice reports whether two existing paths are on one file system.
func sameDevice(a, b string) bool {
	var sa, sb unix.Stat_t
	return unix.Stat(a, &sa) == nil && unix.Stat(b, &sb) == nil && sa.Dev == sb.Dev
}
