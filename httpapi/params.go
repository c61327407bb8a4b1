package httpapi

import (
	"net/http"
	"strconv"
	"time"

	"github.com/outlethq/outlet"
)

// decodeRequest reads a JSON request body of at most maxBody bytes into dst.
func decodeRequest(r *http.Request, dst any, allowEmpty bool) error {
	body, err := readBody(r, maxBody)
	if err != nil {
		return err
	}
	return decodeJSON(body, dst, allowEmpty)
}

// list is the shape of every list answer.
type list[T any] struct {
	Data       []T     `json:"data"`
	NextCursor *string `json:"next_cursor"`
	HasMore    bool    `json:"has_more"`
}

func listOf[T any](items []T, next string) list[T] {
	if items == nil {
		items = []T{}
	}
	l := list[T]{Data: items}
	if next != "" {
		l.NextCursor, l.HasMore = &next, true
	}
	return l
}

// pageParams reads ?limit= and ?cursor=.
func pageParams(r *http.Request) (outlet.Page, error) {
	var p outlet.Page
	q := r.URL.Query()
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			return p, outlet.Errorf(outlet.EINVALID, "limit %q is not a whole number: use 1 to %d", v, outlet.MaxPageLimit)
		}
		// Page reads a limit of 0 as "the default"; a caller who writes
		// ?limit=0 asked for something else.
		if n < 1 || n > outlet.MaxPageLimit {
			return p, outlet.Errorf(outlet.EINVALID, "limit %d is out of range: use 1 to %d, or leave it out for %d", n, outlet.MaxPageLimit, outlet.DefaultPageLimit)
		}
		p.Limit = n
	}
	p.Cursor = q.Get("cursor")
	return p.Normalize()
}

// timeParam reads an RFC 3339 time from the query; zero if absent.
func timeParam(r *http.Request, name string) (time.Time, error) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339Nano, v)
	if err != nil {
		return time.Time{}, outlet.Errorf(outlet.EINVALID, "%s %q is not an RFC 3339 time such as 2026-01-02T15:04:05Z", name, v)
	}
	return t, nil
}
