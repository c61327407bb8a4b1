package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"time"

	"github.com/outlethq/outlet"
)

const hookCols = `name, description, input_schema, output_schema, timeout_ms, on_error, created_at, updated_at`

func scanHook(row scanner) (*outlet.Hook, error) {
	var h outlet.Hook
	var in, out sql.NullString
	var created, updated int64
	if err := row.Scan(&h.Name, &h.Description, &in, &out, &h.TimeoutMs, &h.OnError, &created, &updated); err != nil {
		return nil, err
	}
	if in.Valid {
		h.InputSchema = json.RawMessage(in.String)
	}
	if out.Valid {
		h.OutputSchema = json.RawMessage(out.String)
	}
	h.CreatedAt, h.UpdatedAt = fromMs(created), fromMs(updated)
	return &h, nil
}

func (s *Store) CreateHook(ctx context.Context, h *outlet.Hook) error {
	if err := checkText(h.Description, string(h.InputSchema), string(h.OutputSchema)); err != nil {
		return err
	}
	err := s.tx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO hooks (`+hookCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
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
	return hook(ctx, s.r, name)
}

func hook(ctx context.Context, q querier, name string) (*outlet.Hook, error) {
	h, err := scanHook(q.QueryRowContext(ctx, `SELECT `+hookCols+` FROM hooks WHERE name = ?`, name))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound("hook", name)
	}
	return h, dbErr(err)
}

func (s *Store) ListHooks(ctx context.Context) ([]*outlet.Hook, error) {
	hs, err := collect(ctx, s.r, `SELECT `+hookCols+` FROM hooks ORDER BY name`, nil, scanHook)
	return hs, dbErr(err)
}

func (s *Store) UpdateHook(ctx context.Context, name string, u outlet.HookUpdate, now time.Time) (*outlet.Hook, error) {
	var h *outlet.Hook
	err := s.tx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		var err error
		if h, err = hook(ctx, tx, name); err != nil {
			return err
		}
		h.Apply(u)
		if err := h.Validate(); err != nil {
			return err
		}
		if err := checkText(h.Description, string(h.InputSchema), string(h.OutputSchema)); err != nil {
			return err
		}
		h.UpdatedAt = now
		_, err = tx.ExecContext(ctx, `UPDATE hooks SET description = ?, input_schema = ?, output_schema = ?, timeout_ms = ?, on_error = ?,
			updated_at = ? WHERE name = ?`, h.Description, rawText(h.InputSchema), rawText(h.OutputSchema), h.TimeoutMs, h.OnError, ms(now), name)
		if err != nil {
			return err
		}
		return audit(ctx, tx, outlet.AuditHookUpdated(name, u))
	})
	return h, err
}

func (s *Store) DeleteHook(ctx context.Context, name string) error {
	return s.tx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		if err := deleteOne(ctx, tx, "hook", name, `DELETE FROM hooks WHERE name = ?`, name); err != nil {
			return err
		}
		return audit(ctx, tx, outlet.AuditHookDeleted(name))
	})
}

const hookEndpointCols = `tenant_id, hook, url, headers, secret, created_at, updated_at`

func scanHookEndpoint(row scanner) (*outlet.HookEndpoint, error) {
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
	if err := checkText(e.URL); err != nil {
		return err
	}
	return s.tx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		if _, err := tenant(ctx, tx, e.TenantID); err != nil {
			return err
		}
		if _, err := hook(ctx, tx, e.Hook); err != nil {
			return err
		}
		vs, err := activeVersions(ctx, tx, e.TenantID)
		if err != nil {
			return err
		}
		for _, v := range vs {
			if v.ServesHook(e.Hook) {
				return outlet.Errorf(outlet.ECONFLICT, "your function %q serves hook %q; remove the hook from it (or delete it) before serving the hook with an endpoint", v.Function, e.Hook)
			}
		}
		var created int64
		err = tx.QueryRowContext(ctx, `INSERT INTO hook_endpoints (`+hookEndpointCols+`) VALUES (?, ?, ?, ?, ?, ?, ?)
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
	e, err := scanHookEndpoint(s.r.QueryRowContext(ctx, `SELECT `+hookEndpointCols+` FROM hook_endpoints WHERE tenant_id = ? AND hook = ?`, tenantID, hookName))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, outlet.Errorf(outlet.ENOTFOUND, "tenant %q has no endpoint for hook %q", tenantID, hookName)
	}
	return e, dbErr(err)
}

func (s *Store) ListHookEndpoints(ctx context.Context, tenantID string) ([]*outlet.HookEndpoint, error) {
	if _, err := s.Tenant(ctx, tenantID); err != nil {
		return nil, err
	}
	es, err := collect(ctx, s.r, `SELECT `+hookEndpointCols+` FROM hook_endpoints WHERE tenant_id = ? ORDER BY hook`, []any{tenantID}, scanHookEndpoint)
	return es, dbErr(err)
}

func (s *Store) DeleteHookEndpoint(ctx context.Context, tenantID, hookName string) error {
	return s.tx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM hook_endpoints WHERE tenant_id = ? AND hook = ?`, tenantID, hookName)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return outlet.Errorf(outlet.ENOTFOUND, "tenant %q has no endpoint for hook %q", tenantID, hookName)
		}
		return audit(ctx, tx, outlet.AuditHookEndpointDeleted(tenantID, hookName))
	})
}
