package gitdb

import (
	"github.com/gitdbsync/git-dbsync/gitdb/config"
	"github.com/gitdbsync/git-dbsync/gitdb/repo"
	"github.com/gitdbsync/git-dbsync/hooks"
)

// HookMode says what installing does with a hook git dbsync did not write.
type HookMode = hooks.Mode

const (
	HookRefuse = hooks.Refuse // stop, naming the hook and the choices
	HookChain  = hooks.Chain  // keep it, renamed; ours calls it first
	HookForce  = hooks.Force  // move it aside; uninstalling puts it back
)

// Hooks is the hooks directory and the drivers of the repository
// containing a directory.
type Hooks struct {
	Root, Dir string
	git       repo.Git
}

// OpenHooks finds the repository containing dir and the hooks directory
// git uses for it.
func OpenHooks(dir string) (*Hooks, error) {
	root, err := FindRoot(dir)
	if err != nil {
		return nil, err
	}
	hooksDir, err := repo.HooksDir(root)
	if err != nil {
		return nil, err
	}
	return &Hooks{Root: root, Dir: hooksDir, git: repo.Git{Dir: root}}, nil
}

// exportDir is the export directory the drivers are bound to.
func (h *Hooks) exportDir() string {
	if cfg, err := config.Load(h.Root); err == nil {
		return cfg.Dir
	}
	return config.DefaultDir
}

// Install writes the hooks (unless driversOnly) and registers the merge
// and diff drivers; it returns one line per thing done.
func (h *Hooks) Install(mode HookMode, driversOnly bool) ([]string, error) {
	var lines []string
	if !driversOnly {
		var err error
		if lines, err = hooks.Install(h.Dir, mode); err != nil {
			return nil, err
		}
	}
	dir := h.exportDir()
	if err := hooks.InstallDrivers(h.git.Output, h.Root, dir); err != nil {
		return lines, err
	}
	line := "merge and diff drivers registered; .gitattributes binds them to " + dir + "/"
	if h.git.Run("diff", "--quiet", "HEAD", "--", ".gitattributes") != nil || h.git.Run("ls-files", "--error-unmatch", ".gitattributes") != nil {
		line += " (commit it)" // new or changed: the team's clones need it
	}
	return append(lines, line), nil
}

// Uninstall removes the hooks and the drivers, putting back what install
// moved aside.
func (h *Hooks) Uninstall() ([]string, error) {
	lines, err := hooks.Uninstall(h.Dir)
	if err != nil {
		return lines, err
	}
	kept, err := hooks.UninstallDrivers(h.git.Output, h.Root)
	if err != nil {
		return lines, err
	}
	lines = append(lines, "merge and diff drivers removed")
	if kept {
		lines = append(lines, ".gitattributes is committed: left as it is (remove its git dbsync lines and commit, if the team no longer uses them)")
	}
	return lines, nil
}

// Status reports the state of every hook and of the drivers.
func (h *Hooks) Status() (*HooksReport, error) {
	sts, err := hooks.Status(h.Dir)
	if err != nil {
		return nil, err
	}
	r := &HooksReport{Format: 1, Dir: h.Dir, Hooks: []HookReport{}, Drivers: hooks.DriversInstalled(h.git.Output)}
	r.DriversOutdated = r.Drivers && !hooks.DriversCurrent(h.git.Output)
	for _, st := range sts {
		state := map[hooks.State]string{hooks.Missing: "missing", hooks.Ours: "installed", hooks.Old: "outdated", hooks.Foreign: "foreign"}[st.State]
		r.Hooks = append(r.Hooks, HookReport{Name: st.Name, State: state, Version: st.Version, Chained: st.Chained, Replaced: st.Replaced})
	}
	return r, nil
}
