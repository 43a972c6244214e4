// Command git-dbsync keeps the configuration part of application databases
// in git. Installed on PATH, it runs as "git dbsync <command>".
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

func main() { os.Exit(mainCode()) }

// mainCode runs the command line of the process. SIGINT and SIGTERM cancel
// the command's context: a transaction rolls back, an export drops its
// temporary files, and the exit status says it was interrupted. A second
// signal kills at once.
func mainCode() int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	go func() { <-ctx.Done(); stop() }()
	return runContext(ctx, os.Args[1:], newStreams(os.Stdin, os.Stdout, os.Stderr))
}
