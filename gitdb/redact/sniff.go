package redact

import (
	"bytes"
	"encoding/base64"
	"regexp"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/tidwall/gjson"

	"github.com/gitdbsync/git-dbsync/serialize"
)

// What a column looks like it holds, in the plural and as one value.
var (
	whatEmail    = kind{"e-mail addresses", "an e-mail address", "email"}
	whatPassword = kind{"password hashes", "a password hash", "hash"}
	whatToken    = kind{"secrets or tokens", "a secret or token", "null"}
	whatSecret   = kind{"secrets (.dbsync names it secret)", "a secret", "null"}
)

type kind struct{ many, one, rule string }

// sensitiveName says what a column's name suggests it holds (none for
// nothing to hide): its words (split at _, -, . and case changes) name a
// password, a secret or token, a salt, or an e-mail address.
func sensitiveName(column string) kind {
	words := splitWords(column)
	for i, w := range words {
		switch w {
		case "email", "mail", "emailaddress":
			return whatEmail
		case "pass", "password", "passwd", "pwd", "pw", "passhash", "pwhash":
			return whatPassword
		case "secret", "token", "salt", "apikey", "otp", "totp":
			return whatToken
		case "key":
			if i > 0 {
				switch words[i-1] {
				case "activation", "api", "auth", "reset", "access", "private", "secret", "session":
					return whatToken
				}
			}
		}
	}
	return kind{}
}

func splitWords(name string) []string {
	var words []string
	var b strings.Builder
	flush := func() {
		if b.Len() > 0 {
			words = append(words, strings.ToLower(b.String()))
			b.Reset()
		}
	}
	prevLower := false
	for _, r := range name {
		switch {
		case r == '_' || r == '-' || r == '.' || r == ' ':
			flush()
			prevLower = false
			continue
		case r >= 'A' && r <= 'Z' && prevLower:
			flush()
		}
		b.WriteRune(r)
		prevLower = r >= 'a' && r <= 'z'
	}
	flush()
	return words
}

// What values give themselves away, wherever they stand in a text: an
// e-mail address, a password hash, a key or token of a known shape (a
// JSON Web Token, an AWS access key, Stripe's and GitHub's), an IBAN
// (checked by its mod-97 sum), a US social security number, a phone
// number written with its country code.
var (
	emailRE = regexp.MustCompile(`[^@\s"<>(),;:]+@[^@\s"<>(),;:]+\.[A-Za-z]{2,}`)
	tokenRE = regexp.MustCompile(`\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.|\b(AKIA|ASIA)[0-9A-Z]{16}\b|\b(sk|rk)_live_[0-9A-Za-z]{16,}|\bgh[pousr]_[0-9A-Za-z]{30,}|\bgithub_pat_[0-9A-Za-z_]{22,}`)
	ibanRE  = regexp.MustCompile(`(?i)\b[A-Z]{2}[0-9]{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,4})?\b`)
	ssnRE   = regexp.MustCompile(`\b[0-9]{3}-[0-9]{2}-[0-9]{4}\b`)
	phoneRE = regexp.MustCompile(`\+[1-9][0-9]{0,2}[ .-]?\(?[0-9]{1,4}\)?(?:[ .-]?[0-9]{2,4}){2,4}\b`)
	hexRE   = regexp.MustCompile(`^[0-9a-fA-F]{32}$|^[0-9a-fA-F]{40}$|^[0-9a-fA-F]{64}$`)
)

var (
	whatIBAN  = kind{"bank account numbers (IBAN)", "a bank account number (IBAN)", "digits"}
	whatID    = kind{"national identity numbers", "a national identity number", "digits"}
	whatPhone = kind{"phone numbers", "a phone number", "digits"}
)

// hashMarks start or fill the password hashes PHP, WordPress, Drupal,
// Django and crypt(3) write.
var hashMarks = []string{"$2a$", "$2b$", "$2y$", "$P$", "$H$", "$S$", "$argon2", "$1$", "$5$", "$6$", "pbkdf2_sha256$", "pbkdf2_sha1$", "bcrypt$", "bcrypt_sha256$", "argon2$", "scrypt$"}

