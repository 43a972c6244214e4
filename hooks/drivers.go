package hooks

import (
	"errors"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/gitdbsync/git-dbsync/internal/atomicfile"
)

// Git runs a git command in the repository and returns its output: the
// caller's one runner of git, so that this package imports nothing of the
// project's engine.
type Git func(args ...string) ([]byte, error)

// The merge and diff drivers: registered in the repository's git config
// (.git/config, not committed: each clone installs its hooks) and bound to
// the export directory's files in .gitattributes (committed).
var driverConfig = [][2]string{
	{"merge.dbsync.name", "git dbsync: merge exported rows by key and by cell"},
	// git 2.39 tells a driver the marker size and the path, not the
	// sides' labels: merge-file finds those itself.
	{"merge.dbsync.driver", "git dbsync merge-file --marker-size=%L %O %A %B %P"},
	{"diff.dbsync.textconv", "git dbsync textconv"},
	{"diff.dbsync.xfuncname", "^== .*$"},
}

const attrBegin = "# git-dbsync: merge and diff exported rows by key (git dbsync hooks install)"
const attrEnd = "# git-dbsync end"

func attributes(exportDir string) string {
	d := "/" + path.Clean(exportDir)
	return attrBegin + "\n" +
		d + "/*/rows/*.json merge=dbsync\n" +
		d + "/*/rows.jsonl merge=dbsync diff=dbsync\n" +
		attrEnd + "\n"
}

// The man viewer: "git dbsync --help" is git's "git help dbsync", which
// opens the man page git-dbsync. Through this viewer, a page that is not
// installed (go install puts none) shows the built-in help instead; every
// other page goes to man as before. It is set only where no viewer is.
const (
	manViewer    = "dbsync"
	manViewerCmd = "git dbsync man-viewer"
)

// InstallDrivers registers the drivers (and, unless the user chose a man
// viewer, ours) in the repository's git config and writes their
// .gitattributes block, replacing an older one.
func InstallDrivers(git Git, root, exportDir string) error {
	settings := driverConfig
	if v, err := git("config", "--get", "man.viewer"); err != nil || strings.TrimSpace(string(v)) == manViewer {
		settings = append(settings[:len(settings):len(settings)], [2]string{"man.viewer", manViewer}, [2]string{"man." + manViewer + ".cmd", manViewerCmd})
	}
	for _, kv := range settings {
		if _, err := git("config", "--local", kv[0], kv[1]); err != nil {
			return err
		}
	}
	return editAttributes(root, attributes(exportDir))
}

// UninstallDrivers removes what InstallDrivers added to the repository's
// git config and to an untracked .gitattributes. A .gitattributes git
// tracks is the team's, and stays byte for byte: it reports that, and the
// drivers' lines are then for a person to remove and commit.
func UninstallDrivers(git Git, root string) (keptAttributes bool, err error) {
	for _, section := range []string{"merge.dbsync", "diff.dbsync", "man." + manViewer} {
		git("config", "--local", "--remove-section", section) // absent: nothing to remove
	}
	git("config", "--local", "--unset", "man.viewer", "^"+manViewer+"$") // only ours
	if _, err := git("ls-files", "--error-unmatch", "--", ".gitattributes"); err == nil {
		return true, nil
	}
	return false, editAttributes(root, "")
}

// DriversInstalled reports whether the merge driver is registered.
func DriversInstalled(git Git) bool {
	_, err := git("config", "--local", "--get", "merge.dbsync.driver")
	return err == nil
}

// DriversCurrent reports whether the registered drivers are this
// version's: an older command line (the merge driver before it took the
// marker size) is replaced by InstallDrivers.
func DriversCurrent(git Git) bool {
	for _, kv := range driverConfig {
		v, err := git("config", "--local", "--get", kv[0])
		if err != nil || strings.TrimSpace(string(v)) != kv[1] {
			return false
		}
	}
	return true
}

// editAttributes replaces our block of .gitattributes with block ("" to
// remove it), keeping every other line as it was.
func editAttributes(root, block string) error {
	p := filepath.Join(root, ".gitattributes")
	data, err := os.ReadFile(p)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	text := string(data)
	if i := strings.Index(text, attrBegin+"\n"); i >= 0 {
		if j := strings.Index(text[i:], attrEnd+"\n"); j >= 0 {
			text = text[:i] + text[i+j+len(attrEnd)+1:]
		}
	}
	if block != "" {
		if text != "" && !strings.HasSuffix(text, "\n") {
			text += "\n"
		}
		text += block
	}
	if text == "" {
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		return os.Remove(p)
	}
	return atomicfile.WriteFile(p, []byte(text), 0o666)
}
