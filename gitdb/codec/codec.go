// Package codec turns the text a database column holds into the JSON a
// file holds, and back: "json" for text holding a JSON document, "php" for
// PHP's serialize format (WordPress options, Drupal's config and
// variables). Decoded values are structured, so that diffs and three-way
// merges see inside them.
//
// Contract: for "php", Encode(Decode(text)) is text, byte for byte, or
// Decode fails; "json" keeps the document's meaning, not its spacing or
// member order. It imports only serialize.
package codec

import (
	"fmt"

	"github.com/gitdbsync/git-dbsync/serialize"
)

// Names lists the codecs, in the order the documentation gives them.
var Names = []string{"json", "php"}

// Known reports whether name is a codec.
func Known(name string) bool { return name == "json" || name == "php" }

// Decode parses a column's text into the JSON tree the file holds.
func Decode(name, text string) (serialize.Node, error) {
	switch name {
	case "json":
		n, err := serialize.Parse([]byte(text))
		if err != nil {
			return n, fmt.Errorf("not valid JSON: %v", err)
		}
		return n, nil
	case "php":
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
	}
	return "", fmt.Errorf("unknown codec %q", name)
}
