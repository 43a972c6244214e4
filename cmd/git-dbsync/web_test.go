package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gitdbsync/git-dbsync/gitdb/config"
	"github.com/gitdbsync/git-dbsync/internal/dbtest"
	"github.com/gitdbsync/git-dbsync/internal/gittest"
)

// The browser the web tests drive: Debian's chromium and chromium-driver
// (.ci/run and make tools install them). Missing, the test fails.
const (
	chromiumPath     = "/usr/bin/chromium"
	chromedriverPath = "/usr/bin/chromedriver"
)

// webRepo makes a repository with three environments, one per engine:
// lite (SQLite) went to v2, was rolled back, with a deploy step whose
// output the history shows; pg (PostgreSQL) is at v1 and its editors
// relabelled a role that v2 changes too (a conflict); maria (MariaDB) is
// at v1 with v2 pending (a run that covers SQLite alone, as make unit,
// puts all three on SQLite). It returns the directory and the environment
// variables that give the databases' URLs.
func webRepo(t *testing.T) (string, []string) {
	t.Helper()
	dir := gittest.Init(t)
	schema := "CREATE TABLE roles (id INTEGER PRIMARY KEY, name VARCHAR(50) NOT NULL UNIQUE, label VARCHAR(100));" +
		"INSERT INTO roles VALUES (1, 'admin', 'Admin'), (2, 'editor', 'Editor');"
	urls := map[string]string{"dev": "sqlite:" + filepath.Join(dir, "dev.db")}
	for env, engine := range map[string]string{"lite": "sqlite", "pg": "postgres", "maria": "mysql"} {
		if !slices.Contains(dbtest.Engines, engine) {
			engine = "sqlite" // make unit: SQLite alone, the browser all the same
		}
		urls[env] = dbtest.NewDatabase(t, engine)
	}
	var env []string
	for name, u := range urls {
		if err := dbtest.Exec(u, schema); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		env = append(env, config.EnvVar(name)+"="+u)
	}
	env = append(env, gittest.Env(dir)...)
	write := func(name, text string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(".dbsync", "[env \"dev\"]\n[env \"lite\"]\n\tcheck = echo lite-check-passed\n[env \"pg\"]\n[env \"maria\"]\n"+
		"[group \"servers\"]\n\tenv = pg maria\n[tables]\n\tconfig = roles\n[table \"roles\"]\n\tkey = name\n")
	write(".gitignore", "dev.db\n")
	run := func(args ...string) string { return dbsync(t, dir, env, args...) }
	release := func(tag string) {
		run("export")
		gittest.Run(t, dir, "add", "-A")
		gittest.Run(t, dir, "commit", "-q", "-m", tag)
		gittest.Run(t, dir, "tag", tag)
	}
	release("v1")
	for _, e := range []string{"lite", "pg", "maria"} {
		run("apply", "v1", "--env", e, "--yes")
	}
	dev := urls["dev"]
	if err := dbtest.Exec(dev, "UPDATE roles SET label = 'Author' WHERE name = 'editor'; INSERT INTO roles VALUES (3, 'guest', 'Guest');"); err != nil {
		t.Fatal(err)
	}
	release("v2")
	run("apply", "v2", "--env", "lite", "--yes")
	run("rollback", "--env", "lite", "--yes")
	if err := dbtest.Exec(urls["pg"], "UPDATE roles SET label = 'Writer' WHERE name = 'editor'"); err != nil {
		t.Fatal(err)
	}
	return dir, env
}

// startWeb runs git dbsync web in dir and returns the address it printed,
// token included.
func startWeb(t *testing.T, dir string, env []string) string {
	t.Helper()
	cmd := exec.Command("git", "dbsync", "web")
	cmd.Dir, cmd.Env = dir, append(os.Environ(), env...)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Signal(os.Interrupt)
		cmd.Wait()
	})
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		t.Fatalf("git dbsync web printed no address: %v\n%s", err, stderr.String())
	}
	addr, ok := strings.CutPrefix(strings.TrimSpace(line), "git dbsync web: ")
	if !ok || !regexp.MustCompile(`^http://127\.0\.0\.1:\d+/\?token=[0-9a-f]{32}$`).MatchString(addr) {
		t.Fatalf("git dbsync web printed %q, not an address on 127.0.0.1 with a token", line)
	}
	return addr
}

