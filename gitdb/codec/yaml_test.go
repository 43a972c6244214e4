package codec

import (
	"bufio"
	"encoding/json"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/gitdbsync/git-dbsync/serialize"
)

// psychDocs runs Ruby's Psych over the corpus of Rails-style values; a
// missing ruby fails the test (make test installs it).
func psychDocs(t *testing.T) []string {
	t.Helper()
	out, err := exec.Command("ruby", "testdata/psych_corpus.rb").Output()
	if err != nil {
		t.Fatalf("ruby testdata/psych_corpus.rb: %v (is ruby installed? .ci/run installs it)", err)
	}
	return jsonLines(t, string(out))
}

func jsonLines(t testing.TB, text string) []string {
	var docs []string
	sc := bufio.NewScanner(strings.NewReader(text))
	for sc.Scan() {
		var doc string
		if err := json.Unmarshal(sc.Bytes(), &doc); err != nil {
			t.Fatal(err)
		}
		docs = append(docs, doc)
	}
	return docs
}

// Every document Psych writes for the corpus decodes to structured JSON
// and encodes back byte for byte; the captured corpus is the same as
// Psych's output today.
func TestYAMLRoundTripsPsych(t *testing.T) {
	docs := psychDocs(t)
	captured, err := os.ReadFile("testdata/psych.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	if got := jsonLines(t, string(captured)); strings.Join(got, "\x00") != strings.Join(docs, "\x00") {
		t.Errorf("testdata/psych.jsonl is not what Psych writes now: regenerate it with ruby testdata/psych_corpus.rb")
	}
	for _, doc := range docs {
		n, note, err := DecodeNote("yaml", doc)
		if err != nil || note != "" || n.Kind == serialize.String {
			t.Errorf("not decoded (%v, %s):\n%s", err, note, doc)
			continue
		}
		back, err := Encode("yaml", &n)
		if err != nil || back != doc {
			t.Errorf("written back as\n%s\nnot\n%s(%v)", back, doc, err)
		}
	}
}

// Documents the encoder would not write back exactly are kept as their
// text, with the reason; scalar documents are kept without one.
func TestYAMLKeptAsText(t *testing.T) {
	for doc, why := range map[string]string{
		"---\na: &x 1\nb: *x\n":       "anchors",
		"---\na: 1 # one\n":           "comments",
		"---\na:   1\n":               "byte for byte",
		"--- {a: 1}\n":                "byte for byte",
		"---\n- [\n":                  "not YAML",
		"---\n\":k\": 1\n":            "reads like a symbol",
		"--- plain\n":                 "",
		"--- 12\n":                    "",
		"not: [yaml at: all\n  - x\n": "not YAML",
	} {
		n, note, err := DecodeNote("yaml", doc)
		if err != nil || n.Kind != serialize.String || n.Text != doc || !strings.Contains(note, why) || (why == "") != (note == "") {
			t.Errorf("%q: %v %q %v, want kept with %q", doc, n.Kind, note, err, why)
		}
		if back, err := Encode("yaml", &n); err != nil || back != doc {
			t.Errorf("%q written back as %q (%v)", doc, back, err)
		}
	}
}

// What the encoder writes for edited values (a merge's result) is read by
// Psych as the value meant: keys added, strings that need quoting, symbols.
func TestYAMLEditsReadByPsych(t *testing.T) {
	n, _, _ := DecodeNote("yaml", "--- !ruby/hash:ActiveSupport::HashWithIndifferentAccess\ntheme: dark\nperms:\n- :read\n")
	n.Members = append(n.Members,
		serialize.Member{Name: "note", Value: str("it's: \"quoted\" #not a comment")},
		serialize.Member{Name: "yes", Value: str("no")},
		serialize.Member{Name: "lines", Value: str("one\ntwo\n")},
		serialize.Member{Name: "tab", Value: str("a\tb")},
		serialize.Member{Name: "num", Value: str("0x1F")},
		serialize.Member{Name: "colon", Value: str(":x")},
	)
	perms, _ := n.Get("perms")
	perms.Items = append(perms.Items, tagged(tagYAMLSym, str("write")))
	for i := range n.Members {
		if n.Members[i].Name == "perms" {
			n.Members[i].Value = *perms
		}
	}
	text, err := Encode("yaml", &n)
	if err != nil {
		t.Fatal(err)
	}
	script := `require "yaml"; require "json"
module ActiveSupport; class HashWithIndifferentAccess < Hash; end; end
v = YAML.unsafe_load(STDIN.read)
puts JSON.generate([v.class.name, v.transform_values { |x| x.is_a?(Array) ? x.map(&:inspect) : x }])`
	cmd := exec.Command("ruby", "-e", script)
	cmd.Stdin = strings.NewReader(text)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("ruby: %v\n%s", err, text)
	}
	want := `["ActiveSupport::HashWithIndifferentAccess",{"theme":"dark","perms":[":read",":write"],"colon":":x","lines":"one\ntwo\n","note":"it's: \"quoted\" #not a comment","num":"0x1F","tab":"a\tb","yes":"no"}]`
	if strings.TrimSpace(string(out)) != want {
		t.Errorf("Psych read\n%s\nas\n%s\nwant\n%s", text, out, want)
	}
}

// FuzzYAML: any text decodes without panicking; what it decodes to is
// written back exactly; a decoded value's file form decodes the same.
func FuzzYAML(f *testing.F) {
	data, err := os.ReadFile("testdata/psych.jsonl")
	if err != nil {
		f.Fatal(err)
	}
	for _, doc := range jsonLines(f, string(data)) {
		f.Add(doc)
	}
	for _, seed := range []string{"---\na: &x 1\nb: *x\n", "--- plain\n", "---\n- - :a\n  - 'b'\n", "---\n\"@x\": {}\n"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, text string) {
		n, note, err := DecodeNote("yaml", text)
		if err != nil {
			t.Fatalf("%q: %v", text, err)
		}
		back, err := Encode("yaml", &n)
		if err != nil || back != text {
			t.Fatalf("%q decoded (note %q) and written back as %q (%v)", text, note, back, err)
		}
		if n.Kind == serialize.String {
			return
		}
		file, err := serialize.AppendCanonical(nil, &n, "", "")
		if err != nil {
			t.Fatalf("%q decoded to a value with no file form: %v", text, err)
		}
		parsed, err := serialize.Parse(file)
		if err != nil {
			t.Fatal(err)
		}
		if again, err := Encode("yaml", &parsed); err != nil || again != text {
			t.Fatalf("%q: its file form writes %q (%v)", text, again, err)
		}
	})
}
