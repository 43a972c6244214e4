// Command sqlexec runs SQL on an SQLite file: sqlexec DB FILE.sql loads a
// script (a fixture, rendered for SQLite); sqlexec DB -q QUERY prints the
// rows of a query.
package main

import (
	"fmt"
	"os"

	"github.com/gitdbsync/git-dbsync/internal/fixture"
	"github.com/gitdbsync/git-dbsync/internal/sqltool"
)

func main() {
	var err error
	switch {
	case len(os.Args) == 4 && os.Args[2] == "-q":
		err = sqltool.Query(os.Args[1], os.Args[3], os.Stdout)
	case len(os.Args) == 3:
		var script []byte
		if script, err = os.ReadFile(os.Args[2]); err == nil {
			err = sqltool.Exec(os.Args[1], fixture.Render(string(script), "sqlite"))
		}
	default:
		err = fmt.Errorf("usage: sqlexec DB FILE.sql | sqlexec DB -q QUERY")
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "sqlexec:", err)
		os.Exit(1)
	}
}
