package main

import (
	"bufio"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime/debug"
	"strings"
	"testing"
	"time"
)

func TestVersionDescribesTheBuild(t *testing.T) {
	t.Parallel()
	stamped := &debug.BuildInfo{GoVersion: "go1.26.0", Main: debug.Module{Path: "github.com/outlethq/outlet", Version: "v1.4.0"},
		Settings: []debug.BuildSetting{{Key: "vcs", Value: "git"}, {Key: "vcs.revision", Value: "0123456789abcdef0123456789abcdef01234567"}, {Key: "vcs.modified", Value: "false"}}}
	modified := &debug.BuildInfo{GoVersion: "go1.26.0", Main: debug.Module{Version: "v0.0.0-20260102030405-0123456789ab+dirty"},
		Settings: []debug.BuildSetting{{Key: "vcs.revision", Value: "0123456789abcdef0123456789abcdef01234567"}, {Key: "vcs.modified", Value: "true"}}}
	unstamped := &debug.BuildInfo{GoVersion: "go1.26.0", Main: debug.Module{Version: "(devel)"}}
	tests := []struct {
		name string
		info *debug.BuildInfo
		ok   bool
		want string
	}{
		{"a release names its version, revision and Go", stamped, true, "v1.4.0 (revision 0123456789abcdef0123456789abcdef01234567, go1.26.0)"},
		{"a build of a changed tree says so", modified, true, "v0.0.0-20260102030405-0123456789ab+dirty (revision 0123456789abcdef0123456789abcdef01234567, modified, go1.26.0)"},
		{"a build without VCS stamps is devel", unstamped, true, "devel (go1.26.0)"},
		{"a binary without build info is devel", nil, false, "devel"},
	}
	for _, tt := range tests {
		if got := describeBuild(tt.info, tt.ok); got != tt.want {
			t.Errorf("%s: describeBuild = %q, want %q", tt.name, got, tt.want)
		}
	}
}

// TestTheBuiltBinaryReportsItsModuleVersionAndRevision builds outlet as
// 'make build' does and holds 'outlet version', 'outlet --version' and the
// startup log to what 'go version -m' reads from the same binary.
func TestTheBuiltBinaryReportsItsModuleVersionAndRevision(t *testing.T) {
	t.Parallel()
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command on PATH: the binary can't be built here")
	}
	bin := filepath.Join(t.TempDir(), "outlet")
	// -buildvcs=true wins over a GOFLAGS=-buildvcs=false in the environment:
	// the stamps are what this test is about.
	if out, err := exec.Command(goBin, "build", "-buildvcs=true", "-o", bin, ".").CombinedOutput(); err != nil {
		if strings.Contains(string(out), "VCS") {
			t.Skipf("go build can't read the VCS here, so it stamps no revision:\n%s", out)
		}
		t.Fatalf("go build: %v\n%s", err, out)
	}
	meta, err := exec.Command(goBin, "version", "-m", bin).Output()
	if err != nil {
		t.Fatalf("go version -m: %v", err)
	}
	field := func(re string) string {
		m := regexp.MustCompile(`(?m)` + re).FindSubmatch(meta)
		if m == nil {
			return ""
		}
		return string(m[1])
	}
	goVersion := field(`^\S+: (go\S+)$`)
	modVersion := field(`^\s+mod\s+github\.com/outlethq/outlet\s+(\S+)`)
	revision := field(`^\s+build\s+vcs\.revision=(\S+)$`)
	if revision == "" {
		t.Skipf("go build stamped no VCS revision (no git checkout here?):\n%s", meta)
	}
	want := "outlet " + modVersion + " (revision " + revision
	if field(`^\s+build\s+vcs\.modified=(\S+)$`) == "true" {
		want += ", modified"
	}
	want += ", " + goVersion + ")"
	if modVersion == "" || modVersion == "(devel)" {
		t.Errorf("go version -m shows no module version for the build:\n%s", meta)
	}

	for _, args := range [][]string{{"version"}, {"--version"}} {
		out, err := exec.Command(bin, args...).Output()
		if err != nil {
			t.Errorf("outlet %s: %v", args[0], err)
		}
		if got := strings.TrimSpace(string(out)); got != want {
			t.Errorf("outlet %s printed %q, want %q", args[0], got, want)
		}
	}

	// The startup log names the same version.
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	serve := exec.CommandContext(ctx, bin, "serve", "--addr", "127.0.0.1:0", "--data", t.TempDir(), "--log-format", "json")
	serve.Env = append(os.Environ(), "OUTLET_ADMIN_KEY=olk_admin_version_test_0123456789")
	stderr, err := serve.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := serve.Start(); err != nil {
		t.Fatal(err)
	}
	defer serve.Wait()
	defer serve.Process.Kill()
	sc := bufio.NewScanner(stderr)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var rec struct{ Msg, Version string }
		if json.Unmarshal(sc.Bytes(), &rec) == nil && rec.Msg == "outlet is listening" {
			if "outlet "+rec.Version != want {
				t.Errorf("the startup log's version is %q, want %q", rec.Version, strings.TrimPrefix(want, "outlet "))
			}
			return
		}
	}
	t.Fatalf("outlet serve never logged that it is listening (%v)", sc.Err())
}