// TestWebInBrowser drives git dbsync web in headless Chromium through
// WebDriver: the matrix of three environments on SQLite, PostgreSQL and
// MariaDB, a click through to a release with a conflict, another to a
// history with a rollback and a step's output, two environments compared;
// every request the pages made went to the server itself, and a request
// without the token is refused.
func TestWebInBrowser(t *testing.T) {
	for _, p := range []string{chromiumPath, chromedriverPath} {
		if _, err := os.Stat(p); err != nil {
			t.Fatalf("%s is missing: install Debian's chromium and chromium-driver (.ci/run and make tools do)", p)
		}
	}
	dir, env := webRepo(t)
	addr := startWeb(t, dir, env)
	base, _, _ := strings.Cut(addr, "/?")

	// Without the token, or with another, every page is refused.
	for _, path := range []string{"/", "/release?env=pg&rev=v2", "/history?env=lite", "/style.css", "/?token=00112233445566778899aabbccddeeff"} {
		resp, err := http.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusForbidden || bytes.Contains(body, []byte("roles")) {
			t.Errorf("GET %s without the token: %d\n%s", path, resp.StatusCode, body)
		}
	}

	wd := startBrowser(t)
	wd.open(addr)
	if got := wd.url(); got != base+"/" {
		t.Errorf("after the first visit the address is %s, want %s (the token moved to a cookie)", got, base+"/")
	}
	matrix := wd.text("#matrix")
	for _, want := range []string{"group servers", "pg", "maria", "lite", "v2", "v1", "nothing applied"} {
		if !strings.Contains(matrix, want) {
			t.Errorf("the matrix lacks %q:\n%s", want, matrix)
		}
	}
	if got := wd.text("#env-maria td.cell.pending a"); got != "pending" {
		t.Errorf("maria's v2 cell says %q, want pending", got)
	}
	if got := wd.text("#env-lite td.cell.at a"); got != "at" {
		t.Errorf("lite's v1 cell (rolled back to) says %q, want at", got)
	}
	if got := wd.text("#env-pg td.run-ok"); got != "ok" {
		t.Errorf("pg's last run says %q, want ok", got)
	}
	wd.checkLocal(base)

	// A release with a conflict: pg's v2 cell.
	wd.click("#env-pg td.cell.pending a")
	page := wd.text("main")
	for _, want := range []string{"v2 on pg", "1 insert, 0 updates, 0 deletes; 1 unresolved conflict", "CONFLICT roles editor", "changed on both sides",
		`"Editor"`, `"Writer"`, `"Author"`, "git dbsync apply v2 --env pg --resolve roles:editor=ours", "insert guest"} {
		if !strings.Contains(page, want) {
			t.Errorf("the release page lacks %q:\n%s", want, page)
		}
	}
	if c, ch := strings.Index(page, "Conflicts"), strings.Index(page, "Changes"); c < 0 || ch < 0 || c > ch {
		t.Errorf("the conflicts do not come before the changes:\n%s", page)
	}
	wd.checkLocal(base)

	// A history: lite's name in the matrix.
	wd.open(base + "/")
	wd.click("#env-lite th a")
	page = wd.text("#timeline")
	for _, want := range []string{"#3 rollback v2", "undoes #2", "#2 apply v2", "rolled back by #3", "#1 apply v1", "check echo lite-check-passed: ok"} {
		if !strings.Contains(page, want) {
			t.Errorf("the history lacks %q:\n%s", want, page)
		}
	}
	if !strings.Contains(wd.source(), "<pre>lite-check-passed") {
		t.Errorf("the history lacks the step's output")
	}
	if src := wd.source(); !strings.Contains(src, "At v1 (") || !strings.Contains(src, "; last change: rollback ") {
		t.Errorf("the history does not say it is at v1 since a rollback:\n%s", src)
	}
	wd.checkLocal(base)

	// Two environments side by side, across engines.
	wd.open(base + "/diff?a=maria&b=pg")
	page = wd.text("main")
	for _, want := range []string{"database of maria → database of pg: 0 added, 1 changed, 0 removed", `"Editor"`, `"Writer"`} {
		if !strings.Contains(page, want) {
			t.Errorf("the comparison lacks %q:\n%s", want, page)
		}
	}
	wd.checkLocal(base)
}

// webDriver is a WebDriver session (the W3C protocol, over HTTP) with
// chromedriver driving headless Chromium.
type webDriver struct {
	t       *testing.T
	base    string // chromedriver's address
	session string
}

