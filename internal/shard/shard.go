// Package shard splits a fleet of environments between the jobs of a CI
// matrix: part K of N holds the environments whose name hashes there.
//
// The part is a function of the name and N alone (rendezvous hashing), not
// of the other names: the same environment always falls in the same part,
// the parts cover every environment exactly once, and adding or removing
// one never moves another between jobs. The price is balance: parts are
// equal only on average (12 environments over 3 parts may split 5/4/3).
package shard

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"strconv"
	"strings"
)

// Shard is part K (from 1) of N.
type Shard struct{ K, N int }

func (s Shard) String() string { return fmt.Sprintf("%d/%d", s.K, s.N) }

// Parse reads a --shard value:
//
//	K/N      part K of N, K from 1 to N
//	gitlab   $CI_NODE_INDEX of $CI_NODE_TOTAL (a GitLab job with parallel: N)
//	k8s/N    $JOB_COMPLETION_INDEX + 1 of N (a Kubernetes Indexed Job,
//	         whose index counts from 0)
//
// getenv reads the environment (os.Getenv).
func Parse(spec string, getenv func(string) string) (Shard, error) {
	spec = strings.TrimSpace(spec)
	k, n, ok := strings.Cut(spec, "/")
	switch {
	case spec == "gitlab":
		for _, v := range []string{"CI_NODE_INDEX", "CI_NODE_TOTAL"} {
			if getenv(v) == "" {
				return Shard{}, fmt.Errorf("--shard gitlab reads $CI_NODE_INDEX and $CI_NODE_TOTAL, which GitLab sets in a job with parallel: N; $%s is not set", v)
			}
		}
		return parse(getenv("CI_NODE_INDEX"), getenv("CI_NODE_TOTAL"), 1, "$CI_NODE_INDEX")
	case ok && k == "k8s":
		idx := getenv("JOB_COMPLETION_INDEX")
		if idx == "" {
			return Shard{}, fmt.Errorf("--shard k8s/N reads $JOB_COMPLETION_INDEX, which Kubernetes sets in the pods of an Indexed Job; it is not set")
		}
		return parse(idx, n, 0, "$JOB_COMPLETION_INDEX")
	case ok:
		return parse(k, n, 1, "K")
	}
	return Shard{}, fmt.Errorf("--shard %q: give K/N (part K of N, from 1), gitlab, or k8s/N", spec)
}

// parse reads part k of n, k counted from first (1, or 0 for an index).
func parse(k, n string, first int, what string) (Shard, error) {
	kn, err := strconv.Atoi(strings.TrimSpace(k))
	if err != nil {
		return Shard{}, fmt.Errorf("--shard: %s = %q is not a number", what, k)
	}
	nn, err := strconv.Atoi(strings.TrimSpace(n))
	if err != nil || nn < 1 {
		return Shard{}, fmt.Errorf("--shard: N = %q is not a number of parts (1 or more)", n)
	}
	if kn < first || kn > nn-1+first {
		return Shard{}, fmt.Errorf("--shard: %s = %d is not one of the %d parts: it counts from %d to %d", what, kn, nn, first, nn-1+first)
	}
	return Shard{kn + 1 - first, nn}, nil
}

// Of returns the part (from 1) of n that name falls in: the part whose
// hash with the name is highest.
func Of(name string, n int) int {
	best, part := uint64(0), 1
	for k := 1; k <= n; k++ {
		h := sha256.Sum256([]byte(strconv.Itoa(k) + "\x00" + name))
		if w := binary.BigEndian.Uint64(h[:8]); k == 1 || w > best {
			best, part = w, k
		}
	}
	return part
}

// Pick keeps the names, in order, that fall in part s.
func (s Shard) Pick(names []string) []string {
	var out []string
	for _, name := range names {
		if Of(name, s.N) == s.K {
			out = append(out, name)
		}
	}
	return out
}
