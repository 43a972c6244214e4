package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/gitdbsync/git-dbsync/internal/gittest"
)

// "git dbsync <TAB>" completes under git's own completion, in bash
// (bash-completion, git's completion loading ours by name) and zsh (zsh's
// git completion calling _git-dbsync), and "git-dbsync <TAB>" too:
// commands, options, environment names and revisions.
func TestShellCompletion(t *testing.T) {
	for _, need := range []string{"/usr/share/bash-completion/bash_completion", "/usr/share/bash-completion/completions/git"} {
		if _, err := os.Stat(need); err != nil {
			t.Fatalf("%s is missing: run testdata/managers/install.sh (bash-completion, git)", need)
		}
	}
	if _, err := exec.LookPath("zsh"); err != nil {
		t.Fatal("zsh is missing: run testdata/managers/install.sh")
	}
	dir := gittest.Init(t)
	os.WriteFile(filepath.Join(dir, ".dbsync"), []byte("[env \"dev\"]\n\turl = sqlite:dev.db\n[env \"production\"]\n\turl = sqlite:prod.db\n"), 0o644)
	gittest.Run(t, dir, "add", ".dbsync")
	gittest.Run(t, dir, "commit", "-q", "-m", "v1")
	gittest.Run(t, dir, "tag", "v1.0")
	gittest.Run(t, dir, "config", "dbsync.env.staging.url", "sqlite:staging.db")

	scripts, _ := filepath.Abs("../../testdata/completion")
	bashDir, zshDir := t.TempDir(), t.TempDir()
	os.MkdirAll(filepath.Join(bashDir, "completions"), 0o755)
	for file, shell := range map[string]string{filepath.Join(bashDir, "completions", "git-dbsync"): "bash", filepath.Join(zshDir, "_git-dbsync"): "zsh"} {
		cmd := exec.Command("git", "dbsync", "completion", shell)
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("git dbsync completion %s: %v", shell, err)
		}
		os.WriteFile(file, out, 0o644)
	}
	complete := func(shell, line string) []string {
		t.Helper()
		var cmd *exec.Cmd
		if shell == "bash" {
			cmd = exec.Command("bash", filepath.Join(scripts, "complete.bash"), line)
		} else {
			cmd = exec.Command("zsh", "-f", filepath.Join(scripts, "complete.zsh"), zshDir, line)
		}
		cmd.Dir = dir
		cmd.Env = append(gittest.Env(dir), "BASH_COMPLETION_USER_DIR="+bashDir)
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("%s completing %q: %v\n%s", shell, line, err, out)
		}
		return strings.Fields(string(out))
	}
	for _, shell := range []string{"bash", "zsh"} {
		for _, c := range []struct {
			line string
			want []string
		}{
			{"git dbsync ap", []string{"apply"}},
			{"git dbsync apply ", []string{"v1.0", "master"}},
			{"git dbsync plan v1.0 --env ", []string{"dev", "production", "staging"}},
			{"git dbsync rollback --env prod", []string{"production"}},
			{"git -C . dbsync status --env ", []string{"dev", "production", "staging"}},
			{"git-dbsync apply v1.0 --env ", []string{"dev", "production", "staging"}},
			{"git-dbsync diff v1.0 ", []string{"v1.0", "master"}},
		} {
			got := complete(shell, c.line)
			for _, w := range c.want {
				if !slices.Contains(got, w) {
					t.Errorf("%s: %q completes to %q, without %q", shell, c.line, got, w)
				}
			}
			if strings.HasSuffix(c.line, "--env ") && slices.Contains(got, "dev.db") {
				t.Errorf("%s: %q offers files: %q", shell, c.line, got)
			}
		}
	}
}
