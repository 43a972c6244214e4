package dialect

import (
	"strings"
	"testing"
)

func TestThousands(t *testing.T) {
	for n, want := range map[int64]string{0: "0", 999: "999", 1000: "1,000", 131072: "131,072", 2147483647: "2,147,483,647", -1234: "-1,234"} {
		if got := Thousands(n); got != want {
			t.Errorf("Thousands(%d) = %q, want %q", n, got, want)
		}
	}
}

// The refusal names the estimate and both of the cluster's bounds, "no
// limit" for one that is 0.
func TestWritesetErrorNamesBothNumbers(t *testing.T) {
	e := &WritesetError{Rows: 400004, Changes: 200000, Bytes: 52847884, MaxRows: 131072}
	msg := e.Error()
	for _, want := range []string{"about 400,004 rows (200,000 rows changed, each with its ledger image) and 52,847,884 bytes",
		"(wsrep_max_ws_rows = 131,072, wsrep_max_ws_size = no limit): nothing written\nhint: "} {
		if !strings.Contains(msg, want) {
			t.Errorf("%q lacks %q", msg, want)
		}
	}
}
