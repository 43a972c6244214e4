package gitdb

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/gobwas/glob"
)

// IsSelector reports whether an --env value names several environments:
// a comma list, a glob, an exclusion or a [group] of .dbsync.
func (w *Workspace) IsSelector(spec string) bool {
	_, group := w.Config.Groups[spec]
	return group || strings.ContainsAny(spec, ",*?[{!")
}

// Targets resolves an --env selector into environment names, in the order
// given, each once: names, [group] names, and globs over the environments
// .dbsync and git config name (dbsync.env.<name>.url). A part that starts
// with ! (a name, group or glob, in the list or in a group) takes its
// environments out of the whole selection, wherever it stands. A glob or
// group that names no environment is an error, and so is an exclusion
// that takes out none: a misspelt one must not let a release through to
// the environment it was meant to spare.
func (w *Workspace) Targets(spec string) ([]string, error) {
	known := EnvNames(w.Root)
	var out []string
	exclusions := map[string][]string{} // "!part" → the environments it names
	var expand func(part string, depth int, into *[]string) error
	expand = func(part string, depth int, into *[]string) error {
		if rest, ok := strings.CutPrefix(part, "!"); ok {
			var names []string
			if err := expand(strings.TrimSpace(rest), depth, &names); err != nil {
				return err
			}
			exclusions[part] = append(exclusions[part], names...)
			return nil
		}
		if members, ok := w.Config.Groups[part]; ok && depth < 8 {
			for _, m := range members {
				if err := expand(m, depth+1, into); err != nil {
					return err
				}
			}
			return nil
		}
		if !strings.ContainsAny(part, "*?[{") {
			*into = append(*into, part)
			return nil
		}
		g, err := glob.Compile(part)
		if err != nil {
			return fmt.Errorf("--env %q: not a glob: %w", part, err)
		}
		n := len(*into)
		for _, name := range known {
			if g.Match(name) {
				*into = append(*into, name)
			}
		}
		if len(*into) == n {
			return fmt.Errorf("--env %q names no environment of %s or git config (those are: %s)", part, w.Config.File, strings.Join(known, ", "))
		}
		return nil
	}
	for _, part := range strings.Split(spec, ",") {
		if part = strings.TrimSpace(part); part == "" {
			continue
		}
		if err := expand(part, 0, &out); err != nil {
			return nil, err
		}
	}
	excluded := map[string]bool{}
	for _, part := range slices.Sorted(maps.Keys(exclusions)) {
		names := exclusions[part]
		if !slices.ContainsFunc(out, func(n string) bool { return slices.Contains(names, n) }) {
			return nil, fmt.Errorf("--env %q: %q takes out no environment of the selection (%s)", spec, part, strings.Join(unique(out), ", "))
		}
		for _, n := range names {
			excluded[n] = true
		}
	}
	out = unique(slices.DeleteFunc(out, func(name string) bool { return excluded[name] }))
	if len(out) == 0 && len(exclusions) > 0 {
		return nil, fmt.Errorf("--env %q selects no environment: its exclusions take out every one", spec)
	}
	return out, nil
}

// unique returns names without repeats, in their first order.
func unique(names []string) []string {
	seen := map[string]bool{}
	return slices.DeleteFunc(slices.Clone(names), func(name string) bool {
		dup := seen[name]
		seen[name] = true
		return dup
	})
}
