// Package dialect is the one interface git dbsync uses to talk to a
// database engine, and the registry of engines by URL scheme. Each engine
// lives in a sub-package that registers itself from init; the engine
// reports its catalog with logical types and streams rows in key order.
//
// Contract: identifiers come only from the catalog and are always quoted by
// the engine; values always travel as parameters.
package dialect

import (
	"bufio"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gitdbsync/git-dbsync/serialize"
)

// Column is a column as the catalog describes it.
type Column struct {
	Name      string
	DeclType  string         // the engine's declared type, for messages
	Type      serialize.Type // the logical type it maps to
	Scale     int            // decimal places of a decimal column, -1 when not fixed
	Nullable  bool
	Generated bool // computed by the engine; never written
	// Limit is the most a value of the column holds, where the engine
	// refuses more: digits before the point of a decimal, characters of a
	// text; 0 for none. Writes check it first, to name the row.
	Limit int
}

// ForeignKey is a declared reference from Columns to RefColumns of RefTable.
type ForeignKey struct {
	Columns    []string
	RefTable   string
	RefColumns []string
}

// Table is a table as the catalog describes it.
type Table struct {
	Name        string
	Columns     []Column
	PrimaryKey  []string
	Unique      [][]string // unique constraints and unique indexes (not partial)
	ForeignKeys []ForeignKey
	// Filter, when set, is an SQL condition (from .dbsync, trusted like
	// the code) that ReadRows keeps rows by: a table's row scope.
	Filter string
	// Keys, when set, limits ReadRows to the rows whose key columns (the
	// key it is given, in that order) hold one of these tuples of
	// parameters: a plan reads only the rows a release changes.
	Keys [][]any
	// Limit, when above 0, is the most rows ReadRows returns, the first
	// in its order: an export tells a small table from a big one without
	// reading the big one whole (a read stopped early is still read to
	// its end by the drivers, which drain what the server sends).
	Limit int
}

// Column returns the named column, or nil.
func (t *Table) Column(name string) *Column {
	for i := range t.Columns {
		if t.Columns[i].Name == name {
			return &t.Columns[i]
		}
	}
	return nil
}

// NotNull reports whether every one of cols exists and is NOT NULL.
func (t *Table) NotNull(cols []string) bool {
	for _, c := range cols {
		if col := t.Column(c); col == nil || col.Nullable {
			return false
		}
	}
	return true
}

// IsUnique reports whether cols (in any order) are the primary key or a
// unique constraint, so that they identify a row.
func (t *Table) IsUnique(cols []string) bool {
	same := func(a []string) bool {
		if len(a) != len(cols) || len(a) == 0 {
			return false
		}
		x, y := append([]string(nil), a...), append([]string(nil), cols...)
		sort.Strings(x)
		sort.Strings(y)
		return strings.Join(x, "\x00") == strings.Join(y, "\x00")
	}
	if same(t.PrimaryKey) {
		return true
	}
	for _, u := range t.Unique {
		if same(u) {
			return true
		}
	}
	return false
}

// Reader reads the catalog and rows of a database.
type Reader interface {
	// Tables lists the user tables, sorted by name.
	Tables(ctx context.Context) ([]string, error)
	// Describe returns the catalog entry of one table.
	Describe(ctx context.Context, table string) (*Table, error)
	// CountRows returns the number of rows of a table.
	CountRows(ctx context.Context, table string) (int64, error)
	// ReadRows streams the given columns of every row of a table, ordered
	// by the key columns in serialize's key order (binary for text). fn
	// receives one driver value per column, a value in the engine's text
	// form as a *[]byte that is valid only until fn returns (what
	// serialize.AppendCell reads); the slice is reused.
	ReadRows(ctx context.Context, table *Table, columns, key []string, fn func(values []any) error) error
	// Query runs a query with "?" placeholders; fn gets each row's values.
	Query(ctx context.Context, query string, args []any, fn func(values []any) error) error
	// Quote quotes a table's or column's name for the engine's SQL.
	Quote(name string) string
}

// TablesDescriber is a Reader that describes many tables in a few
// queries, whatever their number, rather than a few queries a table: a
// round trip to a server costs more than the rows of a small table.
type TablesDescriber interface {
	// DescribeTables returns the catalog entries of the tables, by name;
	// a table the database lacks is an error, as for Describe.
	DescribeTables(ctx context.Context, tables []string) (map[string]*Table, error)
}

