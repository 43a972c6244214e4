package serialize

import (
	"math/rand"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestFileNameExamples(t *testing.T) {
	tests := []struct {
		parts []string
		want  string
	}{
		{[]string{"site_name"}, "site_name"},
		{[]string{"Home"}, "!home"},
		{[]string{"home"}, "home"},
		{[]string{"a/b"}, "a%2fb"},
		{[]string{".."}, "%2e%2e"},
		{[]string{".hidden"}, "%2ehidden"},
		{[]string{"trailing."}, "trailing%2e"},
		{[]string{"a.b"}, "a.b"},
		{[]string{"x\x00y"}, "x%00y"},
		{[]string{"CON"}, "%43!o!n"},
		{[]string{"con.txt"}, "%63on.txt"},
		{[]string{"lpt1"}, "%6cpt1"},
		{[]string{"console"}, "console"},
		{[]string{""}, "%"},
		{[]string{"café"}, "caf%c3%a9"},
		{[]string{"50%"}, "50%25"},
		{[]string{"a b"}, "a%20b"},
		{[]string{"3", "1"}, "3,1"},
		{[]string{"3,1"}, "3%2c1"},
		{[]string{"a\\b:c*?\"<>|"}, "a%5cb%3ac%2a%3f%22%3c%3e%7c"},
	}
	for _, tt := range tests {
		if got := FileName(tt.parts...); got != tt.want {
			t.Errorf("FileName(%q) = %q, want %q", tt.parts, got, tt.want)
		}
	}
}

// portable reports why a name would be unsafe anywhere, or "".
func portable(name string) string {
	switch {
	case name == "" || name == "." || name == "..":
		return "empty or dot name"
	case strings.HasPrefix(name, "."):
		return "hidden"
	case strings.HasSuffix(name, ".") || strings.HasSuffix(name, " "):
		return "trailing dot or space"
	case len(name) > maxName:
		return "too long"
	case strings.ToLower(name) != name:
		return "upper case"
	case !filepath.IsLocal(name) || strings.ContainsAny(name, "/\\:*?\"<>|\x00"):
		return "separator or reserved character"
	}
	stem, _, _ := strings.Cut(name, ".")
	if windowsReserved[stem] {
		return "reserved on Windows"
	}
	return ""
}

// Random hostile keys always give portable names, and distinct keys give
// names that stay distinct when a file system folds case.
func TestFileNamePortableAndDistinct(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	alphabet := []string{"a", "A", "b", "B", "z", ".", "/", "\\", "\x00", " ", "%", "!", "~", ",", "é", "É", "😀", "con", "CON", "nul", ":", "-", "_", "0"}
	seen := map[string]string{} // lower-cased name → key
	for i := 0; i < 50000; i++ {
		var b strings.Builder
		n := rng.Intn(8)
		if rng.Intn(100) == 0 {
			n = 300 // very long keys
		}
		for j := 0; j < n; j++ {
			b.WriteString(alphabet[rng.Intn(len(alphabet))])
		}
		key := b.String()
		name := FileName(key)
		if why := portable(name); why != "" {
			t.Fatalf("FileName(%q) = %q: %s", key, name, why)
		}
		if !utf8.ValidString(name) {
			t.Fatalf("FileName(%q) = %q: not UTF-8", key, name)
		}
		folded := strings.ToLower(name)
		if other, dup := seen[folded]; dup && other != key {
			t.Fatalf("keys %q and %q share the name %q", other, key, name)
		}
		seen[folded] = key
	}
}

func TestFileNameLongKeysKeepPrefixAndDiffer(t *testing.T) {
	a := strings.Repeat("x", 500) + "a"
	b := strings.Repeat("x", 500) + "b"
	na, nb := FileName(a), FileName(b)
	if na == nb || len(na) > maxName || !strings.HasPrefix(na, "xxxxxxxx") || !strings.Contains(na, "~") {
		t.Errorf("long names: %q, %q", na, nb)
	}
	// An escape is never cut in half, wherever the cut falls.
	for shift := 0; shift < 3; shift++ {
		n := FileName(strings.Repeat("x", shift) + strings.Repeat("é", 100))
		prefix, _, _ := strings.Cut(n, "~")
		for i := 0; i < len(prefix); i++ {
			if prefix[i] == '%' && i+2 >= len(prefix) {
				t.Errorf("escape split at the cut: %q", n)
			}
		}
	}
}
