package main

import (
	"os"
	"regexp"
	"strings"
	"testing"
)

// TestTheREADMESaysHowToGetTheCLI holds the README to telling a new user,
// before its first 'outlet …' command, how to get the binary, with commands
// that do: the Makefile's build target writes ./bin/outlet, and this
// directory is a main package that go install builds.
func TestTheREADMESaysHowToGetTheCLI(t *testing.T) {
	t.Parallel()
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	text := string(readme)
	first := regexp.MustCompile("(?m)^outlet \\w").FindStringIndex(text)
	if first == nil {
		t.Fatal("README.md runs no outlet command")
	}
	before := text[:first[0]]
	for _, want := range []string{"make build", "./bin/outlet", "go install ./cmd/outlet"} {
		if !strings.Contains(before, want) {
			t.Errorf("README.md doesn't say %q before its first outlet command", want)
		}
	}
	makefile, err := os.ReadFile("../../Makefile")
	if err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`(?m)^build:.*\n\t\$\(GO\) build -o bin/outlet \./cmd/outlet$`).Match(makefile) {
		t.Errorf("the Makefile's build target doesn't build ./cmd/outlet into bin/outlet, as the README says")
	}
}