// DescribeTables describes tables at once where the engine can
// (TablesDescriber), else one by one.
func DescribeTables(ctx context.Context, db Reader, tables []string) (map[string]*Table, error) {
	if d, ok := db.(TablesDescriber); ok && len(tables) > 1 {
		return d.DescribeTables(ctx, tables)
	}
	out := make(map[string]*Table, len(tables))
	for _, name := range tables {
		t, err := db.Describe(ctx, name)
		if err != nil {
			return nil, err
		}
		out[name] = t
	}
	return out, nil
}

// Dialect is an open connection to one database.
type Dialect interface {
	Reader
	// Begin starts a write transaction holding the database's write lock
	// until Commit or Rollback, so that what is read in it is what is
	// overwritten.
	Begin(ctx context.Context) (Tx, error)
	// BeginLoad starts a write transaction, like Begin, for loading rows
	// in bulk: where the engine allows it, foreign keys are neither
	// enforced nor acted on (no cascades) until COMMIT, which checks every
	// foreign key from or to a table written first.
	BeginLoad(ctx context.Context) (Tx, error)
	// SetReadOnly makes every later read of this connection run in one
	// read-only transaction, ended by Close: what reads a database without
	// changing it (export, plan, diff, status) cannot write to it, whatever
	// a row scope's predicate holds, and Begin fails. Nothing of it stays
	// on the server's connection for a pool's next client.
	SetReadOnly(ctx context.Context) error
	// SetLockTimeout bounds how long a statement of a later write
	// transaction waits for a lock another session holds; a wait that times
	// out fails with a *BusyError from the transaction's Explain. The
	// setting lives as long as each transaction.
	SetLockTimeout(ctx context.Context, d time.Duration) error
	// Close releases the connection.
	Close() error
}

// Tx is a write transaction. Cells are canonical (serialize); the engine
// converts them to its own types.
type Tx interface {
	Reader
	// Exec runs a statement with "?" placeholders.
	Exec(ctx context.Context, query string, args ...any) error
	// Insert inserts rows, each a cell per column of cols.
	Insert(ctx context.Context, table string, cols []serialize.Column, rows [][]serialize.Cell) error
	// Update sets, in the row whose key columns hold keys[i], the columns
	// cols to vals[i]. It is an error when a key matches no row.
	Update(ctx context.Context, table string, keyCols []serialize.Column, keys [][]serialize.Cell, cols []serialize.Column, vals [][]serialize.Cell) error
	// Delete deletes the rows whose key columns hold keys. It is an error
	// when a key matches no row.
	Delete(ctx context.Context, table string, keyCols []serialize.Column, keys [][]serialize.Cell) error
	// DeleteWhere deletes the rows of table that meet filter (an SQL
	// condition from .dbsync), every row when filter is "", and returns how
	// many it deleted.
	DeleteWhere(ctx context.Context, table, filter string) (int64, error)
	// NextIDs allocates n new ids for the integer column (a table's
	// surrogate key) the way the application's own inserts would not
	// collide with: from the column's sequence where it has one, else past
	// the largest value ever used.
	NextIDs(ctx context.Context, table, column string, n int) ([]int64, error)
	// RaiseTo sets column to value in every row of table where it is
	// lower: a counter of the sequence class advanced past inserted ids.
	RaiseTo(ctx context.Context, table, column string, value int64) error
	Commit() error
	Rollback() error
}

// WriteChecker is implemented by engines that can tell, before a change
// starts, whether the database takes writes at all.
type WriteChecker interface {
	// ReadOnly returns why the database cannot take a write, as a phrase
	// that completes "the target is …" ("a read-only standby
	// (pg_is_in_recovery)", "a read-only file"), or "" when it can. A
	// connection made read-only by SetReadOnly is not a reason: the
	// question is about the database.
	ReadOnly(ctx context.Context) (reason string, err error)
}

// ReadOnly asks a database's engine why it cannot take a write; "" when
// it can, or when the engine cannot tell (then the write itself will).
func ReadOnly(ctx context.Context, db Dialect) (string, error) {
	if wc, ok := db.(WriteChecker); ok {
		return wc.ReadOnly(ctx)
	}
	return "", nil
}

// Locator is implemented by engines that can name the database a
// connection reached as the database itself, not the URL: the same for
// two URLs of one database (a relative and an absolute path, localhost
// and 127.0.0.1, a pooler in front, a standby of it), different for two
// databases.
type Locator interface {
	Where(ctx context.Context) (string, error)
}

