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
	// What is not a password stays.
	for _, text := range []string{"postgres://u@127.0.0.1:5432/db?sslmode=disable", "sqlite:var/dev.db", `table "a": column "b": 1 → 2`} {
		if got := dialect.Redact(text); got != text {
			t.Errorf("Redact(%q) = %q", text, got)
		}
	}
}
