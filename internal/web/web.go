// Package web is git dbsync web: a local, read-only page server over a
// workspace. It listens on 127.0.0.1 only and answers only requests that
// carry its random token (in the first URL, then a cookie). Its pages —
// the environments × releases matrix, a release's plan on an environment,
// an environment's history, two environments side by side — call the same
// use cases as status, plan and diff, which read each database in a
// read-only session, and render the reviewer's model of internal/review
// as HTML. It never writes: each page shows the command that would, to
// copy. Values are the reports' (secrets are placeholders there), and
// error messages have passwords redacted.
package web

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	"html/template"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gitdbsync/git-dbsync/gitdb"
	"github.com/gitdbsync/git-dbsync/internal/review"
)

//go:embed templates/*.html style.css
var files embed.FS

// cookieName holds the token after the first visit.
const cookieName = "git-dbsync-web"

// Limits bound a page: 200 rows a table, values cut at 400 characters.
var Limits = review.Limits{Rows: 200, Value: 400}

// Server serves the pages of one workspace.
type Server struct {
	ws    *gitdb.Workspace
	token string
	tmpl  *template.Template
	css   []byte
	// host is the address the server listens on: requests naming another
	// host (a DNS name rebound to 127.0.0.1) are refused.
	host string
	// mu lets one page read the databases at a time: the server is one
	// person's, and a second tab waits rather than doubling the load.
	mu sync.Mutex
}

// New makes a server over a workspace, with a new random token.
func New(ws *gitdb.Workspace) (*Server, error) {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		return nil, err
	}
	tmpl, err := template.New("").Funcs(funcs).ParseFS(files, "templates/*.html")
	if err != nil {
		return nil, err
	}
	css, err := files.ReadFile("style.css")
	if err != nil {
		return nil, err
	}
	return &Server{ws: ws, token: hex.EncodeToString(b), tmpl: tmpl, css: css}, nil
}

// Listen opens 127.0.0.1:port (0: a free port) and returns the listener
// and the address to open, token included.
func (s *Server) Listen(port int) (net.Listener, string, error) {
	ln, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
	if err != nil {
		return nil, "", fmt.Errorf("cannot listen on 127.0.0.1:%d: %w", port, err)
	}
	s.host = ln.Addr().String()
	return ln, "http://" + s.host + "/?token=" + s.token, nil
}

// Serve answers on ln until ctx ends.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	srv := &http.Server{Handler: s.Handler(), ReadHeaderTimeout: 10 * time.Second, BaseContext: func(net.Listener) context.Context { return ctx }}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		shut, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		srv.Shutdown(shut)
		return nil
	}
}

// Handler is the server's pages behind the token check.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", s.page(s.matrix))
	mux.HandleFunc("GET /release", s.page(s.release))
	mux.HandleFunc("GET /history", s.page(s.history))
	mux.HandleFunc("GET /diff", s.page(s.diff))
	mux.HandleFunc("GET /style.css", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/css; charset=utf-8")
		w.Write(s.css)
	})
	return s.guard(mux)
}

// guard lets through only GET and HEAD requests to the address listened
// on that carry the token, and sets the headers that keep a page from
// loading anything from elsewhere or being framed.
func (s *Server) guard(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("Cache-Control", "no-store")
		if s.host != "" && r.Host != s.host {
			http.Error(w, "forbidden: open the address git dbsync web printed", http.StatusForbidden)
			return
		}
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			http.Error(w, "git dbsync web is read-only", http.StatusMethodNotAllowed)
			return
		}
		if given := r.URL.Query().Get("token"); given != "" {
			if !s.valid(given) {
				http.Error(w, "forbidden: the token is not this server's", http.StatusForbidden)
				return
			}
			http.SetCookie(w, &http.Cookie{Name: cookieName, Value: s.token, Path: "/", HttpOnly: true, SameSite: http.SameSiteStrictMode})
			q := r.URL.Query()
			q.Del("token")
			clean := *r.URL
			clean.RawQuery = q.Encode()
			http.Redirect(w, r, clean.RequestURI(), http.StatusSeeOther)
			return
		}
		if c, err := r.Cookie(cookieName); err != nil || !s.valid(c.Value) {
			http.Error(w, "forbidden: open the address git dbsync web printed (it holds the token)", http.StatusForbidden)
			return
		}
		next.ServeHTTP(w, r)
	})
}

func (s *Server) valid(token string) bool {
	return subtle.ConstantTimeCompare([]byte(token), []byte(s.token)) == 1
}

// view is what a page handler returns: its template and data.
type view struct {
	Template string
	Title    string
	Data     any
	Commands []string // the commands to copy
	Err      string
}

// page runs a page's handler, one at a time, and renders its view in the
// layout; an error shows on the page (status 500 when there is no view).
func (s *Server) page(fn func(r *http.Request) (*view, error)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		v, err := fn(r)
		s.mu.Unlock()
		status := http.StatusOK
		if err != nil {
			status = http.StatusInternalServerError
			var bad badRequest
			if errors.As(err, &bad) {
				status = http.StatusBadRequest
			}
			if v == nil {
				v = &view{Template: "error", Title: "error"}
			}
			v.Err = message(err)
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.WriteHeader(status)
		if err := s.render(w, v); err != nil {
			fmt.Fprintf(w, "<p>cannot show the page: %s</p>", template.HTMLEscapeString(err.Error()))
		}
	}
}

// render writes a view in the layout.
func (s *Server) render(w io.Writer, v *view) error {
	return s.tmpl.ExecuteTemplate(w, "layout", v)
}

// message is an error as a page shows it: its first lines, passwords
// hidden.
func message(err error) string { return gitdb.Redact(err.Error()) }

// badRequest is a page asked for with missing or wrong parameters.
type badRequest struct{ msg string }

func (b badRequest) Error() string { return b.msg }

// param is a required query parameter.
func param(r *http.Request, name string) (string, error) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return "", badRequest{fmt.Sprintf("the address lacks %s=…", name)}
	}
	return v, nil
}

var funcs = template.FuncMap{
	"cut":   func(s string) string { return review.Cut(s, Limits.Value) },
	"short": review.ShortCommit,
	"time": func(t time.Time) string {
		if t.IsZero() {
			return ""
		}
		return t.UTC().Format("2006-01-02 15:04:05 UTC")
	},
	"q": url.QueryEscape,
	"plural": func(n int, noun string) string {
		if n == 1 {
			return "1 " + noun
		}
		return fmt.Sprintf("%d %ss", n, noun)
	},
	"absent": func(s string) bool { return s == review.Absent },
	"join":   strings.Join,
	"add":    func(a, b int) int { return a + b },
}