// SameDatabase reports whether a and b reached one database, where both
// engines can tell.
func SameDatabase(ctx context.Context, a, b Dialect) (bool, error) {
	la, ok1 := a.(Locator)
	lb, ok2 := b.(Locator)
	if !ok1 || !ok2 {
		return false, nil
	}
	wa, err := la.Where(ctx)
	if err != nil {
		return false, err
	}
	wb, err := lb.Where(ctx)
	return err == nil && wa == wb, err
}

// CellChecker is implemented by engines that cannot store some values
// the others take (PostgreSQL's text, the NUL character): CheckCell says
// why a cell of a column, in the files' form, cannot be written; nil when
// it can. A plan asks it of every cell it writes, so that plan refuses
// what apply would.
type CellChecker interface {
	CheckCell(c serialize.Column, cell serialize.Cell) error
}

// DDLCommits is implemented by engines where DDL ends a transaction
// (MySQL, MariaDB): git dbsync then creates its own tables before the
// apply's transaction instead of inside it, in one from BeginDDL, which
// records nothing but the DDL (no cluster lock row).
type DDLCommits interface {
	DDLCommits() bool
	BeginDDL(ctx context.Context) (Tx, error)
}

// Opener opens a database from a URL. root is the repository root, against
// which relative file paths are resolved.
type Opener func(ctx context.Context, url, root string) (Dialect, error)

var (
	mu      sync.Mutex
	openers = map[string]Opener{}
)

// Register makes an engine available for URLs of the given scheme.
func Register(scheme string, open Opener) {
	mu.Lock()
	defer mu.Unlock()
	openers[scheme] = open
}

// Open opens the database a URL names, by its scheme.
func Open(ctx context.Context, url, root string) (Dialect, error) {
	scheme, _, ok := strings.Cut(url, ":")
	mu.Lock()
	open := openers[scheme]
	mu.Unlock()
	if !ok || open == nil {
		return nil, fmt.Errorf("unsupported database URL %q (want %s)", Redact(url), schemes())
	}
	db, err := open(ctx, url, root)
	if err != nil {
		return nil, redactedError{err}
	}
	return db, nil
}

// redactedError hides passwords in an engine's error, which may echo the
// URL or connection string it was given.
type redactedError struct{ err error }

func (e redactedError) Error() string { return Redact(e.err.Error()) }
func (e redactedError) Unwrap() error { return e.err }

func schemes() string {
	mu.Lock()
	defer mu.Unlock()
	var s []string
	for k := range openers {
		s = append(s, k+":")
	}
	sort.Strings(s)
	return strings.Join(s, " or ")
}

// QuoteNames lists the columns' names, each quoted, comma-separated.
func QuoteNames(cols []serialize.Column, quote func(string) string) string {
	q := make([]string, len(cols))
	for i, c := range cols {
		q[i] = quote(c.Name)
	}
	return strings.Join(q, ", ")
}

// Where returns " WHERE (filter)" for a table with a row filter, else "".
func Where(t *Table) string {
	if t.Filter == "" {
		return ""
	}
	return " WHERE (" + t.Filter + ")"
}

// ReadWhere is the WHERE clause of ReadRows: the row scope, and the key
// tuples of t.Keys as parameters (mark(n) is the engine's placeholder for
// the n-th, counting from 1), in a row value IN list, which every engine
// answers from the key's index.
func ReadWhere(t *Table, key []string, quote func(string) string, mark func(n int) string) (string, []any) {
	where := Where(t)
	if len(t.Keys) == 0 {
		return where, nil
	}
	cols := make([]string, len(key))
	for i, k := range key {
		cols[i] = quote(k)
	}
	var b strings.Builder
	args := make([]any, 0, len(t.Keys)*len(key))
	for i, tuple := range t.Keys {
		if i > 0 {
			b.WriteString(", ")
		}
		if len(key) > 1 {
			b.WriteByte('(')
		}
		for j, v := range tuple {
			if j > 0 {
				b.WriteString(", ")
			}
			args = append(args, v)
			b.WriteString(mark(len(args)))
		}
		if len(key) > 1 {
			b.WriteByte(')')
		}
	}
	in := strings.Join(cols, ", ")
	if len(key) > 1 {
		in = "(" + in + ")"
	}
	in += " IN (" + b.String() + ")"
	if where == "" {
		return " WHERE " + in, args
	}
	return where + " AND " + in, args
}

