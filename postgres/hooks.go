package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/outlethq/outlet"
)

const hookCols = `name, description, input_schema, output_schema, timeout_ms, on_error, created_at, updated_at`

func scanHook(row pgx.Row) (*outlet.Hook, error) {
	var h outlet.Hook
	var in, out *string
	var created, updated int64
	if err := row.Scan(&h.Name, &h.Description, &in, &out, &h.TimeoutMs, &h.OnError, &created, &updated); err != nil {
		return nil, err
	}
	h.InputSchema, h.OutputSchema = rawJSON(in), rawJSON(out)
	h.CreatedAt, h.UpdatedAt = fromMs(created), fromMs(updated)
	return &h, nil
}

func (s *Store) CreateHook(ctx context.Context, h *outlet.Hook) error {
	err := s.tx(ctx, func(ctx context.Context, tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `INSERT INTO hooks (`+hookCols+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
			h.Name, h.Description, rawText(h.InputSchema), rawText(h.OutputSchema), h.TimeoutMs, h.OnError, ms(h.CreatedAt), ms(h.UpdatedAt))
		if err != nil {
			return err
		}
		return audit(ctx, tx, outlet.AuditHookCreated(h))
	})
	if outlet.ErrorCode(err) == outlet.ECONFLICT {
		return outlet.Errorf(outlet.ECONFLICT, "hook %q already exists", h.Name)
	}
	return err
}

func (s *Store) Hook(ctx context.Context, name string) (*outlet.Hook, error) {
	ctx, cancel := bound(ctx)
	defer cancel()
	return hook(ctx, s.pool, name, "")
}

func hook(ctx context.Context, q querier, name, lock string) (*outlet.Hook, error) {
	h, err := scanHook(q.QueryRow(ctx, `SELECT `+hookCols+` FROM hooks WHERE name = $1 `+lock, name))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, notFound("hook", name)
	}
	return h, dbErr(err)
}

func (s *Store) ListHooks(ctx context.Context) ([]*outlet.Hook, error) {
	ctx, cancel := bound(ctx)
	defer cancel()
	hs, err := collect(ctx, s.pool, `SELECT `+hookCols+` FROM hooks ORDER BY name`, nil, scanHook)
	return hs, dbErr(err)
}

func (s *Store) UpdateHook(ctx context.Context, name string, u outlet.HookUpdate, now time.Time) (*outlet.Hook, error) {
	var h *outlet.Hook
	err := s.tx(ctx, func(ctx context.Context, tx pgx.Tx) error {
		var err error
		if h, err = hook(ctx, tx, name, "FOR NO KEY UPDATE"); err != nil {
			return err
		}
		h.Apply(u)
		if err := h.Validate(); err != nil {
			return err
		}
		h.UpdatedAt = now
		_, err = tx.Exec(ctx, `UPDATE hooks SET description = $1, input_schema = $2, output_schema = $3, timeout_ms = $4, on_error = $5,
			updated_at = $6 WHERE name = $7`, h.Description, rawText(h.InputSchema), rawText(h.OutputSchema), h.TimeoutMs, h.OnError, ms(now), name)
		if err != nil {
			return err
		}
		return audit(ctx, tx, outlet.AuditHookUpdated(name, u))
	})
	return h, err
}

func (s *Store) DeleteHook(ctx context.Context, name string) error {
	return s.tx(ctx, func(ctx context.Context, tx pgx.Tx) error {
		if err := deleteOne(ctx, tx, "hook", name, `DELETE FROM hooks WHERE name = $1`, name); err != nil {
			return err
		}
		return audit(ctx, tx, outlet.AuditHookDeleted(name))
	})
}

const hookEndpointCols = `tenant_id, hook, url, headers, secret, created_at, updated_at`

func scanHookEndpoint(row pgx.Row) (*outlet.HookEndpoint, error) {
	var e outlet.HookEndpoint
	var headers string
	var created, updated int64
	if err := row.Scan(&e.TenantID, &e.Hook, &e.URL, &headers, &e.Secret, &created, &updated); err != nil {
		return nil, err
	}
	e.CreatedAt, e.UpdatedAt = fromMs(created), fromMs(updated)
	return &e, json.Unmarshal([]byte(headers), &e.Headers)
}

func (s *Store) PutHookEndpoint(ctx context.Context, e *outlet.HookEndpoint) error {
	return s.tx(ctx, func(ctx context.Context, tx pgx.Tx) error {
		// The tenant's lock keeps a deploy from binding a function to the
		// hook while this checks that none is.
		if _, ok, err := lockTenant(ctx, tx, e.TenantID); err != nil || !ok {
			if err == nil {
				err = notFound("tenant", e.TenantID)
			}
			return err
		}
		if _, err := hook(ctx, tx, e.Hook, "FOR KEY SHARE"); err != nil {
			return err
		}
		vs, err := activeVersions(ctx, tx, e.TenantID, false)
		if err != nil {
			return err
		}
		for _, v := range vs {
			if v.ServesHook(e.Hook) {
				return outlet.Errorf(outlet.ECONFLICT, "your function %q serves hook %q; remove the hook from it (or delete it) before serving the hook with an endpoint", v.Function, e.Hook)
			}
		}
		var created int64
		err = tx.QueryRow(ctx, `INSERT INTO hook_endpoints (`+hookEndpointCols+`) VALUES ($1, $2, $3, $4, $5, $6, $7)
			ON CONFLICT (tenant_id, hook) DO UPDATE SET url = excluded.url, headers = excluded.headers, secret = excluded.secret,
			updated_at = excluded.updated_at RETURNING created_at`,
			e.TenantID, e.Hook, e.URL, jsonText(e.Headers), e.Secret, ms(e.CreatedAt), ms(e.UpdatedAt)).Scan(&created)
		if err != nil {
			return err
		}
		e.CreatedAt = fromMs(created)
		return audit(ctx, tx, outlet.AuditHookEndpointSet(e))
	})
}

func (s *Store) HookEndpoint(ctx context.Context, tenantID, hookName string) (*outlet.HookEndpoint, error) {
	ctx, cancel := bound(ctx)
	defer cancel()
	e, err := scanHookEndpoint(s.pool.QueryRow(ctx, `SELECT `+hookEndpointCols+` FROM hook_endpoints WHERE tenant_id = $1 AND hook = $2`,
		tenantID, hookName))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, outlet.Errorf(outlet.ENOTFOUND, "tenant %q has no endpoint for hook %q", tenantID, hookName)
	}
	return e, dbErr(err)
}

func (s *Store) ListHookEndpoints(ctx context.Context, tenantID string) ([]*outlet.HookEndpoint, error) {
	ctx, cancel := bound(ctx)
	defer cancel()
	if _, err := tenant(ctx, s.pool, tenantID, ""); err != nil {
		return nil, err
	}
	es, err := collect(ctx, s.pool, `SELECT `+hookEndpointCols+` FROM hook_endpoints WHERE tenant_id = $1 ORDER BY hook`, []any{tenantID},
		scanHookEndpoint)
	return es, dbErr(err)
}

func (s *Store) DeleteHookEndpoint(ctx context.Context, tenantID, hookName string) error {
	return s.tx(ctx, func(ctx context.Context, tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `DELETE FROM hook_endpoints WHERE tenant_id = $1 AND hook = $2`, tenantID, hookName)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return outlet.Errorf(outlet.ENOTFOUND, "tenant %q has no endpoint for hook %q", tenantID, hookName)
		}
		return audit(ctx, tx, outlet.AuditHookEndpointDeleted(tenantID, hookName))
	})
}
