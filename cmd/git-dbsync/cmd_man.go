package main

import (
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/cobra/doc"
)

// newManCmd writes the man pages: git dbsync --help makes git open
// "man git-dbsync", so make install puts them on MANPATH.
func newManCmd() *cobra.Command {
	return &cobra.Command{
		Use:    "man DIR",
		Short:  "Write the man pages (git-dbsync.1 and one per command) into DIR",
		Hidden: true,
		Args:   usageArgs(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			root := cmd.Root()
			root.DisableAutoGenTag = true
			escapeLong(root)
			return doc.GenManTree(root, &doc.GenManHeader{Title: "GIT-DBSYNC", Section: "1", Source: "git dbsync " + version}, args[0])
		},
	}
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
