package serialize

import (
	"crypto/sha256"
	"encoding/hex"
	"path"
	"strings"
)

// File names. Every name written is derived from data (table names, key
// values) by FileName, which is injective and portable: only lowercase
// ASCII letters, digits and "-_.,!%~" appear; upper case letters become
// "!" and the letter, every other byte "%" and two lowercase hex digits.
// So no two keys share a name even on a case-insensitive file system, and
// no name is "", ".", "..", hidden, contains a separator, ends in a dot or
// space, or is reserved on Windows.

// maxName bounds a file name (without extension). Longer names keep a
// readable prefix and end in "~" and a hash of the whole name.
const maxName = 120

var windowsReserved = map[string]bool{"con": true, "prn": true, "aux": true, "nul": true}

func init() {
	for _, d := range "0123456789" {
		windowsReserved["com"+string(d)] = true
		windowsReserved["lpt"+string(d)] = true
	}
}

// FileName returns the portable name for a key: its parts escaped and
// joined by commas.
func FileName(parts ...string) string {
	var b strings.Builder
	for i, p := range parts {
		if i > 0 {
			b.WriteByte(',')
		}
		escapePart(&b, p)
	}
	name := b.String()
	if len(name) > maxName {
		sum := sha256.Sum256([]byte(name))
		cut := maxName - 17
		for cut > 0 && (name[cut-1] == '%' || name[cut-1] == '!' || (cut > 1 && name[cut-2] == '%')) {
			cut-- // do not split an escape
		}
		name = name[:cut] + "~" + hex.EncodeToString(sum[:8])
	}
	return name
}

func escapePart(b *strings.Builder, s string) {
	const hexDigits = "0123456789abcdef"
	if s == "" {
		b.WriteByte('%') // a lone "%" is never otherwise produced
		return
	}
	stem, _, _ := strings.Cut(strings.ToLower(s), ".")
	reserved := windowsReserved[stem]
	for i := 0; i < len(s); i++ {
		c := s[i]
		plain := c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_' ||
			c == '.' && i > 0 && i < len(s)-1
		switch {
		case reserved && i == 0:
		case plain:
			b.WriteByte(c)
			continue
		case c >= 'A' && c <= 'Z':
			b.WriteByte('!')
			b.WriteByte(c + 'a' - 'A')
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hexDigits[c>>4])
		b.WriteByte(hexDigits[c&0xf])
	}
}

// Paths of the files of a table, relative to the export directory.
const (
	MetaFile  = "table.json"
	RowsDir   = "rows"
	LinesFile = "rows.jsonl"
	RowExt    = ".json"
)

// TableDir returns the directory of a table's files, relative to the
// export directory.
func TableDir(table string) string { return FileName(table) }

// RowPath returns the path of a row file relative to the export directory.
func (t *Table) RowPath(r Row) string {
	return path.Join(TableDir(t.Name), RowsDir, t.RowFile(r))
}

// RowFile returns the name of a row's file in its table's rows directory.
func (t *Table) RowFile(r Row) string { return FileName(t.KeyText(r)...) + RowExt }

// IsRowFile reports whether a name in a rows directory is a row file:
// FileName never starts a name with a dot, temporary files do.
func IsRowFile(name string) bool {
	return strings.HasSuffix(name, RowExt) && !strings.HasPrefix(name, ".")
}

// DescribeKey names a row by its key for messages: name="home".
func (t *Table) DescribeKey(r Row) string {
	var parts []string
	for i, k := range t.KeyIndexes() {
		parts = append(parts, t.Key[i]+"="+string(r[k]))
	}
	return strings.Join(parts, ", ")
}
