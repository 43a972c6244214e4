package dialect

import (
	"regexp"
	"strings"
)

// Passwords never reach a message. Redact hides them in any text that may
// hold a database URL or connection string, whatever its form: a URL's
// user information, user name and password (an unescaped "@" in it
// included: the host follows the last "@"), password-like parameters of a URL's
// query, and key=value connection strings (libpq's, quoted or not). It errs
// on the side of hiding too much.
func Redact(text string) string {
	text = urlPattern.ReplaceAllStringFunc(text, redactUserinfo)
	text = bareUserinfo.ReplaceAllString(text, "${1}"+hidden+":"+hidden+"@")
	text = userParam.ReplaceAllString(text, "${1}${2}="+hidden)
	return passwordParam.ReplaceAllString(text, "${1}${2}="+hidden)
}

// RedactError is err with Redact applied to its message: an engine's
// error may repeat what the URL held (pgx's "failed to connect to
// `user=… database=…`"). errors.Is and As still see err.
func RedactError(err error) error {
	if err == nil {
		return nil
	}
	return redacted{err}
}

type redacted struct{ err error }

func (e redacted) Error() string { return Redact(e.err.Error()) }
func (e redacted) Unwrap() error { return e.err }

const hidden = "xxxxx"

var (
	// A URL runs to the end of the text, a space or a quote.
	urlPattern = regexp.MustCompile(`[A-Za-z][A-Za-z0-9+.-]*://[^\s"'` + "`" + `]+`)
	// user:password@… without a scheme (a Go MySQL DSN), up to the last
	// "@" of the word; not a URL's scheme and "//".
	bareUserinfo = regexp.MustCompile(`(^|[\s"'(])([^\s:/@"'(]+):([^/\s"'][^\s"']*)?@`)
	// user=…, username=…: a token may be passed as a user name.
	userParam = regexp.MustCompile(`(?i)(^|[?&;\s("'` + "`" + `])(user|username)\s*=\s*(?:'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*"|[^&;\s"'` + "`" + `)]*)`)
	// password=…, passwd=…, pass=…, pwd=…, sslpassword=…, _auth_pass=…:
	// after start, "?", "&", ";" or a space; the value quoted or up to
	// the next separator.
	passwordParam = regexp.MustCompile(`(?i)(^|[?&;\s("'` + "`" + `])((?:ssl)?password|passwd|pass|pwd|_auth_pass)\s*=\s*(?:'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*"|[^&;\s"'` + "`" + `)]*)`)
)

// redactUserinfo hides a URL's user information, the user name too (a
// token passed as one, as some services take it, is a secret all the
// same).
func redactUserinfo(u string) string {
	scheme, rest, _ := strings.Cut(u, "://")
	at := strings.LastIndexByte(rest, '@')
	if at < 0 {
		return u
	}
	user, _, hasPass := strings.Cut(rest[:at], ":")
	if hasPass {
		return scheme + "://" + hidden + ":" + hidden + rest[at:]
	}
	if user == "" {
		return u
	}
	return scheme + "://" + hidden + rest[at:]
}
