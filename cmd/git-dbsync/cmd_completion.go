package main

import (
	"bytes"
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/gitdbsync/git-dbsync/gitdb"
)

// The shells' completion: cobra's scripts for git-dbsync, with what git's
// own completion needs for "git dbsync <TAB>".

type completionOptions struct {
	shell string
}

func newCompletionCmd(root *cobra.Command) *cobra.Command {
	opts := &completionOptions{}
	return &cobra.Command{
		Use:   "completion bash|zsh|fish|powershell",
		Short: "Print the shell completion script",
		Long: `Print the completion script of a shell. It completes commands, options,
environment names (from .dbsync and git config) and revisions (tags, newest
first, then branches), both as 'git dbsync …' under git's own completion and
as 'git-dbsync …'. 'make install' installs the bash and zsh scripts; by hand:

  bash: git dbsync completion bash > ~/.local/share/bash-completion/completions/git-dbsync
        (git's completion loads it by that name when 'git dbsync' is completed)
  zsh:  git dbsync completion zsh > "${fpath[1]}/_git-dbsync"
        (then compinit; zsh's git completion calls _git-dbsync)`,
		Args:      usageArgs(cobra.ExactArgs(1)),
		ValidArgs: []string{"bash", "zsh", "fish", "powershell"},
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.shell = args[0]
			return runCompletion(cmd, root, opts)
		},
	}
}

// runCompletion prints the completion script of a shell.
func runCompletion(cmd, root *cobra.Command, opts *completionOptions) error {
	var buf bytes.Buffer
	var err error
	switch opts.shell {
	case "bash":
		if err = root.GenBashCompletionV2(&buf, true); err == nil {
			buf.WriteString(bashGitCompletion)
		}
	case "zsh":
		if err = root.GenZshCompletion(&buf); err == nil {
			// Under git's completion, words[1] is "dbsync", not the program.
			script := strings.Replace(buf.String(), `requestComp="${words[1]} __complete`, `requestComp="git-dbsync __complete`, 1)
			buf.Reset()
			buf.WriteString(script)
		}
	case "fish":
		err = root.GenFishCompletion(&buf, true)
	case "powershell":
		err = root.GenPowerShellCompletionWithDesc(&buf)
	default:
		return usageErrorf("no completion for the shell %q (bash, zsh, fish or powershell)", opts.shell)
	}
	if err != nil {
		return err
	}
	_, err = cmd.OutOrStdout().Write(buf.Bytes())
	return err
}

// bashGitCompletion lets git's bash completion complete "git [options]
// dbsync …": it calls _git_dbsync, loading this file by the name
// git-dbsync first. The words from "dbsync" on are completed as the
// words of git-dbsync.
const bashGitCompletion = `
_git_dbsync()
{
    local i=${__git_cmd_idx:-1}
    while [[ $i -lt $cword && ${words[i]} != dbsync ]]; do ((i++)); done
    local -a line=(git-dbsync "${words[@]:i+1:cword-i}")
    local words cword=$((cword - i)) out directive
    words=("${line[@]}")
    __git-dbsync_get_completion_results
    __git-dbsync_process_completion_results
}
`

// completeRevisions offers the repository's tags and branches for a
// command's first argument (and, for diff, its second).
func completeRevisions(most int) cobra.CompletionFunc {
	return func(_ *cobra.Command, args []string, _ string) ([]cobra.Completion, cobra.ShellCompDirective) {
		if len(args) >= most {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		wd, _ := os.Getwd()
		return gitdb.Revisions(wd), cobra.ShellCompDirectiveNoFileComp | cobra.ShellCompDirectiveKeepOrder
	}
}

// completeCompletions registers the completion of the options that take
// known values on every command: --env, --color, --preset.
func registerCompletions(root *cobra.Command) {
	envs := func(*cobra.Command, []string, string) ([]cobra.Completion, cobra.ShellCompDirective) {
		wd, _ := os.Getwd()
		return gitdb.EnvNames(wd), cobra.ShellCompDirectiveNoFileComp
	}
	fixed := func(values ...string) cobra.CompletionFunc {
		return cobra.FixedCompletions(values, cobra.ShellCompDirectiveNoFileComp)
	}
	must := func(err error) {
		if err != nil {
			panic(fmt.Sprintf("completion: %v", err)) // a flag renamed without its completion
		}
	}
	must(root.RegisterFlagCompletionFunc("color", fixed("auto", "always", "never")))
	for _, c := range root.Commands() {
		for _, name := range []string{"env", "from"} {
			if c.Flags().Lookup(name) != nil {
				must(c.RegisterFlagCompletionFunc(name, envs))
			}
		}
	}
}
