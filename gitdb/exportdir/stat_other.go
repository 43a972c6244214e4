//go:build !unix

package exportdir

import "os"

// statDir returns the size and modification time (Unix ns) of every
// regular file in dir, by name.
func statDir(dir string, keep func(name string) bool) (map[string][2]int64, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	out := make(map[string][2]int64, len(entries))
	for _, e := range entries {
		if !keep(e.Name()) {
			continue
		}
		info, err := e.Info()
		if err != nil {
			return nil, err
		}
		if !info.Mode().IsRegular() {
			out[e.Name()] = [2]int64{-1, -1}
			continue
		}
		out[e.Name()] = [2]int64{info.Size(), info.ModTime().UnixNano()}
	}
	return out, nil
}

// sameDevice cannot tell here: temporary files stay beside their targets.
func sameDevice(a, b string) bool { return false }
