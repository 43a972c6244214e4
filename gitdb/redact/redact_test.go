package redact

import (
	"encoding/base64"
	"errors"
	"math/rand/v2"
	"regexp"
	"strings"
	"testing"

	"github.com/gitdbsync/git-dbsync/gitdb/config"
	"github.com/gitdbsync/git-dbsync/gitdb/dialect"
	"github.com/gitdbsync/git-dbsync/serialize"
)

func users() (*dialect.Table, []serialize.Column) {
	desc := &dialect.Table{Name: "users", PrimaryKey: []string{"id"}, Columns: []dialect.Column{
		{Name: "id", Type: serialize.Int},
		{Name: "login", Type: serialize.Text},
		{Name: "mail", Type: serialize.Text},
		{Name: "pass", Type: serialize.Text, Limit: 20},
		{Name: "phone", Type: serialize.Text, Nullable: true},
		{Name: "prefs", Type: serialize.JSON, Nullable: true},
		{Name: "bio", Type: serialize.Text, Nullable: true},
	}}
	cols := make([]serialize.Column, len(desc.Columns))
	for i, c := range desc.Columns {
		cols[i] = serialize.Column{Name: c.Name, Type: c.Type, Nullable: c.Nullable}
	}
	return desc, cols
}

func label(key string) string { return "id=" + key }

func parse(t *testing.T, dbsync string) *config.Table {
	t.Helper()
	cfg, err := config.Parse("/repo", ".dbsync", []byte(dbsync))
	if err != nil {
		t.Fatal(err)
	}
	return cfg.Tables["users"]
}

const rules = `[table "users"]
	redact = login name
	redact = mail email
	redact = pass hash
	redact = phone digits
	redact = prefs.api.secret null
	redact = prefs.owner constant:nobody
`

func row(cells ...string) []serialize.Cell {
	out := make([]serialize.Cell, len(cells))
	for i, c := range cells {
		out[i] = serialize.Cell(c)
	}
	return out
}

func TestRulesRewriteEveryValue(t *testing.T) {
	desc, cols := users()
	tab, err := Compile(desc, cols, parse(t, rules), []byte("key"))
	if err != nil {
		t.Fatal(err)
	}
	cells := row(`7`, `"ann"`, `"ann@corp.example"`, `"$2y$10$abcdefghijklmnop"`, `"+44 20 7946 0018"`, `{"api":{"secret":"s3cr3t"},"owner":"ann","theme":"dark"}`, `"hello"`)
	if err := tab.Apply("7", label, cells); err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for i, c := range cols {
		got[c.Name] = string(cells[i])
	}
	checks := map[string]string{
		"id":    `^7$`,
		"login": `^"[a-z]+\.[a-z]+7"$`,
		"mail":  `^"user7@example\.invalid"$`,
		"pass":  `^"[0-9a-f]{20}"$`, // cut to the column's limit
		"phone": `^"\+[0-9]{2} [0-9]{2} [0-9]{4} [0-9]{4}"$`,
		"prefs": `^\{"api":\{"secret":null\},"owner":"nobody","theme":"dark"\}$`,
		"bio":   `^"hello"$`,
	}
	for col, re := range checks {
		if !regexp.MustCompile(re).MatchString(got[col]) {
			t.Errorf("%s = %s, want %s", col, got[col], re)
		}
	}
	if got["phone"] == `"+44 20 7946 0018"` {
		t.Errorf("phone kept its digits")
	}

	// The same key and values give the same result; another key, another.
	again := row(`7`, `"ann"`, `"ann@corp.example"`, `"$2y$10$abcdefghijklmnop"`, `"+44 20 7946 0018"`, `null`, `null`)
	tab.Apply("7", label, again)
	other, _ := Compile(desc, cols, parse(t, rules), []byte("other key"))
	third := row(`7`, `"ann"`, `"ann@corp.example"`, `"$2y$10$abcdefghijklmnop"`, `"+44 20 7946 0018"`, `null`, `null`)
	other.Apply("7", label, third)
	for i := 1; i <= 4; i++ {
		if string(again[i]) != got[cols[i].Name] {
			t.Errorf("%s: %s then %s", cols[i].Name, got[cols[i].Name], again[i])
		}
	}
	if string(third[3]) == string(again[3]) {
		t.Errorf("another key made the same hash %s", third[3])
	}
}

