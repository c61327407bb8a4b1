// Command build bundles the portal's TypeScript sources (portal/web) into the
// committed bundle (portal/dist) with esbuild's Go API, reading the npm
// packages that portal/web/package-lock.json pins from portal/web/node_modules
// (`npm ci` puts them there; `make portal` does both).
//
//	go run ./portal/build           # rebuild portal/dist
//	go run ./portal/build -check    # rebuild into a temporary directory; fail if portal/dist differs
//	go run ./portal/build -sizes    # print each file's size and gzipped size, and the first page's
//
// Run it from the repository's root. The output depends only on the sources and
// the packages: the same input gives the same bytes, so CI can tell a stale
// bundle from a fresh one.
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
)

func main() {
	check := flag.Bool("check", false, "build into a temporary directory and fail if the result differs from portal/dist")
	sizes := flag.Bool("sizes", false, "after building, print the gzipped sizes of the first page's JavaScript and of everything")
	flag.Parse()
	if err := run(*check, *sizes); err != nil {
		fmt.Fprintln(os.Stderr, "portal build:", err)
		os.Exit(1)
	}
}

func run(check, sizes bool) error {
	root, err := repoRoot()
	if err != nil {
		return err
	}
	web, dist := filepath.Join(root, "portal", "web"), filepath.Join(root, "portal", "dist")
	out := dist
	if check {
		if out, err = os.MkdirTemp("", "outlet-portal-check-"); err != nil {
			return err
		}
		defer os.RemoveAll(out)
	}
	b, err := Build(web, out)
	if err != nil {
		return err
	}
	if check {
		if diff := Compare(out, dist); diff != "" {
			return fmt.Errorf("the committed bundle portal/dist is not what the sources build (%s); run `make portal` and commit portal/dist", diff)
		}
		fmt.Println("portal/dist matches a fresh build of portal/web")
	}
	if sizes {
		s, err := Measure(out, b)
		if err != nil {
			return err
		}
		fmt.Print(s)
	}
	return nil
}

// repoRoot walks up from the working directory to the one holding go.mod, so
// the command works from any directory inside the repository.
func repoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("no go.mod above the working directory: run it inside the Outlet repository")
		}
		dir = parent
	}
}
