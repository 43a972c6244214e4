package shard

import (
	"fmt"
	"testing"
)

func TestPartsCoverEachNameOnce(t *testing.T) {
	var names []string
	for i := range 200 {
		names = append(names, fmt.Sprintf("shop-%03d", i))
	}
	for _, n := range []int{1, 2, 3, 7} {
		seen := map[string]int{}
		for k := 1; k <= n; k++ {
			part := Shard{k, n}.Pick(names)
			if n > 1 && (len(part) < 200/n/2 || len(part) > 200/n*2) {
				t.Errorf("part %d/%d holds %d of 200 names: far from even", k, n, len(part))
			}
			for _, name := range part {
				seen[name]++
			}
		}
		for _, name := range names {
			if seen[name] != 1 {
				t.Errorf("%s falls in %d parts of %d, want 1", name, seen[name], n)
			}
		}
	}
}

// A name's part depends on the name and N alone: another environment
// added to the fleet moves none of the others.
func TestPartIgnoresOtherNames(t *testing.T) {
	a := Shard{2, 3}.Pick([]string{"prod-eu", "prod-us", "shop-1", "shop-2", "shop-3"})
	b := Shard{2, 3}.Pick([]string{"new-1", "prod-eu", "new-2", "prod-us", "shop-1", "shop-2", "shop-3", "new-3"})
	var kept []string
	for _, name := range b {
		if name[:4] != "new-" {
			kept = append(kept, name)
		}
	}
	if fmt.Sprint(a) != fmt.Sprint(kept) {
		t.Errorf("part 2/3 of the fleet was %v, with three more environments %v", a, kept)
	}
}

func TestParse(t *testing.T) {
	env := map[string]string{"CI_NODE_INDEX": "2", "CI_NODE_TOTAL": "4", "JOB_COMPLETION_INDEX": "0"}
	getenv := func(k string) string { return env[k] }
	for spec, want := range map[string]string{"1/3": "1/3", "3/3": "3/3", " 2/3 ": "2/3", "gitlab": "2/4", "k8s/5": "1/5"} {
		s, err := Parse(spec, getenv)
		if err != nil || s.String() != want {
			t.Errorf("Parse(%q) = %v, %v; want %s", spec, s, err, want)
		}
	}
	for _, spec := range []string{"0/3", "4/3", "3", "a/b", "1/0", "k8s/x", ""} {
		if s, err := Parse(spec, getenv); err == nil {
			t.Errorf("Parse(%q) = %v, want an error", spec, s)
		}
	}
	if _, err := Parse("gitlab", func(string) string { return "" }); err == nil {
		t.Error("--shard gitlab without $CI_NODE_INDEX: want an error")
	}
	env["JOB_COMPLETION_INDEX"] = "5"
	if s, err := Parse("k8s/5", getenv); err == nil {
		t.Errorf("JOB_COMPLETION_INDEX 5 of 5 (counted from 0) = %v, want an error", s)
	}
}
