package postgres_test

import (
	"testing"

	"github.com/gitdbsync/git-dbsync/gitdb/dialect/dialecttest"
	_ "github.com/gitdbsync/git-dbsync/gitdb/dialect/postgres"
)

// The postgres dialect passes the conformance suite against a real database.
func TestConformance(t *testing.T) { dialecttest.Run(t, "postgres") }
