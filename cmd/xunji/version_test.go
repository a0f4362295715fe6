package main

import (
	"bytes"
	"debug/elf"
	"fmt"
	"io"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strings"
	"testing"
)

func TestVersionFallsBackToBuildInfo(t *testing.T) {
	read := func() (*debug.BuildInfo, bool) {
		return &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "v0.9.0"},
			Settings: []debug.BuildSetting{{Key: "vcs.revision", Value: "f00d"}, {Key: "vcs.modified", Value: "true"}}}, true
	}
	if got, want := resolveBuildInfo("", "", read), (BuildInfo{"v0.9.0", "f00d-dirty", "go1.26.8"}); got != want {
		t.Errorf("from build info: %+v, want %+v", got, want)
	}
	if got, want := resolveBuildInfo("v1.0.0", "abc", read), (BuildInfo{"v1.0.0", "abc", "go1.26.8"}); got != want {
		t.Errorf("stamped: %+v, want %+v", got, want)
	}
	none := func() (*debug.BuildInfo, bool) { return nil, false }
	if got, want := resolveBuildInfo("", "", none), (BuildInfo{"devel", "unknown", runtime.Version()}); got != want {
		t.Errorf("nothing known: %+v, want %+v", got, want)
	}
}

func TestVersionFlagPrintsAndExitsZero(t *testing.T) {
	for _, args := range [][]string{{"-version"}, {"--version"}, {"-config", "x.yaml", "-version"}} {
		var out, errs bytes.Buffer
		code, handled := dispatch(args, &out, &errs, env(nil))
		if !handled || code != 0 {
			t.Errorf("%v: handled %v, code %d, want handled, 0", args, handled, code)
		}
		for _, want := range []string{"xunji ", "commit ", "go " + runtime.Version()} {
			if !strings.Contains(out.String(), want) {
				t.Errorf("%v: output %q lacks %q", args, out.String(), want)
			}
		}
	}
	if _, handled := dispatch([]string{"-config", "x.yaml"}, &bytes.Buffer{}, &bytes.Buffer{}, env(nil)); handled {
		t.Error("a plain run was taken for a subcommand")
	}
}

// The build script is what the Dockerfile and CI run: a static binary
// whose -version shows the stamped version and commit.
func TestBuildScriptStampsVersionAndCommit(t *testing.T) {
	out := filepath.Join(t.TempDir(), "xunji")
	cmd := exec.Command("sh", "../../scripts/build.sh", out)
	cmd.Env = append(os.Environ(), "VERSION=v9.8.7-test", "COMMIT=0123abcd")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build.sh: %v\n%s", err, b)
	}
	got, err := exec.Command(out, "-version").Output()
	if err != nil {
		t.Fatalf("xunji -version: %v", err)
	}
	for _, want := range []string{"xunji v9.8.7-test\n", "commit 0123abcd\n", "go " + runtime.Version() + "\n"} {
		if !strings.Contains(string(got), want) {
			t.Errorf("-version printed %q, lacking %q", got, want)
		}
	}
	// Static: no ELF interpreter (dynamic loader) and no shared libraries.
	f, err := elf.Open(out)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			t.Error("the binary asks for a dynamic loader; want a static build")
		}
	}
	if libs, _ := f.ImportedLibraries(); len(libs) > 0 {
		t.Errorf("the binary links %v; want a static build", libs)
	}
}

// The program registers xunji_build_info with its metrics at start-up.
func TestBuildInfoMetricOfTheProgram(t *testing.T) {
	m := testMain()
	m.Stdout, m.Stderr = io.Discard, io.Discard
	m.Getenv = env(map[string]string{"XUNJI_STORE_PATH": filepath.Join(t.TempDir(), "x.db")})
	if err := m.setup(t.Context()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = m.Close() })
	rec := httptest.NewRecorder()
	m.Metrics.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	bi := buildInfo()
	want := fmt.Sprintf(`xunji_build_info{commit=%q,goversion=%q,version=%q} 1`, bi.Commit, bi.GoVersion, bi.Version)
	if !strings.Contains(rec.Body.String(), want) {
		t.Errorf("/metrics lacks %s", want)
	}
}