// sensitiveCell says what a cell of a column looks like it holds ("" for
// nothing to hide): a text, every string inside a JSON value, the text a
// BLOB holds; and a bare md5 or sha hex digest in a column whose name
// says it holds a hash.
func sensitiveCell(t serialize.Type, column string, cell serialize.Cell) kind {
	return sensitiveCellBut(t, column, cell, "")
}

// sensitiveCellBut is sensitiveCell leaving out the kinds a rule covers:
// what a rule that rewrites part of a value (digits, email) leaves.
func sensitiveCellBut(t serialize.Type, column string, cell serialize.Cell, covered string) kind {
	switch t {
	case serialize.JSON:
		var found kind
		var walk func(v gjson.Result) bool
		walk = func(v gjson.Result) bool {
			switch {
			case v.Type == gjson.String:
				found = sensitiveTextBut(v.Str, covered)
			case v.IsObject() || v.IsArray():
				v.ForEach(func(_, m gjson.Result) bool { return walk(m) })
			}
			return found.many == ""
		}
		walk(gjson.ParseBytes(cell))
		return found
	case serialize.Bytes:
		raw, err := base64.StdEncoding.DecodeString(strings.Trim(string(cell), `"`))
		if err != nil || !utf8.Valid(raw) {
			return kind{}
		}
		return sensitiveTextBut(string(raw), covered)
	}
	raw := []byte(cell) // a string without escapes: its bytes are its text
	if len(cell) < 2 || cell[0] != '"' || cell[len(cell)-1] != '"' || bytes.IndexByte(cell, '\\') >= 0 {
		raw = []byte(gjson.ParseBytes(cell).Str)
	} else {
		raw = raw[1 : len(raw)-1]
	}
	if n := len(raw); covered != whatPassword.rule && (n == 32 || n == 40 || n == 64) && hexRE.Match(raw) && slices.ContainsFunc(splitWords(column), func(w string) bool { return w == "hash" || w == "digest" }) {
		return whatPassword
	}
	// Most texts hold none of the bytes the patterns need: they are
	// passed by on their bytes, and made a string only for the patterns.
	if !mayBeSensitive(raw) {
		return kind{}
	}
	return sensitiveTextBut(string(raw), covered)
}

// mayBeSensitive reports whether a text holds what one of the patterns of
// sensitiveText needs: an "@", a "$", a "+", a byte of a token's marks, or
// the shape of an IBAN or of an identity number.
func mayBeSensitive(b []byte) bool {
	return len(b) >= 6 && (bytes.ContainsAny(b, "@$+"+tokenBytes) || mayHoldIBAN(b) || inRun(ssnRun, b))
}

// sensitiveText says what a text holds that must not leave production.
// Cheap checks come first: most values have no "@", "$" or digit run.
func sensitiveText(s string) kind { return sensitiveTextBut(s, "") }

// sensitiveTextBut is sensitiveText leaving out the kinds the rule
// covered covers.
func sensitiveTextBut(s, covered string) kind {
	if len(s) < 6 || len(s) > 1<<16 {
		return kind{}
	}
	look := func(k kind) bool { return k.rule != covered }
	if look(whatEmail) && strings.IndexByte(s, '@') >= 0 && emailRE.MatchString(s) {
		return whatEmail
	}
	if look(whatPassword) && strings.IndexByte(s, '$') >= 0 {
		for _, m := range hashMarks {
			if strings.Contains(s, m) {
				return whatPassword
			}
		}
	}
	// Each pattern runs only where a text holds what it cannot match
	// without (a pull scans every text cell of a content table: the
	// patterns alone took three quarters of a pull's time).
	if look(whatToken) && mayHoldToken(s) && tokenRE.MatchString(s) {
		return whatToken
	}
	if look(whatIBAN) && mayHoldIBAN(s) {
		for _, m := range ibanRE.FindAllString(s, -1) {
			if ibanValid(m) {
				return whatIBAN
			}
		}
	}
	if look(whatID) && inRun(ssnRun, s) && ssnRE.MatchString(s) {
		return whatID
	}
	if look(whatPhone) && strings.IndexByte(s, '+') >= 0 && phoneRE.MatchString(s) {
		return whatPhone
	}
	return kind{}
}

