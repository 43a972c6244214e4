// Package dbrows moves rows between a database and the files' form. A row
// has two forms: the database's (surrogate ids, references as ids, text
// holding JSON or PHP values, secrets) and the files' (natural keys,
// references as the referenced row's natural key, decoded values,
// placeholders for secrets, excluded paths left out). Plans, merges and
// the ledger only see the files' form.
//
// It holds the catalog of a database's config tables as .dbsync sees them
// (ReadCatalog, or Target for a table described by a revision), the
// Translator between the forms, Source, which reads a table's rows in key
// order (sorting in memory when the engine's order is not the files'), and
// Writer, which writes a plan's ops in batches in one transaction.
//
// Contract: every row a Writer writes is translated before the first
// write, so that a reference nothing satisfies fails with nothing written;
// a placeholder is never written into a database.
package dbrows
