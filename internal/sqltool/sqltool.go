// Package sqltool runs SQL against SQLite files for the demo and the
// end-to-end tests (the testscript commands sqlexec and sqldump), so that
// neither needs an sqlite3 command on the machine.
package sqltool

import (
	"database/sql"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	_ "modernc.org/sqlite"

	"github.com/gitdbsync/git-dbsync/gitdb/dialect"
)

func open(path string) (*sql.DB, error) {
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=foreign_keys(1)&_pragma=busy_timeout(10000)")
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(1)
	return db, nil
}

// Exec runs a script of SQL statements on the SQLite file at path,
// creating it if needed.
func Exec(path, script string) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	db, err := open(path)
	if err != nil {
		return err
	}
	defer db.Close()
	if _, err := db.Exec(script); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}

// Query runs one query and writes its rows, tab-separated, NULL as NULL.
func Query(path, query string, w io.Writer) error {
	db, err := open(path)
	if err != nil {
		return err
	}
	defer db.Close()
	rows, err := db.Query(query)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return dialect.EachRow(rows, func(vals []any) error {
		_, err := io.WriteString(w, FormatRow(vals))
		return err
	})
}

// FormatRow writes a row as one line of tab-separated values, NULL as NULL.
func FormatRow(vals []any) string {
	parts := make([]string, len(vals))
	for i, v := range vals {
		switch x := v.(type) {
		case nil:
			parts[i] = "NULL"
		case []byte:
			parts[i] = string(x)
		default:
			parts[i] = fmt.Sprint(x)
		}
	}
	return strings.Join(parts, "\t") + "\n"
}