func TestSensitiveColumnsNeedARule(t *testing.T) {
	desc, cols := users()
	_, err := Compile(desc, cols, nil, []byte("k"))
	var missing *MissingRuleError
	if !errors.As(err, &missing) || strings.Join(missing.Columns, " ") != "mail pass" {
		t.Fatalf("Compile without rules: %v", err)
	}
	// A column .dbsync names secret needs one too.
	opts := parse(t, "[table \"users\"]\n\tsecret = bio\n\tredact = mail email\n\tredact = pass hash\n")
	if _, err := Compile(desc, cols, opts, []byte("k")); !errors.As(err, &missing) || strings.Join(missing.Columns, " ") != "bio" ||
		!strings.Contains(err.Error(), "secrets (.dbsync names it secret)") {
		t.Errorf("a secret column without a rule: %v", err)
	}
	// A value gives a column away that its name does not.
	tab, err := Compile(desc, cols, parse(t, rules), []byte("k"))
	if err != nil {
		t.Fatal(err)
	}
	// Wherever they stand in the text: an address in prose, a hash, a
	// token, an IBAN, a social security number, a phone number.
	for _, bio := range []string{`"bob@mail.example.org"`, `"pbkdf2_sha256$600000$x$y"`, `"1700000000:$P$Babc"`,
		`"mail me at a@b.example, costs $5"`, `"key AKIAIOSFODNN7EXAMPLE here"`, `"pay to DE89 3704 0044 0532 0130 00 please"`,
		`"ssn 078-05-1120"`, `"call +44 20 7946 0958"`, `"eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.abc"`} {
		cells := row(`1`, `"a"`, `"a@b.example"`, `"x"`, `null`, `null`, bio)
		if err := tab.Apply("1", label, cells); !errors.As(err, &missing) || missing.Row != "id=1" {
			t.Errorf("bio %s: %v", bio, err)
		}
	}
	// Prose, prices, dates, version numbers and an IBAN-like word whose
	// sum fails give nothing away.
	for _, bio := range []string{`"costs $5, see v1.2.3 on 2026-12-07"`, `"order DE12 3456 7890 1234 5678 90"`, `"room 101-12-1"`} {
		cells := row(`1`, `"a"`, `"a@b.example"`, `"x"`, `null`, `null`, bio)
		if err := tab.Apply("1", label, cells); err != nil {
			t.Errorf("bio %s: %v", bio, err)
		}
	}
}

// Values inside JSON and BLOB cells, and a bare hex digest in a column
// named like a hash, give a column away too.
func TestSensitiveCells(t *testing.T) {
	for _, c := range []struct {
		name   string
		typ    serialize.Type
		column string
		cell   string
		want   kind
	}{
		{"json address", serialize.JSON, "prefs", `{"a":1,"contact":{"mail":["x","ann@corp.example"]}}`, whatEmail},
		{"json hash", serialize.JSON, "prefs", `{"pw":"$2y$10$abcdefghijklmnopqrstuv"}`, whatPassword},
		{"json clean", serialize.JSON, "prefs", `{"theme":"dark","n":[1,2]}`, kind{}},
		{"blob address", serialize.Bytes, "data", `"` + base64.StdEncoding.EncodeToString([]byte("to: ann@corp.example")) + `"`, whatEmail},
		{"blob binary", serialize.Bytes, "data", `"` + base64.StdEncoding.EncodeToString([]byte{0xff, 0xfe, 0x00, '@'}) + `"`, kind{}},
		{"md5 in pw_hash", serialize.Text, "pw_hash", `"5f4dcc3b5aa765d61d8327deb882cf99"`, whatPassword},
		{"md5 in checksum", serialize.Text, "checksum", `"5f4dcc3b5aa765d61d8327deb882cf99"`, kind{}},
	} {
		if got := sensitiveCell(c.typ, c.column, serialize.Cell(c.cell)); got != c.want {
			t.Errorf("%s: %q, want %q", c.name, got.many, c.want.many)
		}
	}
}

func TestNames(t *testing.T) {
	for name, want := range map[string]string{
		"user_pass": whatPassword.many, "password": whatPassword.many, "userEmail": whatEmail.many, "mail": whatEmail.many,
		"user_activation_key": whatToken.many, "api_token": whatToken.many, "salt": whatToken.many,
		"meta_key": "", "mailbox_size": "", "passage": "", "title": "", "hash": "",
	} {
		if got := sensitiveName(name).many; got != want {
			t.Errorf("sensitiveName(%q) = %q, want %q", name, got, want)
		}
	}
}

func TestRulesTheColumnCannotHold(t *testing.T) {
	desc, cols := users()
	for _, bad := range []string{
		"redact = mail null",          // NOT NULL
		"redact = id email",           // not text
		"redact = bio.x null",         // no JSON in it
		"redact = nosuch keep",        // no such column
		"redact = id constant:twelve", // not an integer
	} {
		_, err := Compile(desc, cols, parse(t, "[table \"users\"]\n\tredact = pass hash\n\t"+bad+"\n"), nil)
		if err == nil || !strings.Contains(err.Error(), ".dbsync:") {
			t.Errorf("%s: %v", bad, err)
		}
	}
	if _, err := config.Parse("/repo", ".dbsync", []byte("[table \"users\"]\n\tredact = mail scramble\n")); err == nil {
		t.Error("an unknown rule loads")
	}
}

