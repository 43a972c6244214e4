// Package codec turns the text a database column holds into the JSON a
// file holds, and back: "json" for text holding a JSON document, "php" for
// PHP's serialize format (WordPress options, Drupal's config and
// variables), "php,json" for a column holding either, "yaml" for Ruby's
// Psych (Rails' serialized columns). Decoded values are structured, so that diffs and three-way
// merges see inside them.
//
// Contract: for "php", Encode(Decode(text)) is text, byte for byte, or
// Decode fails; "json" keeps the document's meaning, not its spacing or
// member order; "php,json" is one or the other, value by value. It imports only serialize.
package codec

import (
	"fmt"
	"slices"
	"strings"

	"github.com/gitdbsync/git-dbsync/serialize"
)

// Names lists the codecs, in the order the documentation gives them.
// "php,json" is for a column that holds either (WordPress's options):
// PHP's format where the text is serialized, {"@json": value} where it is
// a JSON object or array, plain text otherwise.
var Names = []string{"json", "php", "php,json", "yaml"}

// tagJSON wraps a JSON document held as text in a php,json column.
const tagJSON = "@json"

// Known reports whether name is a codec.
func Known(name string) bool { return slices.Contains(Names, name) }

// Decode parses a column's text into the JSON tree the file holds.
func Decode(name, text string) (serialize.Node, error) {
	n, _, err := DecodeNote(name, text)
	return n, err
}

// DecodeNote is Decode, and says why a value was kept as its text (a JSON
// string) when its codec could not decode it exactly: a YAML document the
// encoder would not write back byte for byte. "" when it was not.
func DecodeNote(name, text string) (serialize.Node, string, error) {
	if name == "yaml" {
		n, note := decodeYAML(text)
		return n, note, nil
	}
	n, err := decode(name, text)
	return n, "", err
}

func decode(name, text string) (serialize.Node, error) {
	switch name {
	case "json":
		n, err := serialize.Parse([]byte(text))
		if err != nil {
			return n, fmt.Errorf("not valid JSON: %v", err)
		}
		return n, nil
	case "php":
		return decodePHP(text)
	case "php,json":
		if t := strings.TrimSpace(text); !looksSerialized(text) && t != "" && (t[0] == '{' || t[0] == '[') {
			if n, err := serialize.Parse([]byte(text)); err == nil {
				return tagged(tagJSON, n), nil
			}
		}
		return decodePHP(text)
	}
	return serialize.Node{}, fmt.Errorf("unknown codec %q", name)
}

// Encode writes a JSON tree back as the column's text.
func Encode(name string, n *serialize.Node) (string, error) {
	switch name {
	case "json":
		out, err := serialize.AppendCanonical(nil, n, "", "")
		return string(out), err
	case "php":
		return encodePHP(n)
	case "yaml":
		return encodeYAML(n)
	case "php,json":
		if n.Kind == serialize.Object && len(n.Members) == 1 && n.Members[0].Name == tagJSON {
			out, err := serialize.AppendCanonical(nil, &n.Members[0].Value, "", "")
			return string(out), err
		}
		return encodePHP(n)
	}
	return "", fmt.Errorf("unknown codec %q", name)
}
