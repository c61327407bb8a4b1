package postgres

import (
	"context"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/outlethq/outlet"
)

// querier is what statements need: the pool, or a transaction.
type querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
}

// batchSender sends a batch: the pool, which runs it as a transaction of its
// own, or a transaction.
type batchSender interface {
	SendBatch(ctx context.Context, b *pgx.Batch) pgx.BatchResults
}

// params numbers the parameters of a query as it is written: add returns
// the placeholder of the value it appends.
type params []any

func (p *params) add(v any) string {
	*p = append(*p, v)
	return "$" + strconv.Itoa(len(*p))
}

// pageQuery appends the conditions, the cursor and the order of a newest-first
// page to base, asking for one row more than the page holds so the caller
// knows whether another page follows.
func pageQuery(base string, conds []string, seqCol string, page outlet.Page, p *params) string {
	if page.Cursor != "" {
		pos, _ := outlet.DecodeCursor(page.Cursor) // checked by Page.Normalize
		conds = append(conds, seqCol+" < "+p.add(pos))
	}
	q := base
	if len(conds) > 0 {
		q += " WHERE " + strings.Join(conds, " AND ")
	}
	return q + " ORDER BY " + seqCol + " DESC LIMIT " + p.add(page.Limit+1)
}

// cut trims the extra row pageQuery asked for and returns the next cursor.
func cut[T any](items []T, seqs []int64, page outlet.Page) ([]T, string) {
	if len(items) <= page.Limit {
		return items, ""
	}
	return items[:page.Limit], outlet.EncodeCursor(seqs[page.Limit-1])
}

// collect runs query and scans every row it returns.
func collect[T any](ctx context.Context, q querier, query string, args []any, scan func(pgx.Row) (T, error)) ([]T, error) {
	rows, err := q.Query(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	return scanAll(rows, scan)
}

// scanAll scans every row of rows and closes them.
func scanAll[T any](rows pgx.Rows, scan func(pgx.Row) (T, error)) ([]T, error) {
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
func listPage[T any](ctx context.Context, q querier, base string, conds []string, seqCol string, page outlet.Page, p params,
	scan func(pgx.Row) (T, int64, error)) ([]T, string, error) {
	query := pageQuery(base, conds, seqCol, page, &p)
	var seqs []int64
	items, err := collect(ctx, q, query, p, func(r pgx.Row) (T, error) {
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
func deleteOne(ctx context.Context, q querier, what, id, query string, args ...any) error {
	tag, err := q.Exec(ctx, query, args...)
	if err != nil {
		return dbErr(err)
	}
	if tag.RowsAffected() == 0 {
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
