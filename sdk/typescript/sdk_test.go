// Package typescript_test runs the TypeScript SDK's own tests (node --test)
// against the real outlet binary, so `make test` and CI run them too.
package typescript_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

const adminKey = "olk_admin_sdk_typescript_0123456789"

// The SDK's tests, test/*.test.js, pass against `outlet serve`: its journeys
// through the real API, its README's examples, and its checks that the
// committed generated types and dist/ are what the spec and the sources
// make.
func TestTheTypeScriptSDKsTestsPassAgainstTheRealServer(t *testing.T) {
	node, errNode := exec.LookPath("node")
	npm, errNpm := exec.LookPath("npm")
	if errNode != nil || errNpm != nil {
		t.Skip("SKIPPED: the TypeScript SDK's tests need node (≥ 18) and npm on PATH")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()

	installed := make(chan error, 1)
	go func() { installed <- npmCI(ctx, npm) }()

	url := startOutlet(t, ctx)
	if err := <-installed; err != nil {
		t.Fatal(err)
	}

	tests, err := filepath.Glob(filepath.Join("test", "*.test.js"))
	if err != nil || len(tests) == 0 {
		t.Fatalf("no test/*.test.js (%v)", err)
	}
	cmd := exec.CommandContext(ctx, node, append([]string{"--test", "--test-reporter=tap"}, tests...)...)
	cmd.Env = append(os.Environ(), "OUTLET_URL="+url, "OUTLET_ADMIN_KEY="+adminKey, "NO_COLOR=1")
	out, err := cmd.CombinedOutput()
	t.Logf("node --test:\n%s", out)
	if err != nil {
		t.Fatalf("node --test failed (%v): see the output above", err)
	}
	// Every test needs the server this test gives it, so none may skip.
	if m := regexp.MustCompile(`(?m)^# skip(?:ped)? (\d+)$`).FindSubmatch(out); m == nil || string(m[1]) != "0" {
		t.Errorf("node --test skipped tests or printed no summary; every test should run here")
	}
}

// npmCI installs the SDK's devDependencies from its lockfile (from npm's
// cache where it can, else from the registry) unless they are there
// already, as `make sdk` leaves them.
func npmCI(ctx context.Context, npm string) error {
	lock, err := os.Stat("package-lock.json")
	if err != nil {
		return err
	}
	if st, err := os.Stat(filepath.Join("node_modules", ".package-lock.json")); err == nil && !st.ModTime().Before(lock.ModTime()) {
		return nil
	}
	out, err := exec.CommandContext(ctx, npm, "ci", "--prefer-offline", "--no-audit", "--no-fund").CombinedOutput()
	if err != nil {
		return &cmdError{"npm ci", err, out}
	}
	return nil
}

type cmdError struct {
	what string
	err  error
	out  []byte
}

func (e *cmdError) Error() string { return e.what + ": " + e.err.Error() + "\n" + string(e.out) }

// startOutlet builds outlet, runs `outlet serve` on a free loopback port
// with a fresh data directory until the test ends, and returns its URL.
// Private networks are allowed: the tests' receivers are on 127.0.0.1.
func startOutlet(t *testing.T, ctx context.Context) string {
	t.Helper()
	dir := t.TempDir()
	binary := filepath.Join(dir, "outlet")
	if out, err := exec.CommandContext(ctx, "go", "build", "-o", binary, "../../cmd/outlet").CombinedOutput(); err != nil {
		t.Fatalf("building outlet: %v\n%s", err, out)
	}
	cmd := exec.Command(binary, "serve", "--addr", "127.0.0.1:0", "--data", filepath.Join(dir, "data"),
		"--log-format", "json", "--allow-private-networks")
	cmd.Env = append(os.Environ(), "OUTLET_ADMIN_KEY="+adminKey)
	logs := &syncBuffer{}
	cmd.Stdout = logs
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	addr := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			logs.Write(append(sc.Bytes(), '\n'))
			var rec struct{ Msg, Addr string }
			if json.Unmarshal(sc.Bytes(), &rec) == nil && rec.Msg == "outlet is listening" {
				addr <- rec.Addr
			}
		}
	}()
	go func() {
		cmd.Wait()
		close(exited)
	}()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-exited
		if t.Failed() {
			t.Logf("outlet serve's log:\n%s", logs)
		}
	})
	select {
	case a := <-addr:
		return "http://" + a
	case <-exited:
		t.Fatalf("outlet serve exited before listening:\n%s", logs)
	case <-time.After(30 * time.Second):
		t.Fatalf("outlet serve did not start listening within 30s:\n%s", logs)
	}
	return ""
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return strings.TrimSpace(s.b.String())
}
