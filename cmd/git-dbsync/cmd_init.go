package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/gitdbsync/git-dbsync/gitdb"
)

type initOptions struct {
	gitdb.InitOptions
}

func newInitCmd(s *streams) *cobra.Command {
	opts := &initOptions{}
	cmd := &cobra.Command{
		Use:   "init [--env NAME] [--url URL] [--preset APP] [--force]",
		Short: "Inspect a database and write a starter .dbsync",
		Long: `Inspect the database of an environment and write a starter .dbsync at the
root of the repository, with a suggested class for every table, then print
the suggestion for review.

Classes:
  config    exported to files and deployed by apply
  content   belongs to each environment; never overwritten
  cache     never exported; may be cleared after an apply
  temp      never exported
  sequence  counters advanced after an apply
  ignore    never looked at

Tables are classified by name first (cache*, *_cache → cache; tmp*, queue
→ temp; sessions, watchdog, *_log → ignore; *settings*, *options*, menu*,
roles, *permission*, *_types → config; users, posts, comment* → content);
every other table is content. Being referenced by other tables does not
make a table config (menu items point at pages, which are content): its line
names the tables that reference it, for you to decide.

A config table whose primary key is an integer id and that has a unique NOT
NULL text column (a name) gets it as its natural key: rows match by it across
environments and the id stays out of the files, as each database allocates
its own. Other unique NOT NULL columns are offered commented out.

The URL given with --url is written into .dbsync unless it holds a
password or a user name (which may be a token): such a URL goes to this
clone's git config (dbsync.env.NAME.url), which git dbsync reads before
.dbsync and never commits; each clone sets its own there or in
$DBSYNC_ENV_<NAME>_URL.

With --preset, the tables of a known application are classified as that
application needs, with their natural keys, references and codecs set in
[table] sections; the generic rules classify the other tables. Presets:
` + presetHelp() + `
When the database is an SQLite file inside the repository, init adds it to
.gitignore (once: not if git ignores it already), so that the development
database stays out of commits.

An existing .dbsync is never overwritten without --force.`,
		Example: `  git dbsync init --url sqlite:var/dev.db
  git config dbsync.env.dev.url sqlite:/srv/app/app.db && git dbsync init
  git dbsync init --env dev --url sqlite:var/dev.db --force
  git dbsync init --url 'mysql://wp:secret@localhost/wordpress' --preset wordpress`,
		Args: usageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error { return runInit(cmd, s, opts) },
	}
	f := cmd.Flags()
	envVar(f, &opts.Env, "dev", "environment whose database to inspect")
	f.StringVar(&opts.URL, "url", "", "database URL (sqlite:PATH, relative to the repository root)")
	f.BoolVar(&opts.Force, "force", false, "overwrite an existing .dbsync")
	var names []string
	for _, p := range gitdb.Presets() {
		names = append(names, p.Name)
	}
	f.StringVar(&opts.Preset, "preset", "", "the application's schema: "+strings.Join(names, ", "))
	cmd.RegisterFlagCompletionFunc("preset", cobra.FixedCompletions(names, cobra.ShellCompDirectiveNoFileComp))
	return cmd
}

func runInit(cmd *cobra.Command, s *streams, opts *initOptions) error {
	wd, err := os.Getwd()
	if err != nil {
		return err
	}
	res, err := gitdb.Init(cmd.Context(), wd, opts.InitOptions)
	if err != nil {
		return err
	}
	for _, sg := range res.Suggestions {
		reason := sg.Reason
		if len(sg.Key) > 0 {
			reason += fmt.Sprintf("; rows matched by key %s, not by id", strings.Join(sg.Key, " "))
		}
		fmt.Fprintf(s.Out, "%-9s %-30s %s\n", sg.Class, sg.Table, reason)
	}
	fmt.Fprintf(s.notes(), "wrote %s with %s for environment %q\n", res.Path, plural(len(res.Suggestions), "table"), res.Env)
	if res.InGitConfig {
		fmt.Fprintf(s.notes(), "set git config dbsync.env.%s.url (this clone only): the URL holds a user name or password, which stays out of %s\n", res.Env, filepath.Base(res.Path))
	}
	if res.Ignored != "" {
		fmt.Fprintf(s.notes(), "added %s to .gitignore: the development database stays out of commits\n", res.Ignored)
	}
	if res.Tracked != "" {
		fmt.Fprintf(s.Err, "hint: git tracks the database %s: 'git rm --cached %s' keeps it out of later commits\n", res.Tracked, res.Tracked)
	}
	fmt.Fprintf(s.Err, "hint: review the classes, then run 'git dbsync export'\n")
	return nil
}

// presetHelp describes each preset, wrapped for the help text.
func presetHelp() string {
	var b strings.Builder
	for _, p := range gitdb.Presets() {
		b.WriteString("\n  " + p.Name + "\n")
		line := "   "
		for _, w := range strings.Fields(p.About) {
			if len(line)+len(w) > 74 {
				b.WriteString(line + "\n")
				line = "   "
			}
			line += " " + w
		}
		b.WriteString(line + "\n")
	}
	return b.String()
}
