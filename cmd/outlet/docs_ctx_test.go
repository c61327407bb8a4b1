package main

import (
	"reflect"
	"regexp"
	"strings"
	"testing"

	"github.com/outlethq/outlet/sandbox"
)

// ctxFields are the fields a function's ctx may hold: its secrets, its own
// name and version, and what sandbox.Meta says about the run.
func ctxFields() []string {
	fields := []string{"secrets", "function"}
	t := reflect.TypeFor[sandbox.Meta]()
	for i := range t.NumField() {
		name, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ",")
		fields = append(fields, name)
	}
	return fields
}

func TestFunctionsDocNamesEveryFieldOfCtx(t *testing.T) {
	t.Parallel()
	text, blocks := readDoc(t)
	fields := ctxFields()

	interfaces := 0
	member := regexp.MustCompile(`(?m)^\s*(\w+)\??\s*:`)
	for _, b := range blocks {
		if b.info != "ts" {
			continue
		}
		_, rest, ok := strings.Cut(b.body, "interface Context {")
		if !ok {
			continue
		}
		interfaces++
		body, _, _ := strings.Cut(rest, "\n}")
		declared := map[string]bool{}
		for _, m := range member.FindAllStringSubmatch(body, -1) {
			declared[m[1]] = true
		}
		for _, f := range fields {
			if !declared[f] {
				t.Errorf("%s:%d: the TypeScript Context lacks %s", functionsDoc, b.line, f)
			}
		}
	}
	if interfaces == 0 {
		t.Fatalf("%s has no TypeScript Context interface", functionsDoc)
	}

	prose := proseOf(text, blocks)
	for _, f := range fields {
		if f != "secrets" && f != "function" && !strings.Contains(prose, "`ctx."+f+"`") {
			t.Errorf("%s doesn't say what ctx.%s is", functionsDoc, f)
		}
	}
	// Event functions are told how to tell a retry from a first attempt.
	_, events, _ := strings.Cut(prose, "**Event functions**")
	events, _, _ = strings.Cut(events, "**Hook functions**")
	for _, f := range []string{"`ctx.event_id`", "`ctx.attempt`"} {
		if !strings.Contains(events, f) {
			t.Errorf("%s: what it says of event functions and their retries doesn't name %s", functionsDoc, f)
		}
	}
}
