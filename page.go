package outlet

import (
	"encoding/base64"
	"strconv"
)

// Page asks for one page of a list, newest first.
type Page struct {
	Limit  int    // 1..MaxPageLimit; 0 means DefaultPageLimit
	Cursor string // from the previous page's next cursor; "" for the first page
}

const (
	DefaultPageLimit = 50
	MaxPageLimit     = 250
)

// Normalize fills in the default limit and checks the bounds and the cursor.
func (p Page) Normalize() (Page, error) {
	if p.Limit == 0 {
		p.Limit = DefaultPageLimit
	}
	if p.Limit < 1 || p.Limit > MaxPageLimit {
		return p, Errorf(EINVALID, "limit %d is out of range: use 1 to %d", p.Limit, MaxPageLimit)
	}
	if p.Cursor != "" {
		if _, err := DecodeCursor(p.Cursor); err != nil {
			return p, err
		}
	}
	return p, nil
}

// EncodeCursor turns a store's position into the opaque cursor callers see.
func EncodeCursor(pos int64) string {
	return base64.RawURLEncoding.EncodeToString([]byte(strconv.FormatInt(pos, 10)))
}

// DecodeCursor reads a cursor made by EncodeCursor.
func DecodeCursor(c string) (int64, error) {
	b, err := base64.RawURLEncoding.DecodeString(c)
	if err == nil {
		if n, err := strconv.ParseInt(string(b), 10, 64); err == nil && n > 0 {
			return n, nil
		}
	}
	return 0, Errorf(EINVALID, "cursor %q is not valid: pass the next_cursor of the previous page unchanged", truncate(c, 40))
}
