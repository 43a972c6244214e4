package gitdb

import (
	"fmt"
	"slices"
	"strings"

	"github.com/gobwas/glob"
)

// IsSelector reports whether an --env value names several environments:
// a comma list, a glob, or a [group] of .dbsync.
func (w *Workspace) IsSelector(spec string) bool {
	_, group := w.Config.Groups[spec]
	return group || strings.ContainsAny(spec, ",*?[{")
}

// Targets resolves an --env selector into environment names, in the order
// given, each once: names, [group] names, and globs over the environments
// .dbsync and git config name (dbsync.env.<name>.url). A glob or group
// that names no environment is an error.
func (w *Workspace) Targets(spec string) ([]string, error) {
	known := EnvNames(w.Root)
	var out []string
	var expand func(part string, depth int) error
	expand = func(part string, depth int) error {
		if members, ok := w.Config.Groups[part]; ok && depth < 8 {
			for _, m := range members {
				if err := expand(m, depth+1); err != nil {
					return err
				}
			}
			return nil
		}
		if !strings.ContainsAny(part, "*?[{") {
			out = append(out, part)
			return nil
		}
		g, err := glob.Compile(part)
		if err != nil {
			return fmt.Errorf("--env %q: not a glob: %w", part, err)
		}
		n := len(out)
		for _, name := range known {
			if g.Match(name) {
				out = append(out, name)
			}
		}
		if len(out) == n {
			return fmt.Errorf("--env %q names no environment of %s or git config (those are: %s)", part, w.Config.File, strings.Join(known, ", "))
		}
		return nil
	}
	for _, part := range strings.Split(spec, ",") {
		if part = strings.TrimSpace(part); part == "" {
			continue
		}
		if err := expand(part, 0); err != nil {
			return nil, err
		}
	}
	seen := map[string]bool{}
	return slices.DeleteFunc(out, func(name string) bool {
		dup := seen[name]
		seen[name] = true
		return dup
	}), nil
}
