package web

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gitdbsync/git-dbsync/gitdb"
)

// The guard: no page without the token, which the first visit moves into
// a cookie; nothing but GET and HEAD; no other host name than the
// address listened on; and headers that let a page load nothing from
// elsewhere.
func TestGuard(t *testing.T) {
	s, err := New(&gitdb.Workspace{})
	if err != nil {
		t.Fatal(err)
	}
	s.host = "127.0.0.1:4000"
	h := s.guard(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("the page")) }))
	do := func(method, target, host string, cookie bool) *httptest.ResponseRecorder {
		req := httptest.NewRequest(method, target, nil)
		req.Host = host
		if cookie {
			req.AddCookie(&http.Cookie{Name: cookieName, Value: s.token})
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		return w
	}
	for name, c := range map[string]struct {
		method, target, host string
		cookie               bool
		want                 int
	}{
		"no token":      {"GET", "/", s.host, false, 403},
		"wrong token":   {"GET", "/?token=" + strings.Repeat("0", 32), s.host, false, 403},
		"other host":    {"GET", "/?token=" + s.token, "evil.example:4000", false, 403},
		"post":          {"POST", "/", s.host, true, 405},
		"cookie":        {"GET", "/history?env=prod", s.host, true, 200},
		"first visit":   {"GET", "/release?env=prod&rev=v2&token=" + s.token, s.host, false, 303},
		"wrong cookie":  {"GET", "/", s.host, false, 403},
		"head, cookied": {"HEAD", "/", s.host, true, 200},
	} {
		w := do(c.method, c.target, c.host, c.cookie)
		if w.Code != c.want {
			t.Errorf("%s: %d, want %d", name, w.Code, c.want)
		}
		if w.Code != 200 && strings.Contains(w.Body.String(), "the page") {
			t.Errorf("%s: the page was served", name)
		}
		if csp := w.Header().Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'none'") {
			t.Errorf("%s: Content-Security-Policy %q", name, csp)
		}
	}
	w := do("GET", "/release?env=prod&rev=v2&token="+s.token, s.host, false)
	if loc := w.Header().Get("Location"); loc != "/release?env=prod&rev=v2" {
		t.Errorf("the first visit goes on to %q, want the address without its token", loc)
	}
	if c := w.Result().Cookies(); len(c) != 1 || c[0].Value != s.token || !c[0].HttpOnly || c[0].SameSite != http.SameSiteStrictMode {
		t.Errorf("the first visit sets %v, want the token in an HttpOnly, SameSite=Strict cookie", c)
	}
}