func freePort(t *testing.T) int {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// startBrowser starts chromedriver and a headless Chromium with a fresh
// profile that reaches for nothing on its own (no updates, sync or
// background requests: this machine's network is closed).
func startBrowser(t *testing.T) *webDriver {
	t.Helper()
	port := freePort(t)
	driver := exec.Command(chromedriverPath, fmt.Sprintf("--port=%d", port))
	var log bytes.Buffer
	driver.Stdout, driver.Stderr = &log, &log
	if err := driver.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		driver.Process.Kill()
		driver.Wait()
	})
	wd := &webDriver{t: t, base: fmt.Sprintf("http://127.0.0.1:%d", port)}
	for i := 0; ; i++ {
		if resp, err := http.Get(wd.base + "/status"); err == nil {
			resp.Body.Close()
			break
		}
		if i == 100 {
			t.Fatalf("chromedriver did not start:\n%s", log.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
	args := []string{"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
		"--disable-component-update", "--disable-sync", "--disable-dev-shm-usage", "--user-data-dir=" + t.TempDir()}
	var created struct {
		SessionID string `json:"sessionId"`
	}
	wd.call("POST", "/session", map[string]any{"capabilities": map[string]any{"alwaysMatch": map[string]any{
		"browserName": "chrome", "goog:chromeOptions": map[string]any{"binary": chromiumPath, "args": args}}}}, &created)
	wd.session = created.SessionID
	t.Cleanup(func() { wd.call("DELETE", "/session/"+wd.session, nil, nil) })
	return wd
}

// call sends a WebDriver command and decodes its value into out.
func (wd *webDriver) call(method, path string, body, out any) {
	wd.t.Helper()
	var in io.Reader
	if body != nil {
		data, _ := json.Marshal(body)
		in = bytes.NewReader(data)
	}
	req, _ := http.NewRequest(method, wd.base+path, in)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		wd.t.Fatalf("webdriver %s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		wd.t.Fatalf("webdriver %s %s: %s\n%s", method, path, resp.Status, data)
	}
	if out != nil {
		var v struct{ Value json.RawMessage }
		if err := json.Unmarshal(data, &v); err != nil {
			wd.t.Fatalf("webdriver %s %s: %v", method, path, err)
		}
		if err := json.Unmarshal(v.Value, out); err != nil {
			wd.t.Fatalf("webdriver %s %s: %v\n%s", method, path, err, data)
		}
	}
}

func (wd *webDriver) cmd(method, path string, body, out any) {
	wd.t.Helper()
	wd.call(method, "/session/"+wd.session+path, body, out)
}

func (wd *webDriver) open(u string) {
	wd.t.Helper()
	wd.cmd("POST", "/url", map[string]string{"url": u}, nil)
}

func (wd *webDriver) url() string {
	var u string
	wd.cmd("GET", "/url", nil, &u)
	return u
}

func (wd *webDriver) source() string {
	var s string
	wd.cmd("GET", "/source", nil, &s)
	return s
}

// element finds the first element a CSS selector matches.
func (wd *webDriver) element(css string) string {
	wd.t.Helper()
	var el map[string]string
	wd.cmd("POST", "/element", map[string]string{"using": "css selector", "value": css}, &el)
	for _, id := range el {
		return id
	}
	wd.t.Fatalf("no element %s", css)
	return ""
}

// text is the rendered text of the first element a selector matches.
func (wd *webDriver) text(css string) string {
	wd.t.Helper()
	var s string
	wd.cmd("GET", "/element/"+wd.element(css)+"/text", nil, &s)
	return s
}

func (wd *webDriver) click(css string) {
	wd.t.Helper()
	wd.cmd("POST", "/element/"+wd.element(css)+"/click", map[string]any{}, nil)
}

// checkLocal fails when the page, or anything it loaded, came from
// elsewhere than the server: the browser's own record of the requests
// (Resource Timing) and every address in the page's HTML.
func (wd *webDriver) checkLocal(base string) {
	wd.t.Helper()
	var loaded []string
	wd.cmd("POST", "/execute/sync", map[string]any{"script": "return [location.href].concat(performance.getEntriesByType('resource').map(e => e.name))", "args": []any{}}, &loaded)
	for _, u := range loaded {
		if !strings.HasPrefix(u, base+"/") {
			wd.t.Errorf("the page %s requested %s", loaded[0], u)
		}
	}
	if len(loaded) < 2 {
		wd.t.Errorf("the page %s loaded no style sheet: %v", loaded[0], loaded)
	}
	for _, m := range regexp.MustCompile(`(?i)(?:src|href|action)\s*=\s*"([^"]*)"`).FindAllStringSubmatch(wd.source(), -1) {
		if strings.Contains(m[1], "//") || strings.HasPrefix(strings.ToLower(m[1]), "javascript:") {
			wd.t.Errorf("the page %s refers to %s", loaded[0], m[1])
		}
	}
}