// ibanValid checks an IBAN's mod-97 sum (ISO 13616): a random word of
// capitals and digits passes one time in 97.
func ibanValid(s string) bool {
	s = strings.ToUpper(strings.ReplaceAll(s, " ", ""))
	if len(s) < 15 || len(s) > 34 {
		return false
	}
	s = s[4:] + s[:4]
	rem := 0
	for _, r := range s {
		switch {
		case r >= '0' && r <= '9':
			rem = (rem*10 + int(r-'0')) % 97
		case r >= 'A' && r <= 'Z':
			rem = (rem*100 + int(r-'A') + 10) % 97
		default:
			return false
		}
	}
	return rem == 1
}

// tokenMarks are the literals every match of tokenRE holds; each holds
// one of the bytes of tokenBytes, which one scan finds.
var tokenMarks = []string{"eyJ", "AKIA", "ASIA", "_live_", "ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_"}

const tokenBytes = "JI_"

func mayHoldToken(s string) bool {
	return strings.ContainsAny(s, tokenBytes) && slices.ContainsFunc(tokenMarks, func(m string) bool { return strings.Contains(s, m) })
}

// run is a shape of bytes a pattern cannot match without, in which 'A'
// stands for an ASCII letter, '9' for a digit, and any other
// byte for itself.
type run struct {
	shape string
	order []int // the positions to test, rarest bytes first: a text fails at once
}

func newRun(shape string) run {
	r := run{shape: shape}
	for _, class := range []func(c byte) bool{
		func(c byte) bool { return c != 'A' && c != '9' }, func(c byte) bool { return c == '9' }, func(c byte) bool { return c == 'A' },
	} {
		for j := 0; j < len(shape); j++ {
			if class(shape[j]) {
				r.order = append(r.order, j)
			}
		}
	}
	return r
}

var ssnRun = newRun("999-99-9999")

// mayHoldIBAN reports whether s holds what ibanRE cannot match without:
// two letters at the start of a word, two digits, then eight letters or
// digits (spaces between them aside). Letters and digits alone passed
// "customer12@shop.example" ("er12") to the pattern, a third of a pull's
// time on a table of e-mail addresses.
func mayHoldIBAN[T string | []byte](s T) bool {
	for i := 0; i+12 <= len(s); i++ {
		if i > 0 && isWordByte(s[i-1]) || !fits(s[i], 'A') || !fits(s[i+1], 'A') || !fits(s[i+2], '9') || !fits(s[i+3], '9') {
			continue
		}
		n := 0
		for j := i + 4; j < len(s) && n < 8 && (s[j] == ' ' || fits(s[j], 'A') || fits(s[j], '9')); j++ {
			if s[j] != ' ' {
				n++
			}
		}
		if n == 8 {
			return true
		}
	}
	return false
}

// isWordByte is what \b of Go's regexp takes for a character of a word.
func isWordByte(c byte) bool { return c == '_' || fits(c, 'A') || fits(c, '9') }

// inRun reports whether s holds a run of the shape of r.
func inRun[T string | []byte](r run, s T) bool {
	for i := 0; i+len(r.shape) <= len(s); i++ {
		j := 0
		for j < len(r.order) && fits(s[i+r.order[j]], r.shape[r.order[j]]) {
			j++
		}
		if j == len(r.order) {
			return true
		}
	}
	return false
}

func fits(c, want byte) bool {
	switch want {
	case 'A':
		return c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z'
	case '9':
		return c >= '0' && c <= '9'
	}
	return c == want
}
