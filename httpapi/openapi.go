package httpapi

import (
	"net/http"

	"github.com/outlethq/outlet/docs"
)

// openAPIDoc serves docs/openapi.yaml as JSON, converted once when the
// server is built.
type openAPIDoc struct {
	doc []byte
	err error
}

func (a *openAPIDoc) routes(s *Server) {
	a.doc, a.err = docs.OpenAPIJSON()
	s.handle("GET /v1/openapi.json", public, a.get)
}

func (a *openAPIDoc) get(w http.ResponseWriter, r *http.Request) error {
	if a.err != nil {
		return a.err
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-cache")
	w.Write(a.doc) // a failed write means the client has gone
	return nil
}
