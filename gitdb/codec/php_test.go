package codec

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/gitdbsync/git-dbsync/serialize"
)

// roundTrip decodes text, passes the JSON through its canonical file form
// (which re-sorts members) and encodes it back.
func roundTrip(t *testing.T, name, text string) (string, string) {
	t.Helper()
	n, err := Decode(name, text)
	if err != nil {
		t.Fatalf("decode %q: %v", text, err)
	}
	file, err := serialize.AppendCanonical(nil, &n, "", "")
	if err != nil {
		t.Fatal(err)
	}
	back, err := serialize.Parse(file)
	if err != nil {
		t.Fatal(err)
	}
	out, err := Encode(name, &back)
	if err != nil {
		t.Fatalf("encode %s: %v", file, err)
	}
	return string(file), out
}

func TestPHPExamples(t *testing.T) {
	for _, c := range []struct{ php, json string }{
		{`a:2:{i:2;a:3:{s:5:"title";s:5:"Hello";s:4:"text";s:3:"abc";s:6:"filter";b:0;}s:12:"_multiwidget";i:1;}`,
			`{"2":{"@order":["title","text","filter"],"filter":false,"text":"abc","title":"Hello"},"_multiwidget":1}`},
		{`a:2:{i:0;s:19:"akismet/akismet.php";i:1;s:9:"hello.php";}`, `["akismet/akismet.php","hello.php"]`},
		{`a:0:{}`, `[]`},
		{`s:5:"a;b}c";`, `{"@php":"a;b}c"}`},
		{`d:0.1;`, `{"@php":{"@float":"0.1"}}`},
		{`i:-42;`, `{"@php":-42}`},
		{`N;`, `{"@php":null}`},
		{`http://example.com`, `"http://example.com"`},
		{"a:1:{s:2:\"@x\";s:1:\"\xff\";}", `{"@@x":{"@bytes":"/w=="}}`},
		{`O:8:"stdClass":1:{s:1:"a";r:1;}`, `{"@class":"stdClass","a":{"@r":1}}`},
		{`a:1:{i:0;C:11:"ArrayObject":4:{x:i;}}`, `[{"@class":"ArrayObject","@data":"x:i;"}]`},
		{`C:11:"ArrayObject":4:{x:i;}`, `"C:11:\"ArrayObject\":4:{x:i;}"`}, // not serialized to WordPress at the top
		{`a:b}`, `"a:b}"`},
		{`d:INF;`, `"d:INF;"`},
		{`a:2:{i:1;E:11:"Suit:Hearts";i:0;b:1;}`, `{"0":true,"1":{"@enum":"Suit:Hearts"},"@order":["1","0"]}`},
	} {
		file, out := roundTrip(t, "php", c.php)
		if file != c.json {
			t.Errorf("%s\n decoded %s\n want    %s", c.php, file, c.json)
		}
		if out != c.php {
			t.Errorf("%s\n re-encoded %s", c.php, out)
		}
	}
}

func TestPHPCorrupt(t *testing.T) {
	for _, text := range []string{
		`a:2:{i:0;s:1:"a";}`,        // count says 2
		`s:5:"abc";`,                // length runs past
		`a:1:{i:0;s:1:"a";`,         // unterminated
		`i:05;`,                     // not the form PHP writes
		`a:1:{s:1:"5";b:1;}`,        // PHP stores "5" as an int key
		`a:2:{i:0;b:1;i:0;b:0;}`,    // duplicate key
		`b:2;`,                      // not a bool
		`x:1;`,                      // unknown type, but looks serialized? no: x is not a type
		`O:8:"stdClass":1:{i:0;N;}`, // int property keys are not kept
	} {
		if text == `x:1;` {
			if n, err := Decode("php", text); err != nil || n.Kind != serialize.String {
				t.Errorf("%q is plain text: %v", text, err)
			}
			continue
		}
		if _, err := Decode("php", text); err == nil {
			t.Errorf("%q decoded without error", text)
		}
	}
}

