// Package openapicheck checks HTTP exchanges with Outlet's API against its
// OpenAPI document, docs/openapi.yaml, with pb33f/libopenapi-validator: the
// tests of httpapi and e2e run every request they make through it, so the
// document can't drift from what the server takes and answers.
package openapicheck

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"

	"github.com/pb33f/libopenapi"
	validator "github.com/pb33f/libopenapi-validator"
	"github.com/pb33f/libopenapi-validator/config"
	verrors "github.com/pb33f/libopenapi-validator/errors"

	"github.com/outlethq/outlet/docs"
)

// Checker checks exchanges against the document.
type Checker struct {
	mu sync.Mutex // the validator's caches aren't documented as safe for concurrent use
	v  validator.Validator
}

// New reads docs/openapi.yaml; an error says why it isn't a valid OpenAPI
// 3.1 document.
func New() (*Checker, error) {
	doc, err := libopenapi.NewDocument(docs.OpenAPIYAML())
	if err != nil {
		return nil, fmt.Errorf("docs/openapi.yaml: %w", err)
	}
	v, errs := validator.NewValidator(doc, config.WithFormatAssertions())
	if len(errs) > 0 {
		return nil, fmt.Errorf("docs/openapi.yaml: %v", errs)
	}
	if ok, verrs := v.ValidateDocument(); !ok {
		return nil, fmt.Errorf("docs/openapi.yaml is not a valid OpenAPI document: %s", describe(verrs))
	}
	return &Checker{v: v}, nil
}

// Check returns how one exchange departs from the document, or "". req and
// resp are as sent; their bodies are given apart, since they were read.
//
// The answer must always match: its status must be one the operation
// declares, with the body and headers declared for it. The request must
// match when the server accepted it (a 2xx): a request the document calls
// wrong must be refused. A request to no operation of the document is
// fine only when it is refused as one (404, 405).
func (c *Checker) Check(req *http.Request, reqBody []byte, resp *http.Response, respBody []byte) string {
	c.mu.Lock()
	defer c.mu.Unlock()
	r := req.Clone(req.Context())
	r.Body = io.NopCloser(bytes.NewReader(reqBody))
	r.ContentLength = int64(len(reqBody))
	a := *resp
	a.Body = io.NopCloser(bytes.NewReader(respBody))
	a.Request = r

	_, errs := c.v.ValidateHttpResponse(r, &a)
	noOperation := ""
	if len(errs) > 0 && errs[0].ValidationType == "path" {
		noOperation = describe(errs)
	} else if len(errs) == 0 || errs[0].SpecPath != "" {
		// The validator forgives a trailing or doubled slash; the server
		// doesn't, and answers such a path as no route.
		if p := specPath(errs); p != "" && !matches(p, req.URL.EscapedPath()) {
			noOperation = "the path isn't " + p + " as written"
		}
	}
	if noOperation != "" {
		// A path the document has no operation for (or can't tell which):
		// the server must refuse it.
		if resp.StatusCode >= 400 && resp.StatusCode < 500 {
			return ""
		}
		return fmt.Sprintf("%s %s answered %d, but the document has no such operation: %s", req.Method, req.URL.Path, resp.StatusCode, noOperation)
	}
	var problems []string
	if len(errs) > 0 {
		problems = append(problems, fmt.Sprintf("the answer %d %.300s doesn't match the document: %s", resp.StatusCode, respBody, describe(errs)))
	}
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		r.Body = io.NopCloser(bytes.NewReader(reqBody))
		if ok, errs := c.v.ValidateHttpRequest(r); !ok {
			problems = append(problems, fmt.Sprintf("the server accepted (%d) a request the document calls wrong, with body %.300s: %s", resp.StatusCode, reqBody, describe(errs)))
		}
	}
	if len(problems) == 0 {
		return ""
	}
	return fmt.Sprintf("%s %s: %s", req.Method, req.URL.RequestURI(), strings.Join(problems, "; "))
}

// specPath is the document's path the validator matched, if it says.
func specPath(errs []*verrors.ValidationError) string {
	for _, e := range errs {
		if e.SpecPath != "" {
			return e.SpecPath
		}
	}
	return ""
}

// matches reports whether an escaped request path is the template's, segment
// for segment, each parameter a non-empty segment.
func matches(template, path string) bool {
	ts, ps := strings.Split(template, "/"), strings.Split(path, "/")
	if len(ts) != len(ps) {
		return false
	}
	for i, t := range ts {
		if strings.HasPrefix(t, "{") && strings.HasSuffix(t, "}") {
			if ps[i] == "" {
				return false
			}
		} else if t != ps[i] {
			return false
		}
	}
	return true
}

func describe(errs []*verrors.ValidationError) string {
	var b strings.Builder
	for i, e := range errs {
		if i > 0 {
			b.WriteString("; ")
		}
		b.WriteString(e.Message)
		if e.Reason != "" && e.Reason != e.Message {
			b.WriteString(" (" + e.Reason + ")")
		}
		for _, f := range e.SchemaValidationErrors {
			b.WriteString(" [")
			if f.FieldPath != "" {
				b.WriteString(f.FieldPath + ": ")
			}
			b.WriteString(f.Reason + "]")
		}
	}
	return b.String()
}

// Transport is an http.RoundTripper that checks every exchange with a
// server for which isAPI is true, and tells report of each departure.
type Transport struct {
	Checker *Checker
	Next    http.RoundTripper
	IsAPI   func(r *http.Request) bool
	Report  func(r *http.Request, problem string)
}

func (t *Transport) RoundTrip(r *http.Request) (*http.Response, error) {
	if !t.IsAPI(r) {
		return t.Next.RoundTrip(r)
	}
	var reqBody []byte
	if r.Body != nil && r.Body != http.NoBody {
		b, err := io.ReadAll(r.Body)
		r.Body.Close()
		if err != nil {
			return nil, err
		}
		reqBody = b
		r = r.Clone(r.Context())
		r.Body = io.NopCloser(bytes.NewReader(b))
	}
	resp, err := t.Next.RoundTrip(r)
	if err != nil {
		return resp, err
	}
	respBody, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	resp.Body = io.NopCloser(bytes.NewReader(respBody))
	if err != nil {
		return resp, nil // the caller reads what came, and the error, itself
	}
	if p := t.Checker.Check(r, reqBody, resp, respBody); p != "" {
		t.Report(r, p)
	}
	return resp, nil
}
