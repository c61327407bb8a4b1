package sqlite

import (
	"context"
	"database/sql"
	"strings"

	"github.com/outlethq/outlet"
)

// querier is what reads need, from the pool or inside a transaction.
type querier interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// pageQuery appends the conditions, the cursor and the order of a newest-first
// page to base, asking for one row more than the page holds so the caller
// knows whether another page follows.
func pageQuery(base string, conds []string, seqCol string, page outlet.Page, args ...any) (string, []any) {
	if page.Cursor != "" {
		pos, _ := outlet.DecodeCursor(page.Cursor) // checked by Page.Normalize
		conds = append(conds, seqCol+" < ?")
		args = append(args, pos)
	}
	q := base
	if len(conds) > 0 {
		q += " WHERE " + strings.Join(conds, " AND ")
	}
	q += " ORDER BY " + seqCol + " DESC LIMIT ?"
	return q, append(args, page.Limit+1)
}

// cut trims the extra row pageQuery asked for and returns the next cursor.
func cut[T any](items []T, seqs []int64, page outlet.Page) ([]T, string) {
	if len(items) <= page.Limit {
		return items, ""
	}
	return items[:page.Limit], outlet.EncodeCursor(seqs[page.Limit-1])
}

// scanner is a row to scan: *sql.Row or *sql.Rows.
type scanner interface{ Scan(dest ...any) error }

// collect runs query and scans every row it returns.
func collect[T any](ctx context.Context, q querier, query string, args []any, scan func(scanner) (T, error)) ([]T, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []T{}
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

// listPage returns one newest-first page of base's rows that meet conds,
// and the cursor of the next page. scan returns a row and its position.
func listPage[T any](ctx context.Context, q querier, base string, conds []string, seqCol string, page outlet.Page, args []any,
	scan func(scanner) (T, int64, error)) ([]T, string, error) {
	query, args := pageQuery(base, conds, seqCol, page, args...)
	var seqs []int64
	items, err := collect(ctx, q, query, args, func(r scanner) (T, error) {
		v, seq, err := scan(r)
		seqs = append(seqs, seq)
		return v, err
	})
	if err != nil {
		return nil, "", dbErr(err)
	}
	items, next := cut(items, seqs, page)
	return items, next, nil
}

// deleteOne runs a DELETE that must remove a row; ENOTFOUND if none.
func deleteOne(ctx context.Context, tx *sql.Tx, what, id, query string, args ...any) error {
	res, err := tx.ExecContext(ctx, query, args...)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return notFound(what, id)
	}
	return nil
}

// orEmpty stores a nil list as [] rather than null.
func orEmpty(l []string) []string {
	if l == nil {
		return []string{}
	}
	return l
}

// bytesOrEmpty keeps a nil blob from being stored as NULL.
func bytesOrEmpty(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}
