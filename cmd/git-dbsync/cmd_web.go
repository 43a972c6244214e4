package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/gitdbsync/git-dbsync/internal/web"
)

type webOptions struct {
	port int
}

func newWebCmd(s *streams) *cobra.Command {
	opts := &webOptions{}
	cmd := &cobra.Command{
		Use:   "web [--port N]",
		Short: "Serve a local, read-only web page of the environments and releases",
		Long: `Serve, until interrupted, a read-only web page for people who review
releases: on 127.0.0.1 only, on a free port (--port chooses one), at the
address it prints, which holds a random token (a request without it is
refused; the browser keeps it in a cookie after the first visit).

Its pages:
  Environments   every environment (by group) against the tags: where each
                 is, the releases pending, drift per table, whether its
                 last run finished and passed its checks, and the last
                 change's time and author
  A release      a tag's plan on an environment, as plan computes it:
                 conflicts and blocked deletes first with the --resolve
                 commands, then each row's cells and JSON paths old → new
  History        an environment's ledger as a timeline: applies,
                 rollbacks, restores, pulls, their steps and output
  Compare        two environments side by side, as diff --env A --env B

It reads each database in the same read-only session as status, plan and
diff, and writes nothing: each page shows the commands that would make a
change, to copy. Secrets show as their placeholders, URLs never.`,
		Example: `  git dbsync web
  git dbsync web --port 8642`,
		Args: usageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error { return runWeb(cmd, s, opts) },
	}
	cmd.Flags().IntVar(&opts.port, "port", 0, "listen on 127.0.0.1 port `N` (default: a free one)")
	return cmd
}

// runWeb serves the pages until the command is interrupted.
func runWeb(cmd *cobra.Command, s *streams, opts *webOptions) error {
	if opts.port < 0 || opts.port > 65535 {
		return usageErrorf("--port takes 0 to 65535, not %d", opts.port)
	}
	ws, err := s.workspace()
	if err != nil {
		return err
	}
	ws.Meter = nil // pages, not a terminal, show what is read
	srv, err := web.New(ws)
	if err != nil {
		return err
	}
	ln, addr, err := srv.Listen(opts.port)
	if err != nil {
		return err
	}
	fmt.Fprintf(s.Out, "git dbsync web: %s\n", addr)
	fmt.Fprintln(s.Err, "hint: open that address in a browser; Ctrl-C stops the server")
	return srv.Serve(cmd.Context(), ln)
}