// The patterns' pre-checks never hide a match: texts made of the bytes
// the patterns look for, in random orders, are judged as the patterns
// alone judge them.
func TestPreChecksHideNoMatch(t *testing.T) {
	for _, m := range tokenMarks {
		if !strings.ContainsAny(m, tokenBytes) {
			t.Errorf("token mark %q holds none of %q", m, tokenBytes)
		}
	}
	rng := rand.New(rand.NewPCG(1, 2))
	alphabet := "AKIZDEGB0123456789-_ eyJghpsklivtor.@$+"
	for range 200_000 {
		b := make([]byte, 6+rng.IntN(30))
		for i := range b {
			b[i] = alphabet[rng.IntN(len(alphabet))]
		}
		s := string(b)
		if tokenRE.MatchString(s) && !mayHoldToken(s) {
			t.Fatalf("%q: a token the pre-check passes by", s)
		}
		if ibanRE.MatchString(s) && !mayHoldIBAN(s) {
			t.Fatalf("%q: an IBAN shape the pre-check passes by", s)
		}
		if sensitiveText(s).many != "" && !mayBeSensitive([]byte(s)) {
			t.Fatalf("%q: found, though the bytes' check passes it by", s)
		}
		if ssnRE.MatchString(s) && !inRun(ssnRun, s) {
			t.Fatalf("%q: a national identity number the pre-check passes by", s)
		}
	}
	// Texts made of an IBAN's bytes, often of its shape.
	matched := 0
	for range 200_000 {
		b := make([]byte, 10+rng.IntN(30))
		for i := range b {
			b[i] = "DEfr0123456789 _-@"[rng.IntN(18)]
		}
		s := string(b)
		if ibanRE.MatchString(s) {
			matched++
			if !mayHoldIBAN(s) || !mayHoldIBAN(b) {
				t.Fatalf("%q: an IBAN shape the pre-check passes by", s)
			}
		}
	}
	if matched < 1000 {
		t.Fatalf("only %d of the texts have an IBAN's shape: the check above checks little", matched)
	}
	for _, s := range []string{"key AKIAABCDEFGHIJKLMNOP here", "DE89 3704 0044 0532 0130 00", "ssn 078-05-1120.",
		"temporary ASIAABCDEFGHIJKLMNOP", "github_pat_11ABCDEFG0123456789abcd_efghijklmnop", "fr76 3000 6000 0112 3456 7890 189"} {
		if sensitiveText(s).many == "" {
			t.Errorf("%q: not found", s)
		}
	}
}

// A rule that rewrites part of a value leaves the rest, which is scanned:
// an address beside the phone number a digits rule rewrites stops the
// copy; so does a value at another path of a JSON text decoded by its
// codec than the path rules name.
func TestWhatARuleLeavesIsScanned(t *testing.T) {
	desc, cols := users()
	tab, err := Compile(desc, cols, parse(t, `[table "users"]
	redact = login name
	redact = mail email
	redact = pass hash
	redact = phone digits
	codec = bio:json
	redact = bio.iban null
`), []byte("key"))
	if err != nil {
		t.Fatal(err)
	}
	clean := row(`7`, `"ann"`, `"ann@corp.example"`, `"x"`, `"call +44 20 7946 0018"`, `null`, `"{\"iban\":\"DE89 3704 0044 0532 0130 00\"}"`)
	if err := tab.Apply("7", label, clean); err != nil {
		t.Fatalf("a value its rules cover: %v", err)
	}
	var missing *MissingRuleError
	mixed := row(`7`, `"ann"`, `"ann@corp.example"`, `"x"`, `"call +44 20 7946 0018 or mail bob@example.com"`, `null`, `null`)
	if err := tab.Apply("7", label, mixed); !errors.As(err, &missing) || !strings.Contains(err.Error(), `column "phone": the value in row id=7 looks like an e-mail address, which its redact rule "digits" leaves`) {
		t.Errorf("an address beside the digits: %v", err)
	}
	other := row(`7`, `"ann"`, `"ann@corp.example"`, `"x"`, `null`, `null`, `"{\"iban\":\"DE89 3704 0044 0532 0130 00\",\"ssn\":\"078-05-1120\"}"`)
	if err := tab.Apply("7", label, other); !errors.As(err, &missing) || !strings.Contains(err.Error(), `column "bio"`) {
		t.Errorf("a value at another path of a decoded text: %v", err)
	}
}
