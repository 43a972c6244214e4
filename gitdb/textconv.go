package gitdb

import (
	"bufio"
	"bytes"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/gitdbsync/git-dbsync/gitdb/config"
	"github.com/gitdbsync/git-dbsync/serialize"
)

// Textconv is the git diff driver of lines files ("git dbsync textconv
// FILE"): it writes each row as a header "== key" followed by the row
// pretty-printed, one column a line, so that git diff and git log -p show
// which row changed (diff.dbsync.xfuncname puts the key in hunk headers)
// and which cells. git hands it a temporary copy of old versions, so the
// table is found by its columns among the table.json files under the
// export directory of the repository it runs in.
func Textconv(dir, file string, w io.Writer) error {
	f, err := os.Open(file)
	if err != nil {
		return err
	}
	defer f.Close()
	out := bufio.NewWriter(w)
	defer out.Flush()
	r := bufio.NewReaderSize(f, 1<<16)
	var metas []*serialize.Table
	metasRead := false
	for {
		line, err := r.ReadBytes('\n')
		if len(bytes.TrimSpace(line)) > 0 {
			n, perr := serialize.Parse(line)
			if perr != nil || n.Kind != serialize.Object {
				out.Write(line) // not a row: as it is
			} else {
				if !metasRead {
					metas, metasRead = tablesUnder(dir), true
				}
				meta := matchTable(metas, &n)
				writeRowText(out, meta, &n, line)
			}
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

func writeRowText(out *bufio.Writer, meta *serialize.Table, n *serialize.Node, line []byte) {
	key := ""
	if meta != nil {
		if row, err := meta.DecodeRow(line); err == nil {
			key = serialize.SpellKey(meta.KeyText(row))
		}
	}
	if key == "" && len(n.Members) > 0 { // no table found: name the row by its first member
		first := slices.MinFunc(n.Members, func(a, b serialize.Member) int { return strings.Compare(a.Name, b.Name) })
		v, _ := serialize.AppendCanonical(nil, &first.Value, "", "")
		key = first.Name + "=" + string(v)
	}
	out.WriteString("== " + key + "\n")
	pretty, err := serialize.AppendCanonical(nil, n, "  ", "")
	if err != nil {
		out.Write(line)
		return
	}
	out.Write(pretty)
	out.WriteByte('\n')
}

// tablesUnder reads every table.json under the export directory of the
// repository containing dir.
func tablesUnder(dir string) []*serialize.Table {
	root, err := FindRoot(dir)
	if err != nil {
		return nil
	}
	exportDir := config.DefaultDir
	if cfg, err := config.Load(root); err == nil {
		exportDir = cfg.Dir
	}
	files, _ := filepath.Glob(filepath.Join(root, filepath.FromSlash(exportDir), "*", serialize.MetaFile))
	var out []*serialize.Table
	for _, p := range files {
		if data, err := os.ReadFile(p); err == nil {
			if meta, err := serialize.UnmarshalMeta(data); err == nil {
				out = append(out, meta)
			}
		}
	}
	return out
}

// matchTable returns the table whose columns are exactly a row's members.
func matchTable(metas []*serialize.Table, n *serialize.Node) *serialize.Table {
	for _, m := range metas {
		if len(m.Columns) != len(n.Members) {
			continue
		}
		ok := true
		for _, mem := range n.Members {
			if m.Index(mem.Name) < 0 {
				ok = false
				break
			}
		}
		if ok {
			return m
		}
	}
	return nil
}
