package main

import (
	"fmt"

	"github.com/spf13/pflag"
)

// onceEnv is --env: one environment. Given twice, the last one used to win
// silently, which can point a deploy at the wrong database; now it is a
// usage error.
type onceEnv struct {
	name *string
	set  bool
}

func (e *onceEnv) String() string { return *e.name }
func (e *onceEnv) Type() string   { return "NAME" }

func (e *onceEnv) Set(v string) error {
	if e.set && v != *e.name {
		return fmt.Errorf("given twice (%s and %s): name one environment", *e.name, v)
	}
	*e.name, e.set = v, true
	return nil
}

// envVar defines a command's --env flag on p, with its default.
func envVar(f *pflag.FlagSet, p *string, value, usage string) {
	*p = value
	f.Var(&onceEnv{name: p}, "env", usage)
}
