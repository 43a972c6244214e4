package main

import (
	"fmt"
	"os/exec"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/cobra/doc"
)

// newManCmd writes the man pages: git dbsync --help makes git open
// "man git-dbsync", so make install puts them on MANPATH.
type manOptions struct {
	dir string
}

func newManCmd() *cobra.Command {
	opts := &manOptions{}
	return &cobra.Command{
		Use:    "man DIR",
		Short:  "Write the man pages (git-dbsync.1 and one per command) into DIR",
		Hidden: true,
		Args:   usageArgs(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.dir = args[0]
			return runMan(cmd, opts)
		},
	}
}

// runMan writes the man pages.
func runMan(cmd *cobra.Command, opts *manOptions) error {
	root := cmd.Root()
	root.DisableAutoGenTag = true
	escapeLong(root)
	return doc.GenManTree(root, &doc.GenManHeader{Title: "GIT-DBSYNC", Section: "1", Source: "git dbsync " + version}, opts.dir)
}

// escapeLong escapes the help texts, written as plain text, for the
// Markdown that cobra's man page generator reads them as.
func escapeLong(c *cobra.Command) {
	md := strings.NewReplacer(`\`, `\\`, "_", `\_`, "*", `\*`, "<", `\<`, ">", `\>`, "[", `\[`, "]", `\]`, "`", "\\`")
	c.Long = md.Replace(c.Long)
	// The synopsis too: <revision> would read as an HTML tag and vanish.
	c.Use = strings.NewReplacer("<", `\<`, ">", `\>`).Replace(c.Use)
	for _, sub := range c.Commands() {
		escapeLong(sub)
	}
}

// newManViewerCmd is the man viewer hooks install registers for git help
// (man.viewer): git runs it with the page for "git dbsync --help" and for
// every other git help page. An installed page opens in man as usual; a
// page of git dbsync that is not installed shows the built-in help.
type manViewerOptions struct {
	page string
}

func newManViewerCmd(s *streams) *cobra.Command {
	opts := &manViewerOptions{}
	return &cobra.Command{
		Use:    "man-viewer PAGE",
		Short:  "Show a man page, or git dbsync's built-in help when its page is not installed",
		Hidden: true,
		Args:   usageArgs(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.page = args[0]
			return runManViewer(cmd, s, opts)
		},
	}
}

// runManViewer shows a man page, or the built-in help of a page of git
// dbsync that is not installed.
func runManViewer(cmd *cobra.Command, s *streams, opts *manViewerOptions) error {
	page := opts.page
	if man, err := exec.LookPath("man"); err == nil && exec.Command(man, "-w", page).Run() == nil {
		c := exec.Command(man, page)
		c.Stdin, c.Stdout, c.Stderr = s.In, s.Out, s.Err
		if err := c.Run(); err != nil {
			return &reportedError{err} // man has said why
		}
		return nil
	}
	// git help names a page of a command not built in "git" + the name:
	// "git help dbsync-apply" asks for gitdbsync-apply.
	name, ours := strings.CutPrefix(strings.Replace(page, "gitdbsync", "git-dbsync", 1), "git-dbsync")
	if !ours {
		return fmt.Errorf("no manual entry for %s", page)
	}
	target := cmd.Root()
	if name != "" {
		sub, _, err := target.Find([]string{strings.TrimPrefix(name, "-")})
		if err != nil || sub == target {
			return fmt.Errorf("no manual entry for %s", page)
		}
		target = sub
	}
	target.SetOut(s.Out)
	return target.Help()
}
