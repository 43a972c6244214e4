package codec

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/tidwall/gjson"
	"github.com/tidwall/sjson"

	"github.com/gitdbsync/git-dbsync/serialize"
)

// Path is a path inside a JSON value, in gjson's syntax: member names
// joined by ".", an item's index, "#" for every item of an array, "*" for
// every member or item, "\." for a dot inside a name. Paths are located in
// a document's bytes with gjson and its values set or deleted with sjson,
// which keep every byte they do not touch, numbers included.
type Path []string

// ParsePath parses a path; an empty one is an error.
func ParsePath(s string) (Path, error) {
	var p Path
	var seg strings.Builder
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '\\' && i+1 < len(s):
			i++
			seg.WriteByte(s[i])
		case c == '.':
			p = append(p, seg.String())
			seg.Reset()
		default:
			seg.WriteByte(c)
		}
	}
	p = append(p, seg.String())
	for _, s := range p {
		if s == "" {
			return nil, fmt.Errorf("path %q has an empty step", strings.Join(p, "."))
		}
	}
	return p, nil
}

func (p Path) String() string { return strings.Join(p, ".") }

// Location is a place a path reaches in a document.
type Location struct {
	// Path names the place in gjson's and sjson's syntax, every step
	// escaped and no wildcards left.
	Path  string
	Value gjson.Result
	Item  bool // an item of an array (else a member of an object)
}

// Locate lists the places the path reaches in doc, in document order. "*"
// skips the member that keeps the order of a PHP array's keys.
func (p Path) Locate(doc []byte) []Location {
	var out []Location
	p.locate(gjson.ParseBytes(doc), "", false, &out)
	return out
}

func (p Path) locate(v gjson.Result, at string, item bool, out *[]Location) {
	if len(p) == 0 {
		*out = append(*out, Location{Path: at, Value: v, Item: item})
		return
	}
	join := func(step string) string {
		if at == "" {
			return step
		}
		return at + "." + step
	}
	step, rest := p[0], p[1:]
	switch {
	case v.IsArray():
		i := -1
		v.ForEach(func(_, value gjson.Result) bool {
			i++
			if n := strconv.Itoa(i); step == "#" || step == "*" || step == n {
				rest.locate(value, join(n), true, out)
			}
			return true
		})
	case v.IsObject():
		v.ForEach(func(key, value gjson.Result) bool {
			if step == "*" && key.Str != serialize.OrderMember || key.Str == step {
				rest.locate(value, join(gjson.Escape(key.Str)), false, out)
			}
			return true
		})
	}
}

// Replace sets each value the path reaches in doc to what fn returns for
// it (its raw JSON), and returns the new document.
func (p Path) Replace(doc []byte, fn func(gjson.Result) ([]byte, error)) ([]byte, error) {
	for _, l := range p.Locate(doc) {
		raw, err := fn(l.Value)
		if err != nil {
			return nil, err
		}
		if doc, err = sjson.SetRawBytes(doc, l.Path, raw); err != nil {
			return nil, err
		}
	}
	return doc, nil
}

// Delete removes the object members the path reaches in doc. Array items
// are kept (removing one would renumber the others): they become null.
func (p Path) Delete(doc []byte) ([]byte, error) {
	locs := p.Locate(doc)
	var err error
	for i := len(locs) - 1; i >= 0; i-- { // last first: earlier places stay where they are
		if locs[i].Item {
			doc, err = sjson.SetRawBytes(doc, locs[i].Path, []byte("null"))
		} else {
			doc, err = sjson.DeleteBytes(doc, locs[i].Path)
		}
		if err != nil {
			return nil, err
		}
	}
	return doc, nil
}

// Restore copies into dst the values the path reaches in src, where dst
// has the place for them (the enclosing object or array item exists): what
// Delete removed comes back from src.
func (p Path) Restore(dst, src []byte) ([]byte, error) {
	var err error
	for _, l := range p.Locate(src) {
		parent, _ := cut(l.Path)
		pv := gjson.ParseBytes(dst)
		if parent != "" {
			pv = gjson.GetBytes(dst, parent)
		}
		if l.Item && !pv.IsArray() || !l.Item && !pv.IsObject() {
			continue
		}
		if l.Item && !gjson.GetBytes(dst, l.Path).Exists() {
			continue // an array keeps its length
		}
		if dst, err = sjson.SetRawBytes(dst, l.Path, []byte(l.Value.Raw)); err != nil {
			return nil, err
		}
	}
	return dst, nil
}

// cut splits an escaped path at its last unescaped dot.
func cut(path string) (parent, last string) {
	for i := len(path) - 1; i >= 0; i-- {
		if path[i] != '.' {
			continue
		}
		escapes := 0
		for j := i - 1; j >= 0 && path[j] == '\\'; j-- {
			escapes++
		}
		if escapes%2 == 0 {
			return path[:i], path[i+1:]
		}
	}
	return "", path
}
