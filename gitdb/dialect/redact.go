package dialect

import (
	"regexp"
	"strings"
)

// Passwords never reach a message. Redact hides them in any text that may
// hold a database URL or connection string, whatever its form: the
// password of a URL's user information (an unescaped "@" in it included:
// the host follows the last "@"), password-like parameters of a URL's
// query, and key=value connection strings (libpq's, quoted or not). It errs
// on the side of hiding too much.
func Redact(text string) string {
	text = urlPattern.ReplaceAllStringFunc(text, redactUserinfo)
	text = bareUserinfo.ReplaceAllString(text, "${1}${2}:"+hidden+"@")
	return passwordParam.ReplaceAllString(text, "${1}${2}="+hidden)
}

const hidden = "xxxxx"

var (
	// A URL runs to the end of the text, a space or a quote.
	urlPattern = regexp.MustCompile(`[A-Za-z][A-Za-z0-9+.-]*://[^\s"'` + "`" + `]+`)
	// user:password@… without a scheme (a Go MySQL DSN), up to the last
	// "@" of the word; not a URL's scheme and "//".
	bareUserinfo = regexp.MustCompile(`(^|[\s"'(])([^\s:/@"'(]+):([^/\s"'][^\s"']*)?@`)
	// password=…, passwd=…, pass=…, pwd=…, sslpassword=…, _auth_pass=…:
	// after start, "?", "&", ";" or a space; the value quoted or up to
	// the next separator.
	passwordParam = regexp.MustCompile(`(?i)(^|[?&;\s("'` + "`" + `])((?:ssl)?password|passwd|pass|pwd|_auth_pass)\s*=\s*(?:'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*"|[^&;\s"'` + "`" + `)]*)`)
)

// redactUserinfo hides the password of a URL's user information.
func redactUserinfo(u string) string {
	scheme, rest, _ := strings.Cut(u, "://")
	at := strings.LastIndexByte(rest, '@')
	if at < 0 {
		return u
	}
	user, _, hasPass := strings.Cut(rest[:at], ":")
	if !hasPass {
		return u
	}
	return scheme + "://" + user + ":" + hidden + rest[at:]
}