func TestPHPEncodeErrors(t *testing.T) {
	for _, j := range []string{`1.5`, `{"@php":1.5}`, `{"@nope":1}`, `{"@float":"x"}`, `true`} {
		n, err := serialize.Parse([]byte(j))
		if err != nil {
			t.Fatal(err)
		}
		if out, err := Encode("php", &n); err == nil {
			t.Errorf("%s encoded as %q without error", j, out)
		}
	}
}

// TestPHPRoundTripProperty: generated PHP values of every kind decode,
// pass through their file form and encode back to the same bytes.
func TestPHPRoundTripProperty(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	n := 20000
	if testing.Short() {
		n = 2000
	}
	for i := 0; i < n; i++ {
		text := genPHP(r, 0)
		if !looksSerialized(text) && !utf8.ValidString(text) {
			continue // plain text must be UTF-8 (a C:, r: or R: value is not serialized at the top)
		}
		if _, out := roundTrip(t, "php", text); out != text {
			t.Fatalf("case %d:\n in  %q\n out %q", i, text, out)
		}
	}
}

// TestPHPPlainTextProperty: text that is not a serialized value is kept as
// a JSON string.
func TestPHPPlainTextProperty(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for i := 0; i < 5000; i++ {
		text := strings.ToValidUTF8(genString(r), "?")
		if looksSerialized(text) {
			continue
		}
		if file, out := roundTrip(t, "php", text); out != text || file != string(serialize.AppendString(nil, text)) {
			t.Fatalf("%q became %s and %q", text, file, out)
		}
	}
}

func TestPHPOrJSONCodec(t *testing.T) {
	for _, c := range []struct{ text, file, back string }{
		{`a:1:{s:1:"a";i:1;}`, `{"a":1}`, `a:1:{s:1:"a";i:1;}`},
		{`{"b": [1, 2], "a": "x"}`, `{"@json":{"a":"x","b":[1,2]}}`, `{"a":"x","b":[1,2]}`},
		{`[1]`, `{"@json":[1]}`, `[1]`},
		{`{not json`, `"{not json"`, `{not json`},
		{`plain`, `"plain"`, `plain`},
		{`i:5;`, `{"@php":5}`, `i:5;`},
	} {
		file, back := roundTrip(t, "php,json", c.text)
		if file != c.file || back != c.back {
			t.Errorf("%q: file %s, back %q; want %s, %q", c.text, file, back, c.file, c.back)
		}
	}
}

func TestJSONCodec(t *testing.T) {
	file, out := roundTrip(t, "json", `{ "b": [1, 2.50], "a": "x" }`)
	if file != `{"a":"x","b":[1,2.5]}` || out != file {
		t.Errorf("got %s, %s", file, out)
	}
	if _, err := Decode("json", `{"a":`); err == nil {
		t.Error("truncated JSON decoded")
	}
}

func genPHP(r *rand.Rand, depth int) string {
	k := r.IntN(12)
	if depth > 3 && k >= 8 {
		k = r.IntN(8)
	}
	switch k {
	case 0:
		return "N;"
	case 1:
		return fmt.Sprintf("b:%d;", r.IntN(2))
	case 2:
		return fmt.Sprintf("i:%d;", int64(r.Uint64()))
	case 3:
		return "d:" + genFloat(r) + ";"
	case 4, 5:
		s := genString(r)
		return fmt.Sprintf("s:%d:\"%s\";", len(s), s)
	case 6:
		return fmt.Sprintf("%c:%d;", "rR"[r.IntN(2)], 1+r.IntN(9))
	case 7:
		s := "Suit:" + genKey(r)
		return fmt.Sprintf("E:%d:\"%s\";", len(s), s)
	case 8:
		items := r.IntN(5)
		var b strings.Builder
		fmt.Fprintf(&b, "a:%d:{", items)
		for i := 0; i < items; i++ {
			fmt.Fprintf(&b, "i:%d;%s", i, genPHP(r, depth+1))
		}
		return b.String() + "}"
	case 9:
		data := genString(r)
		return fmt.Sprintf("C:11:\"ArrayObject\":%d:{%s}", len(data), data)
	case 10:
		return genMembers(r, depth, "O:8:\"stdClass\":", false)
	}
	return genMembers(r, depth, "a:", true)
}

