package redact

import (
	"regexp"
	"strings"

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
		case "pass", "password", "passwd", "pwd", "passhash":
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

var emailRE = regexp.MustCompile(`^[^@\s"<>]+@[^@\s"<>]+\.[A-Za-z]{2,}$`)

// hashMarks start or fill the password hashes PHP, WordPress, Drupal,
// Django and crypt(3) write.
var hashMarks = []string{"$2a$", "$2b$", "$2y$", "$P$", "$H$", "$S$", "$argon2", "$1$", "$5$", "$6$", "pbkdf2_sha256$", "pbkdf2_sha1$", "bcrypt$", "bcrypt_sha256$", "argon2$", "scrypt$"}

// sensitiveValue says what a text cell looks like it holds ("" for
// nothing to hide): a whole value that is an e-mail address, or one that
// holds a password hash. Cheap checks come first: most values have
// neither an "@" nor a "$".
func sensitiveValue(cell serialize.Cell) kind {
	if len(cell) < 6 || len(cell) > 1024 {
		return kind{}
	}
	s := string(cell[1 : len(cell)-1]) // a JSON string's contents; escapes do not matter here
	if strings.IndexByte(s, '@') > 0 && emailRE.MatchString(s) {
		return whatEmail
	}
	if strings.IndexByte(s, '$') >= 0 {
		for _, m := range hashMarks {
			if strings.Contains(s, m) {
				return whatPassword
			}
		}
	}
	return kind{}
}
