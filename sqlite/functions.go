package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"time"

	"github.com/outlethq/outlet"
)

const versionCols = `v.tenant_id, v.function, v.version, v.uid, v.tenant_uid, v.runtime, v.events, v.hooks, v.limits, v.sha256,
	v.created_at, f.active_version`

// codeCols follow versionCols in the reads that want a version's code.
const codeCols = `v.source, v.code, v.source_map`

// scanVersion reads versionCols, and codeCols when withCode.
func scanVersion(row scanner, withCode bool) (*outlet.FunctionVersion, error) {
	var v outlet.FunctionVersion
	var events, hooks, limits string
	var created int64
	var active int
	dest := []any{&v.TenantID, &v.Function, &v.Version, &v.UID, &v.TenantUID, &v.Runtime, &events, &hooks, &limits, &v.SHA256,
		&created, &active}
	if withCode {
		dest = append(dest, &v.Source, &v.Code, &v.SourceMap)
	}
	if err := row.Scan(dest...); err != nil {
		return nil, err
	}
	v.CreatedAt, v.Active = fromMs(created), active == v.Version
	return &v, errors.Join(json.Unmarshal([]byte(events), &v.Events), json.Unmarshal([]byte(hooks), &v.Hooks),
		json.Unmarshal([]byte(limits), &v.Limits))
}

func (s *Store) DeployFunction(ctx context.Context, v *outlet.FunctionVersion, now time.Time) error {
	return s.tx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		t, err := tenant(ctx, tx, v.TenantID)
		if err != nil {
			return err
		}
		for _, h := range v.Hooks {
			if _, err := hook(ctx, tx, h); outlet.ErrorCode(err) == outlet.ENOTFOUND {
				return outlet.Errorf(outlet.EINVALID, "hook %q is not declared; see the hooks you can serve with GET /v1/tenants/%s/hooks", h, v.TenantID)
			} else if err != nil {
				return err
			}
			var n int
			if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM hook_endpoints WHERE tenant_id = ? AND hook = ?`, v.TenantID, h).Scan(&n); err != nil {
				return err
			}
			if n > 0 {
				return outlet.Errorf(outlet.ECONFLICT, "hook %q is served by your endpoint; delete it (DELETE /v1/tenants/%s/hooks/%s/endpoint) before serving the hook with a function", h, v.TenantID, h)
			}
		}
		var latest int
		err = tx.QueryRowContext(ctx, `SELECT latest_version FROM functions WHERE tenant_id = ? AND name = ?`, v.TenantID, v.Function).Scan(&latest)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			_, err = tx.ExecContext(ctx, `INSERT INTO functions (tenant_id, name, active_version, latest_version, created_at, updated_at)
				VALUES (?, ?, 1, 1, ?, ?)`, v.TenantID, v.Function, ms(now), ms(now))
		case err == nil:
			_, err = tx.ExecContext(ctx, `UPDATE functions SET active_version = ?, latest_version = ?, updated_at = ? WHERE tenant_id = ? AND name = ?`,
				latest+1, latest+1, ms(now), v.TenantID, v.Function)
		}
		if err != nil {
			return err
		}
		v.Version, v.Active, v.CreatedAt = latest+1, true, now
		v.UID, v.TenantUID = outlet.NewUID(), t.UID
		s.fanout.drop(v.TenantID)
		_, err = tx.ExecContext(ctx, `INSERT INTO function_versions (tenant_id, function, version, uid, tenant_uid, runtime, source, code,
			source_map, sha256, events, hooks, limits, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			v.TenantID, v.Function, v.Version, v.UID, v.TenantUID, v.Runtime, v.Source, v.Code, bytesOrEmpty(v.SourceMap), v.SHA256,
			jsonText(orEmpty(v.Events)), jsonText(orEmpty(v.Hooks)), jsonText(v.Limits), ms(now))
		if err != nil {
			return err
		}
		return audit(ctx, tx, outlet.AuditFunctionDeployed(v))
	})
}

// activeVersions returns the active version of each of the tenant's
// functions, with code, in the order the functions were first deployed.
func activeVersions(ctx context.Context, q querier, tenantID string) ([]*outlet.FunctionVersion, error) {
	return collect(ctx, q, `SELECT `+versionCols+`, `+codeCols+` FROM functions f
		JOIN function_versions v ON v.tenant_id = f.tenant_id AND v.function = f.name AND v.version = f.active_version
		WHERE f.tenant_id = ? ORDER BY f.created_at, f.rowid`, []any{tenantID}, func(r scanner) (*outlet.FunctionVersion, error) {
		return scanVersion(r, true)
	})
}

func (s *Store) Function(ctx context.Context, tenantID, name string) (*outlet.Function, error) {
	fs, err := s.functions(ctx, s.r, tenantID, name)
	if err != nil {
		return nil, err
	}
	if len(fs) == 0 {
		return nil, notFound("function", name)
	}
	return fs[0], nil
}

func (s *Store) ListFunctions(ctx context.Context, tenantID string) ([]*outlet.Function, error) {
	if _, err := s.Tenant(ctx, tenantID); err != nil {
		return nil, err
	}
	return s.functions(ctx, s.r, tenantID, "")
}

