package main

import (
	"runtime/debug"
	"testing"
)

func TestVersionOf(t *testing.T) {
	for _, c := range []struct {
		ldflags string
		bi      *debug.BuildInfo
		want    string
	}{
		{"v1.5.0-3-gabc", &debug.BuildInfo{Main: debug.Module{Version: "v9"}}, "v1.5.0-3-gabc"},
		{"", &debug.BuildInfo{Main: debug.Module{Version: "v1.4.0"}}, "v1.4.0"}, // go install …@v1.4.0
		{"", &debug.BuildInfo{Main: debug.Module{Version: "(devel)"}, Settings: []debug.BuildSetting{
			{Key: "vcs.revision", Value: "0123456789abcdef"}, {Key: "vcs.modified", Value: "true"}}}, "dev (0123456789ab, modified)"},
		{"", &debug.BuildInfo{Main: debug.Module{Version: "(devel)"}}, "dev"},
		{"", nil, "dev"},
	} {
		if got := versionOf(c.ldflags, c.bi); got != c.want {
			t.Errorf("versionOf(%q, %+v) = %q, want %q", c.ldflags, c.bi, got, c.want)
		}
	}
}
