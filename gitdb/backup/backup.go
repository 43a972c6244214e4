// Package backup snapshots the tables a change may write, before it
// writes them, and puts them back. A backup is a directory: manifest.json
// (what, when, from which database) and one file per table, its rows in
// key order as lines of canonical cells, as the database holds them (ids,
// not natural keys). It is taken inside the change's transaction, so it
// is exactly what the change started from.
package backup

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/gitdbsync/git-dbsync/gitdb/dialect"
	"github.com/gitdbsync/git-dbsync/serialize"
)

// Manifest describes a backup.
type Manifest struct {
	ID       string `json:"id"`
	Env      string `json:"env"`
	Identity string `json:"identity,omitempty"` // the database's git dbsync identity ("" before its first apply)
	Before   string `json:"before"`             // the change it was taken before: "apply v1.4"
	Revision string `json:"revision,omitempty"` // the revision the database was at
	Commit   string `json:"commit,omitempty"`
	// LedgerSeq is the last entry of the database's ledger when the backup
	// was taken (0 for none): a restore undoes what came after it.
	LedgerSeq int64     `json:"ledger_seq"`
	Taken     time.Time `json:"taken"`
	Tables    []Table   `json:"tables"`
	Bytes     int64     `json:"bytes"`
	Dir       string    `json:"-"` // where it lies
}

// Table is one table of a backup.
type Table struct {
	Name    string             `json:"name"`
	Columns []serialize.Column `json:"columns"`
	Key     []string           `json:"key,omitempty"` // the primary key; none: the table is put back whole
	Rows    int64              `json:"rows"`
	// Dir is where the table's rows lie when not in its manifest's
	// folder: a restore takes a table its backup does not hold from a
	// later backup (never written in a manifest).
	Dir string `json:"-"`
}

// dir is the folder of the table's rows in backup m.
func (t *Table) dir(m *Manifest) string {
	if t.Dir != "" {
		return t.Dir
	}
	return m.Dir
}

// column is a column as a manifest writes it: lowercase keys, as every
// other file of git dbsync has them. Manifests written before named them
// as Go does (Name, Scale); encoding/json matches keys without case, so
// they still read.
type column struct {
	Name     string         `json:"name"`
	Type     serialize.Type `json:"type"`
	Nullable bool           `json:"nullable"`
	Scale    int            `json:"scale"`
	Codec    string         `json:"codec,omitempty"`
	Secret   bool           `json:"secret,omitempty"`
	Sets     []string       `json:"sets,omitempty"`
}

// table is a Table as a manifest writes it.
type table struct {
	Name    string   `json:"name"`
	Columns []column `json:"columns"`
	Key     []string `json:"key,omitempty"`
	Rows    int64    `json:"rows"`
}

// MarshalJSON writes the columns with lowercase keys.
func (t Table) MarshalJSON() ([]byte, error) {
	out := table{Name: t.Name, Key: t.Key, Rows: t.Rows, Columns: make([]column, len(t.Columns))}
	for i, c := range t.Columns {
		out.Columns[i] = column(c)
	}
	return json.Marshal(out)
}

// UnmarshalJSON reads a table of a manifest, old (Go's keys) or new.
func (t *Table) UnmarshalJSON(data []byte) error {
	var in table
	if err := json.Unmarshal(data, &in); err != nil {
		return err
	}
	*t = Table{Name: in.Name, Key: in.Key, Rows: in.Rows, Columns: make([]serialize.Column, len(in.Columns))}
	for i, c := range in.Columns {
		t.Columns[i] = serialize.Column(c)
	}
	return nil
}

// Rows counts the rows of every table.
func (m *Manifest) Rows() int64 {
	var n int64
	for _, t := range m.Tables {
		n += t.Rows
	}
	return n
}

const manifestFile = "manifest.json"

func tableFile(dir, table string) string {
	return filepath.Join(dir, serialize.FileName(table)+".jsonl")
}

// Take writes a backup of tables, read through r (the change's
// transaction), into a new directory under dir named m.ID.
func Take(ctx context.Context, r dialect.Reader, dir string, m *Manifest, tables []string) error {
	final := filepath.Join(dir, m.ID)
	tmp := final + ".tmp"
	if err := os.MkdirAll(tmp, 0o700); err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	for _, name := range tables {
		t, err := takeTable(ctx, r, tmp, name)
		if err != nil {
			return fmt.Errorf("table %q: %w", name, dialect.Explain(r, err))
		}
		m.Tables = append(m.Tables, *t)
	}
	if err := writeManifest(tmp, m); err != nil {
		return err
	}
	if err := os.Rename(tmp, final); err != nil {
		return err
	}
	m.Dir = final
	return nil
}