// functions reads the tenant's functions, or the one named.
func (s *Store) functions(ctx context.Context, q querier, tenantID, name string) ([]*outlet.Function, error) {
	query := `SELECT f.tenant_id, f.name, f.active_version, f.latest_version, f.created_at, f.updated_at, v.runtime, v.events, v.hooks
		FROM functions f JOIN function_versions v ON v.tenant_id = f.tenant_id AND v.function = f.name AND v.version = f.active_version
		WHERE f.tenant_id = ?`
	args := []any{tenantID}
	if name != "" {
		query, args = query+` AND f.name = ?`, append(args, name)
	}
	fs, err := collect(ctx, q, query+` ORDER BY f.created_at, f.rowid`, args, func(r scanner) (*outlet.Function, error) {
		var f outlet.Function
		var created, updated int64
		var events, hooks string
		if err := r.Scan(&f.TenantID, &f.Name, &f.ActiveVersion, &f.LatestVersion, &created, &updated, &f.Runtime, &events, &hooks); err != nil {
			return nil, err
		}
		f.CreatedAt, f.UpdatedAt = fromMs(created), fromMs(updated)
		return &f, errors.Join(json.Unmarshal([]byte(events), &f.Events), json.Unmarshal([]byte(hooks), &f.Hooks))
	})
	return fs, dbErr(err)
}

func (s *Store) FunctionVersion(ctx context.Context, tenantID, name string, version int) (*outlet.FunctionVersion, error) {
	cond := `v.version = f.active_version`
	args := []any{tenantID, name}
	if version != 0 {
		cond, args = `v.version = ?`, append(args, version)
	}
	v, err := scanVersion(s.r.QueryRowContext(ctx, `SELECT `+versionCols+`, `+codeCols+` FROM functions f
		JOIN function_versions v ON v.tenant_id = f.tenant_id AND v.function = f.name
		WHERE f.tenant_id = ? AND f.name = ? AND `+cond, args...), true)
	if errors.Is(err, sql.ErrNoRows) {
		if version == 0 {
			return nil, notFound("function", name)
		}
		return nil, outlet.Errorf(outlet.ENOTFOUND, "function %q has no version %d", name, version)
	}
	return v, dbErr(err)
}

func (s *Store) ListFunctionVersions(ctx context.Context, tenantID, name string) ([]*outlet.FunctionVersion, error) {
	if _, err := s.Function(ctx, tenantID, name); err != nil {
		return nil, err
	}
	vs, err := collect(ctx, s.r, `SELECT `+versionCols+` FROM functions f
		JOIN function_versions v ON v.tenant_id = f.tenant_id AND v.function = f.name
		WHERE f.tenant_id = ? AND f.name = ? ORDER BY v.version DESC`, []any{tenantID, name}, func(r scanner) (*outlet.FunctionVersion, error) {
		return scanVersion(r, false)
	})
	return vs, dbErr(err)
}

func (s *Store) ActivateFunctionVersion(ctx context.Context, tenantID, name string, version int, now time.Time) (*outlet.Function, error) {
	var f *outlet.Function
	err := s.tx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		var hooks string
		err := tx.QueryRowContext(ctx, `SELECT hooks FROM function_versions WHERE tenant_id = ? AND function = ? AND version = ?`,
			tenantID, name, version).Scan(&hooks)
		if errors.Is(err, sql.ErrNoRows) {
			if _, err := s.functions(ctx, tx, tenantID, name); err != nil {
				return err
			}
			return outlet.Errorf(outlet.ENOTFOUND, "function %q has no version %d", name, version)
		}
		if err != nil {
			return err
		}
		var served []string
		if err := json.Unmarshal([]byte(hooks), &served); err != nil {
			return err
		}
		for _, h := range served {
			var n int
			if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM hook_endpoints WHERE tenant_id = ? AND hook = ?`, tenantID, h).Scan(&n); err != nil {
				return err
			}
			if n > 0 {
				return outlet.Errorf(outlet.ECONFLICT, "version %d serves hook %q, which your endpoint serves now; delete the endpoint first", version, h)
			}
		}
		s.fanout.drop(tenantID)
		if _, err := tx.ExecContext(ctx, `UPDATE functions SET active_version = ?, updated_at = ? WHERE tenant_id = ? AND name = ?`,
			version, ms(now), tenantID, name); err != nil {
			return err
		}
		fs, err := s.functions(ctx, tx, tenantID, name)
		if err != nil {
			return err
		}
		f = fs[0]
		return audit(ctx, tx, outlet.AuditFunctionRolledBack(tenantID, name, version))
	})
	return f, err
}

func (s *Store) DeleteFunction(ctx context.Context, tenantID, name string) error {
	return s.tx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		s.fanout.drop(tenantID)
		if err := deleteOne(ctx, tx, "function", name, `DELETE FROM functions WHERE tenant_id = ? AND name = ?`, tenantID, name); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM deliveries WHERE tenant_id = ? AND target_type = ? AND target_id = ?`,
			tenantID, outlet.TargetFunction, name); err != nil {
			return err
		}
		return audit(ctx, tx, outlet.AuditFunctionDeleted(tenantID, name))
	})
}

func (s *Store) HookFunctions(ctx context.Context, tenantID, hookName string) ([]*outlet.FunctionVersion, error) {
	vs, err := activeVersions(ctx, s.r, tenantID)
	if err != nil {
		return nil, dbErr(err)
	}
	var out []*outlet.FunctionVersion
	for _, v := range vs {
		if v.ServesHook(hookName) {
			out = append(out, v)
		}
	}
	return out, nil
}
