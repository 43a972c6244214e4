// Command git-dbsync keeps the configuration part of application databases
// in git. Installed on PATH, it runs as "git dbsync <command>".
package main

import "os"

func main() {
	os.Exit(run(os.Args[1:], newStreams(os.Stdin, os.Stdout, os.Stderr)))
}
