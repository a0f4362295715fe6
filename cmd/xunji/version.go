package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"runtime"
	"runtime/debug"
)

// Set at build time by scripts/build.sh:
//
//	-ldflags "-X main.version=v1.2.3 -X main.commit=abc1234"
//
// Left empty by a plain go build or go run; then the module's build
// information (the VCS stamp Go records since 1.18) fills them in.
var (
	version string
	commit  string
)

// BuildInfo is what this binary knows about its own build.
type BuildInfo struct {
	Version, Commit, GoVersion string
}

// buildInfo returns the stamped version and commit, falling back to
// runtime/debug.ReadBuildInfo and then to "devel"/"unknown".
func buildInfo() BuildInfo {
	return resolveBuildInfo(version, commit, debug.ReadBuildInfo)
}

func resolveBuildInfo(v, c string, read func() (*debug.BuildInfo, bool)) BuildInfo {
	bi := BuildInfo{Version: v, Commit: c, GoVersion: runtime.Version()}
	if info, ok := read(); ok {
		if bi.Version == "" && info.Main.Version != "" && info.Main.Version != "(devel)" {
			bi.Version = info.Main.Version
		}
		if info.GoVersion != "" {
			bi.GoVersion = info.GoVersion
		}
		modified := false
		for _, s := range info.Settings {
			switch s.Key {
			case "vcs.revision":
				if bi.Commit == "" {
					bi.Commit = s.Value
				}
			case "vcs.modified":
				modified = s.Value == "true"
			}
		}
		if modified && c == "" && bi.Commit != "" {
			bi.Commit += "-dirty"
		}
	}
	if bi.Version == "" {
		bi.Version = "devel"
	}
	if bi.Commit == "" {
		bi.Commit = "unknown"
	}
	return bi
}

// printVersion writes the -version answer.
func printVersion(w io.Writer, bi BuildInfo) {
	fmt.Fprintf(w, "xunji %s\ncommit %s\ngo %s\n", bi.Version, bi.Commit, bi.GoVersion)
}

// wantsVersion reports whether the command line asks for the version:
// -version or --version anywhere before a "--".
func wantsVersion(args []string) bool {
	for _, a := range args {
		switch a {
		case "-version", "--version", "-version=true", "--version=true":
			return true
		case "--":
			return false
		}
	}
	return false
}

// dispatch runs what is not the bot itself — -version and the
// operations subcommands (backup, restore, migrate) — and reports
// whether it did, with the exit code.
func dispatch(args []string, stdout, stderr io.Writer, getenv func(string) string) (code int, handled bool) {
	if len(args) > 0 {
		if run, ok := subcommands[args[0]]; ok {
			if err := run(args[1:], stdout, stderr, getenv); err != nil {
				if errors.Is(err, flag.ErrHelp) {
					return 0, true
				}
				fmt.Fprintf(stderr, "xunji %s: %v\n", args[0], err)
				return 1, true
			}
			return 0, true
		}
	}
	if wantsVersion(args) {
		printVersion(stdout, buildInfo())
		return 0, true
	}
	return 0, false
}

// subcommands are the operations verbs: xunji VERB [flags].
var subcommands = map[string]func(args []string, stdout, stderr io.Writer, getenv func(string) string) error{}