// ReadLimit is the clause of ReadRows after its ORDER BY: " LIMIT n"
// when t.Limit is set, the same on every engine.
func ReadLimit(t *Table) string {
	if t.Limit <= 0 {
		return ""
	}
	return " LIMIT " + strconv.Itoa(t.Limit)
}

// WriteTabText writes s in the tab-separated text that PostgreSQL's COPY
// and MySQL's LOAD DATA read: backslash, tab, newline and carriage return
// escaped with a backslash, and NUL too where the engine reads "\0" for
// it (MySQL; PostgreSQL's text holds no NUL).
func WriteTabText(w *bufio.Writer, s string, nul bool) {
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '\\':
			w.WriteString(`\\`)
		case c == '\t':
			w.WriteString(`\t`)
		case c == '\n':
			w.WriteString(`\n`)
		case c == '\r':
			w.WriteString(`\r`)
		case c == 0 && nul:
			w.WriteString(`\0`)
		default:
			w.WriteByte(c)
		}
	}
}

// Encoder streams what encode writes to an engine's bulk load (COPY FROM
// STDIN, LOAD DATA LOCAL): encode runs on a goroutine of its own the
// first time the engine reads, so that rows are encoded while the engine
// parses those before them, not all first.
type Encoder struct {
	encode  func(w *bufio.Writer) error
	pr      *io.PipeReader
	started bool
	done    chan error
}

// NewEncoder returns the encoder of what encode writes.
func NewEncoder(encode func(w *bufio.Writer) error) *Encoder {
	return &Encoder{encode: encode, done: make(chan error, 1)}
}

// Reader starts the encoding and returns what the engine reads.
func (e *Encoder) Reader() io.Reader {
	pr, pw := io.Pipe()
	e.pr, e.started = pr, true
	go func() {
		w := bufio.NewWriterSize(pw, 64<<10)
		err := e.encode(w)
		if err == nil {
			err = w.Flush()
		}
		pw.CloseWithError(err)
		e.done <- err
	}()
	return pr
}

// Close stops the encoding if the engine stopped reading first, and
// returns the error of encode: a value it could not encode, which cut the
// load short. Nil when the engine never read.
func (e *Encoder) Close() error {
	if !e.started {
		return nil
	}
	e.pr.CloseWithError(errors.New("load ended"))
	return <-e.done
}

// Question is the "?" placeholder of SQLite and MySQL, for ReadWhere.
func Question(int) string { return "?" }

// Consecutive returns the n ids after last.
func Consecutive(last int64, n int) []int64 {
	ids := make([]int64, n)
	for i := range ids {
		ids[i] = last + int64(i) + 1
	}
	return ids
}

// EachRow calls fn with the values of every row of a database/sql result;
// the slice is reused.
func EachRow(rows *sql.Rows, fn func(values []any) error) error {
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return err
	}
	vals := make([]any, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return err
		}
		if err := fn(vals); err != nil {
			return err
		}
	}
	return rows.Err()
}

// Batches calls fn with consecutive ranges [lo, hi) of at most size of n
// items: the rows of one multi-row statement.
func Batches(n, size int, fn func(lo, hi int) error) error {
	for lo := 0; lo < n; lo += size {
		if err := fn(lo, min(lo+size, n)); err != nil {
			return err
		}
	}
	return nil
}

// CheckAffected reports a statement that changed another number of rows
// than it had keys: a row missing from the target.
func CheckAffected(n int64, want int) error {
	if n != int64(want) {
		return fmt.Errorf("expected to change %d rows, changed %d: a row is missing from the target", want, n)
	}
	return nil
}

// ReferenceOrder orders items, each a table named with the tables it
// refers to, so that every one comes after those it refers to; a cycle
// keeps the items' order.
func ReferenceOrder[T any](items []T, table func(T) (name string, parents []string)) []T {
	byName := map[string]T{}
	for _, it := range items {
		name, _ := table(it)
		byName[name] = it
	}
	var out []T
	state := map[string]int{} // 1 visiting, 2 done
	var visit func(it T)
	visit = func(it T) {
		name, parents := table(it)
		if state[name] != 0 {
			return
		}
		state[name] = 1
		for _, p := range parents {
			if parent, ok := byName[p]; ok && p != name {
				visit(parent)
			}
		}
		state[name] = 2
		out = append(out, it)
	}
	for _, it := range items {
		visit(it)
	}
	return out
}