func takeTable(ctx context.Context, r dialect.Reader, dir, name string) (*Table, error) {
	desc, err := r.Describe(ctx, name)
	if err != nil {
		return nil, err
	}
	t := &Table{Name: name, Key: desc.PrimaryKey}
	var names []string
	for _, c := range desc.Columns {
		if !c.Generated {
			t.Columns = append(t.Columns, serialize.Column{Name: c.Name, Type: c.Type, Scale: c.Scale, Nullable: c.Nullable})
			names = append(names, c.Name)
		}
	}
	f, err := os.OpenFile(tableFile(dir, name), os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	w := bufio.NewWriterSize(f, 1<<16)
	var line []byte
	scan := *desc
	scan.Filter = ""
	err = r.ReadRows(ctx, &scan, names, t.Key, func(values []any) error {
		line = append(line[:0], '[')
		for i, v := range values {
			if i > 0 {
				line = append(line, ',')
			}
			var err error
			if line, err = serialize.AppendCell(line, &t.Columns[i], v); err != nil {
				return fmt.Errorf("column %q: %w", names[i], err)
			}
		}
		line = append(line, ']', '\n')
		t.Rows++
		_, err := w.Write(line)
		return err
	})
	if err == nil {
		err = w.Flush()
	}
	if err == nil {
		err = f.Sync()
	}
	return t, err
}

func writeManifest(dir string, m *Manifest) error {
	data, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return err
	}
	var size int64
	filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			if info, err := d.Info(); err == nil {
				size += info.Size()
			}
		}
		return nil
	})
	m.Bytes = size + int64(len(data))
	if data, err = json.MarshalIndent(m, "", "  "); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, manifestFile), append(data, '\n'), 0o600)
}

// SetIdentity records the identity of a database that got its first one
// in the change the backup was taken before.
func SetIdentity(m *Manifest, identity string) error {
	m.Identity = identity
	return writeManifest(m.Dir, m)
}

// List returns the backups under dir, newest first.
func List(dir string) ([]*Manifest, error) {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out []*Manifest
	for _, e := range entries {
		if !e.IsDir() || strings.HasSuffix(e.Name(), ".tmp") {
			continue
		}
		m, err := Read(filepath.Join(dir, e.Name()))
		if errors.Is(err, fs.ErrNotExist) {
			continue // a backup whose removal was killed half-way: Prune finishes it
		}
		if err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Taken.After(out[j].Taken) })
	return out, nil
}

// Read reads the manifest of the backup in dir.
func Read(dir string) (*Manifest, error) {
	data, err := os.ReadFile(filepath.Join(dir, manifestFile))
	if err != nil {
		return nil, fmt.Errorf("backup %s: %w", dir, err)
	}
	m := &Manifest{}
	if err := json.Unmarshal(data, m); err != nil {
		return nil, fmt.Errorf("backup %s: %s: %w", dir, manifestFile, err)
	}
	m.Dir = dir
	return m, nil
}

// Prune removes the oldest backups under dir beyond keep, and what
// killed runs left there: a backup being taken (name.tmp, an hour old or
// more, so that a run writing one into a shared folder is left alone) and
// one being removed (no manifest any more). It returns how many
// leftovers it removed.
func Prune(dir string, keep int) (int, error) {
	all, err := List(dir)
	if err != nil {
		return 0, err
	}
	for i := keep; i < len(all); i++ {
		if err := os.RemoveAll(all[i].Dir); err != nil {
			return 0, err
		}
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return 0, err
	}
	left := 0
	for _, e := range entries {
		p := filepath.Join(dir, e.Name())
		info, err := e.Info()
		if !e.IsDir() || err != nil {
			continue
		}
		_, merr := os.Stat(filepath.Join(p, manifestFile))
		taking := strings.HasSuffix(e.Name(), ".tmp")
		if taking && time.Since(info.ModTime()) > time.Hour || !taking && errors.Is(merr, fs.ErrNotExist) {
			if err := os.RemoveAll(p); err != nil {
				return left, err
			}
			left++
		}
	}
	return left, nil
}
