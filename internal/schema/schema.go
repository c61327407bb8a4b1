// Package schema compiles JSON Schemas (draft 2020-12 unless a schema says
// otherwise) and checks data against them, with errors that name the first
// place that doesn't match. A schema can refer only to its own definitions: it
// can never make Outlet read a file or call out.
package schema

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/santhosh-tekuri/jsonschema/v6/kind"
	"golang.org/x/text/language"
	"golang.org/x/text/message"

	"github.com/outlethq/outlet"
)

// Schema is a compiled JSON Schema.
type Schema struct {
	s *jsonschema.Schema
}

// Compile compiles a JSON Schema; an invalid one is EINVALID.
func Compile(raw json.RawMessage) (*Schema, error) {
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
	if err != nil {
		return nil, outlet.Errorf(outlet.EINVALID, "schema is not valid JSON: %v", err)
	}
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020)
	c.UseLoader(noLoader{})
	if err := c.AddResource(schemaURL, doc); err != nil {
		return nil, outlet.Errorf(outlet.EINVALID, "schema is not valid: %v", err)
	}
	s, err := c.Compile(schemaURL)
	if err != nil {
		// The library's own message of a schema that breaks the metaschema
		// says only that it does; the first place it does says what to fix.
		var bad *jsonschema.SchemaValidationError
		var ve *jsonschema.ValidationError
		if errors.As(err, &bad) && errors.As(bad.Err, &ve) {
			path, msg := firstMismatch(ve)
			return nil, outlet.Errorf(outlet.EINVALID, "schema is not a valid JSON Schema: at %s: %s", path, msg)
		}
		return nil, outlet.Errorf(outlet.EINVALID, "schema is not a valid JSON Schema: %v", err)
	}
	// A reference loop that reads no data, such as {"$ref":"#"}, compiles
	// and then fails every event. Validating null runs into any loop that
	// doesn't depend on the data.
	if cycle := refCycle(s.Validate(nil)); cycle != nil {
		return nil, outlet.Errorf(outlet.EINVALID, "schema is not a valid JSON Schema: it refers to itself in a loop: %s", cycle.LocalizedString(printer))
	}
	return &Schema{s: s}, nil
}

// refCycle finds a reference loop among the causes of a validation error.
func refCycle(err error) *kind.RefCycle {
	var ve *jsonschema.ValidationError
	if !errors.As(err, &ve) {
		return nil
	}
	if k, ok := ve.ErrorKind.(*kind.RefCycle); ok {
		return k
	}
	for _, c := range ve.Causes {
		if k := refCycle(c); k != nil {
			return k
		}
	}
	return nil
}

// schemaURL is where a schema being compiled lives. It must be
// hierarchical: the library resolves a relative reference against an opaque
// URL (such as outlet:schema.json) to that URL itself, which turned a $ref to
// another file into a reference to the whole schema instead of an error.
const schemaURL = "outlet:///schema.json"

var printer = message.NewPrinter(language.English)

type noLoader struct{}

func (noLoader) Load(url string) (any, error) {
	return nil, fmt.Errorf("%s: schemas may only refer to their own definitions", url)
}

// Validate checks JSON data against the schema. The error, EINVALID, names
// what is checked ("data", "sample", "input"…) and the first place that
// doesn't match.
func (sc *Schema) Validate(data []byte, what string) error {
	s := sc.s
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(data))
	if err != nil {
		return outlet.Errorf(outlet.EINVALID, "%s is not valid JSON: %v", what, err)
	}
	err = s.Validate(inst)
	var ve *jsonschema.ValidationError
	if !errors.As(err, &ve) {
		return err
	}
	path, msg := firstMismatch(ve)
	return outlet.Errorf(outlet.EINVALID, "%s does not match its schema at %s: %s", what, path, msg)
}

// firstMismatch is where the first innermost cause of a validation error is,
// as a JSON pointer, and what it is.
func firstMismatch(ve *jsonschema.ValidationError) (path, msg string) {
	for len(ve.Causes) > 0 {
		ve = ve.Causes[0]
	}
	return "/" + strings.Join(ve.InstanceLocation, "/"), ve.ErrorKind.LocalizedString(printer)
}
