package main

import (
	"runtime/debug"
	"strings"
)

// version describes this build as 'outlet version', 'outlet --version' and
// the startup log show it: the module version, the VCS revision it was built
// from (and whether the tree had changes), and the Go version. Go stamps all
// of it into binaries built with 'go build' or 'go install' in a checkout, so
// no -ldflags are needed.
var version = describeBuild(debug.ReadBuildInfo())

// moduleVersion is the module version alone, for the CLI's User-Agent.
var moduleVersion = moduleVersionOf(debug.ReadBuildInfo())

func moduleVersionOf(info *debug.BuildInfo, ok bool) string {
	// "(devel)" is what Go reports when it knows no version: 'go run', a
	// test binary, a build outside a checkout.
	if !ok || info.Main.Version == "" || info.Main.Version == "(devel)" {
		return "devel"
	}
	return info.Main.Version
}

func describeBuild(info *debug.BuildInfo, ok bool) string {
	v := moduleVersionOf(info, ok)
	if !ok {
		return v
	}
	var details []string
	settings := map[string]string{}
	for _, s := range info.Settings {
		settings[s.Key] = s.Value
	}
	if rev := settings["vcs.revision"]; rev != "" {
		details = append(details, "revision "+rev)
	}
	if settings["vcs.modified"] == "true" {
		details = append(details, "modified")
	}
	if info.GoVersion != "" {
		details = append(details, info.GoVersion)
	}
	if len(details) == 0 {
		return v
	}
	return v + " (" + strings.Join(details, ", ") + ")"
}
