// Package schemas holds the JSON Schemas of every file git dbsync writes
// and of its --json reports: table.json (table.schema.json), row files and
// lines (row.schema.json, whose $defs give the canonical form of each
// logical type), lock files, and the reports of plan, diff, status, apply
// and rollback, export and hooks status. They are embedded so that tools
// and tests read the published versions.
package schemas

import "embed"

// FS holds the *.schema.json files.
//
//go:embed *.schema.json
var FS embed.FS

// Base is the URL prefix of the schemas' $id.
const Base = "https://gitdbsync.dev/schemas/"
