package dialect_test

import (
	"strings"
	"testing"

	"github.com/gitdbsync/git-dbsync/gitdb/dialect"
	"github.com/gitdbsync/git-dbsync/internal/dbtest"
)

func TestRedactEveryForm(t *testing.T) {
	for _, form := range dbtest.PasswordForms {
		for _, text := range []string{form, `cannot parse "` + form + `": invalid port`, "connecting to `" + form + "` failed"} {
			if got := dialect.Redact(text); strings.Contains(got, "s3cr3t") {
				t.Errorf("Redact(%q) = %q", text, got)
			}
		}
	}
	// User names are hidden too: a token may be passed as one.
	for text, want := range map[string]string{
		"postgres://tok3n@127.0.0.1:5432/db?sslmode=disable": "postgres://xxxxx@127.0.0.1:5432/db?sslmode=disable",
		"error: mysql://tok3n:pw@h/db failed":                "error: mysql://xxxxx:xxxxx@h/db failed",
		"tok3n:pw@tcp(h:1)/db":                               "xxxxx:xxxxx@tcp(h:1)/db",
	} {
		if got := dialect.Redact(text); got != want {
			t.Errorf("Redact(%q) = %q, want %q", text, got, want)
		}
	}
	// What is not a secret stays.
	for _, text := range []string{"postgres://127.0.0.1:5432/db?sslmode=disable", "sqlite:var/dev.db", `table "a": column "b": 1 → 2`} {
		if got := dialect.Redact(text); got != text {
			t.Errorf("Redact(%q) = %q", text, got)
		}
	}
}