func genMembers(r *rand.Rand, depth int, head string, intKeys bool) string {
	n := r.IntN(6)
	seen := map[string]bool{}
	var b strings.Builder
	count := 0
	for i := 0; i < n; i++ {
		var key string
		if intKeys && r.IntN(2) == 0 {
			key = fmt.Sprintf("i:%d;", r.IntN(20)-5)
		} else {
			s := genKey(r)
			if isIntKey(s) {
				continue
			}
			key = fmt.Sprintf("s:%d:\"%s\";", len(s), s)
		}
		if seen[key] || intKeys && seen[strings.Replace(key, "i:", "s:", 1)] {
			continue
		}
		seen[key] = true
		b.WriteString(key + genPHP(r, depth+1))
		count++
	}
	return fmt.Sprintf("%s%d:{%s}", head, count, b.String())
}

func genKey(r *rand.Rand) string {
	keys := []string{"title", "@x", "@@y", "@order", "a b", "ünï", "\x00*\x00prot", "0x1", "-0", "07", "", "Z", "z", "\U0001F600", "\uff61"}
	return keys[r.IntN(len(keys))] + strconv.Itoa(r.IntN(3))
}

func genString(r *rand.Rand) string {
	alphabet := []string{"a", "\"", ";", "}", "{", ":", "é", "\xff", "\x00", "\n", "s:1:\"", "N;", "\U0001F600"}
	n := r.IntN(10)
	var b strings.Builder
	for i := 0; i < n; i++ {
		b.WriteString(alphabet[r.IntN(len(alphabet))])
	}
	return b.String()
}

func genFloat(r *rand.Rand) string {
	switch r.IntN(6) {
	case 0:
		return []string{"INF", "-INF", "NAN", "-0"}[r.IntN(4)]
	case 1:
		return strconv.FormatFloat(r.NormFloat64()*1e30, 'E', -1, 64)
	default:
		f := r.NormFloat64() * math.Pow(10, float64(r.IntN(10)-5))
		return strconv.FormatFloat(f, 'g', -1, 64)
	}
}

// FuzzPHP: any text either fails to decode with an error or decodes to a
// value that encodes back to exactly that text; nothing panics.
func FuzzPHP(f *testing.F) {
	for _, seed := range []string{`a:1:{i:0;s:1:"a";}`, `O:8:"stdClass":1:{s:1:"a";d:0.5;}`, `s:3:"a"b";`, `C:1:"X":2:{ab}`, `N;`, `b:1;`, `plain`, `a:1:{s:2:"@x";r:1;}`, `E:6:"Suit:A";`} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, text string) {
		n, err := Decode("php", text)
		if err != nil {
			return
		}
		file, err := serialize.AppendCanonical(nil, &n, "", "")
		if err != nil {
			t.Fatalf("%q decoded to a value with no file form: %v", text, err)
		}
		back, err := serialize.Parse(file)
		if err != nil {
			t.Fatal(err)
		}
		out, err := Encode("php", &back)
		if err != nil || out != text {
			t.Fatalf("%q came back as %q (%v)", text, out, err)
		}
	})
}

// FuzzPHPEncode: any JSON a file could hold either fails to encode with an
// error or encodes to text that decodes again; nothing panics.
func FuzzPHPEncode(f *testing.F) {
	for _, seed := range []string{`{"a":1,"@order":["a","b"]}`, `[{"@float":"1.5"},{"@bytes":"/w=="}]`, `{"@class":"X","@data":"y"}`, `{"@php":{"@r":1}}`, `"text"`, `{"@@x":null}`} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, doc string) {
		n, err := serialize.Parse([]byte(doc))
		if err != nil {
			return
		}
		text, err := Encode("php", &n)
		if err != nil {
			return
		}
		if _, err := Decode("php", text); err != nil && looksSerialized(text) && n.Kind != serialize.String {
			// What we write must read back, except text that merely looks
			// serialized (a plain string such as "b:1;").
			t.Fatalf("%s encoded as %q, which does not decode: %v", doc, text, err)
		}
	})
}
