//go:build !unix

package sqlite

import "io/fs"

// fileID is empty where the system gives no inode: the resolved path
// names the file instead.
func fileID(fs.FileInfo) string { return "" }
