//go:build !unix

package exportdir

// sameDevice cannot tell here: temporary files stay beside their targets.
func sameDevice(a, b string) bool { return false }
