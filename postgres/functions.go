package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/outlethq/outlet"
)

const versionCols = `v.tenant_id, v.function, v.version, v.uid, v.tenant_uid, v.runtime, v.events, v.hooks, v.limits, v.sha256,
	v.created_at, f.active_version`

// codeCols follow versionCols in the reads that want a version's code.
const codeCols = `v.source, v.code, v.source_map`

// scanVersion reads versionCols, and codeCols when withCode.
func scanVersion(row pgx.Row, withCode bool) (*outlet.FunctionVersion, error) {
	var v outlet.FunctionVersion
	var events, hooks, limits string
	var created int64
	var active int
	var source []byte
	dest := []any{&v.TenantID, &v.Function, &v.Version, &v.UID, &v.TenantUID, &v.Runtime, &events, &hooks, &limits, &v.SHA256,
		&created, &active}
	if withCode {
		dest = append(dest, &source, &v.Code, &v.SourceMap)
	}
	if err := row.Scan(dest...); err != nil {
		return nil, err
	}
	v.Source = string(source)
	v.CreatedAt, v.Active = fromMs(created), active == v.Version
	return &v, errors.Join(json.Unmarshal([]byte(events), &v.Events), json.Unmarshal([]byte(hooks), &v.Hooks),
		json.Unmarshal([]byte(limits), &v.Limits))
}

func (s *Store) DeployFunction(ctx context.Context, v *outlet.FunctionVersion, now time.Time) error {
	return s.tx(ctx, func(ctx context.Context, tx pgx.Tx) error {
		// The tenant's lock keeps a hook endpoint from appearing for a hook
		// this version serves while this checks that there is none.
		tenantUID, ok, err := lockTenant(ctx, tx, v.TenantID)
		if err != nil || !ok {
			if err == nil {
				err = notFound("tenant", v.TenantID)
			}
			return err
		}
		for _, h := range v.Hooks {
			if _, err := hook(ctx, tx, h, "FOR KEY SHARE"); outlet.ErrorCode(err) == outlet.ENOTFOUND {
				return outlet.Errorf(outlet.EINVALID, "hook %q is not declared; see the hooks you can serve with GET /v1/tenants/%s/hooks", h, v.TenantID)
			} else if err != nil {
				return err
			}
			if served, err := hookServedByEndpoint(ctx, tx, v.TenantID, h); err != nil {
				return err
			} else if served {
				return outlet.Errorf(outlet.ECONFLICT, "hook %q is served by your endpoint; delete it (DELETE /v1/tenants/%s/hooks/%s/endpoint) before serving the hook with a function", h, v.TenantID, h)
			}
		}
		// A new function starts at version 1; a redeploy takes the next
		// number after the latest, whichever version is active.
		err = tx.QueryRow(ctx, `INSERT INTO functions (tenant_id, name, active_version, latest_version, created_at, updated_at)
			VALUES ($1, $2, 1, 1, $3, $3)
			ON CONFLICT (tenant_id, name) DO UPDATE SET active_version = functions.latest_version + 1,
				latest_version = functions.latest_version + 1, updated_at = excluded.updated_at
			RETURNING latest_version`, v.TenantID, v.Function, ms(now)).Scan(&v.Version)
		if err != nil {
			return err
		}
		v.Active, v.CreatedAt = true, now
		v.UID, v.TenantUID = outlet.NewUID(), tenantUID
		_, err = tx.Exec(ctx, `INSERT INTO function_versions (tenant_id, function, version, uid, tenant_uid, runtime, source, code,
			source_map, sha256, events, hooks, limits, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)`,
			v.TenantID, v.Function, v.Version, v.UID, v.TenantUID, v.Runtime, bytesOf(v.Source), bytesOrEmpty(v.Code),
			bytesOrEmpty(v.SourceMap), v.SHA256, jsonText(orEmpty(v.Events)), jsonText(orEmpty(v.Hooks)), jsonText(v.Limits), ms(now))
		if err != nil {
			return err
		}
		return audit(ctx, tx, outlet.AuditFunctionDeployed(v))
	})
}

func bytesOrEmpty(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}

func hookServedByEndpoint(ctx context.Context, tx pgx.Tx, tenantID, hookName string) (bool, error) {
	var served bool
	err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM hook_endpoints WHERE tenant_id = $1 AND hook = $2)`, tenantID, hookName).Scan(&served)
	return served, err
}

// activeVersions returns the active version of each of the tenant's
// functions, in the order the functions were first deployed, with their
// code when withCode.
func activeVersions(ctx context.Context, q querier, tenantID string, withCode bool) ([]*outlet.FunctionVersion, error) {
	cols := versionCols
	if withCode {
		cols += `, ` + codeCols
	}
	return collect(ctx, q, `SELECT `+cols+` FROM functions f
		JOIN function_versions v ON v.tenant_id = f.tenant_id AND v.function = f.name AND v.version = f.active_version
		WHERE f.tenant_id = $1 ORDER BY f.created_at, f.seq`, []any{tenantID}, func(r pgx.Row) (*outlet.FunctionVersion, error) {
		return scanVersion(r, withCode)
	})
}

func (s *Store) Function(ctx context.Context, tenantID, name string) (*outlet.Function, error) {
	ctx, cancel := bound(ctx)
	defer cancel()
	return function(ctx, s.pool, tenantID, name)
}

func function(ctx context.Context, q querier, tenantID, name string) (*outlet.Function, error) {
	fs, err := functions(ctx, q, tenantID, name)
	if err != nil {
		return nil, err
	}
	if len(fs) == 0 {
		return nil, notFound("function", name)
	}
	return fs[0], nil
}

func (s *Store) ListFunctions(ctx context.Context, tenantID string) ([]*outlet.Function, error) {
	ctx, cancel := bound(ctx)
	defer cancel()
	if _, err := tenant(ctx, s.pool, tenantID, ""); err != nil {
		return nil, err
	}
	return functions(ctx, s.pool, tenantID, "")
}

// functions reads the tenant's functions, or the one named.
func functions(ctx context.Context, q querier, tenantID, name string) ([]*outlet.Function, error) {
	query := `SELECT f.tenant_id, f.name, f.active_version, f.latest_version, f.created_at, f.updated_at, v.runtime, v.events, v.hooks
		FROM functions f JOIN function_versions v ON v.tenant_id = f.tenant_id AND v.function = f.name AND v.version = f.active_version
		WHERE f.tenant_id = $1`
	args := []any{tenantID}
	if name != "" {
		query, args = query+` AND f.name = $2`, append(args, name)
	}
	fs, err := collect(ctx, q, query+` ORDER BY f.created_at, f.seq`, args, func(r pgx.Row) (*outlet.Function, error) {
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
	ctx, cancel := bound(ctx)
	defer cancel()
	cond := `v.version = f.active_version`
	args := []any{tenantID, name}
	if version != 0 {
		cond, args = `v.version = $3`, append(args, version)
	}
	v, err := scanVersion(s.pool.QueryRow(ctx, `SELECT `+versionCols+`, `+codeCols+` FROM functions f
		JOIN function_versions v ON v.tenant_id = f.tenant_id AND v.function = f.name
		WHERE f.tenant_id = $1 AND f.name = $2 AND `+cond, args...), true)
	if errors.Is(err, pgx.ErrNoRows) {
		if version == 0 {
			return nil, notFound("function", name)
		}
		return nil, outlet.Errorf(outlet.ENOTFOUND, "function %q has no version %d", name, version)
	}
	return v, dbErr(err)
}

func (s *Store) ListFunctionVersions(ctx context.Context, tenantID, name string) ([]*outlet.FunctionVersion, error) {
	ctx, cancel := bound(ctx)
	defer cancel()
	if _, err := function(ctx, s.pool, tenantID, name); err != nil {
		return nil, err
	}
	vs, err := collect(ctx, s.pool, `SELECT `+versionCols+` FROM functions f
		JOIN function_versions v ON v.tenant_id = f.tenant_id AND v.function = f.name
		WHERE f.tenant_id = $1 AND f.name = $2 ORDER BY v.version DESC`, []any{tenantID, name}, func(r pgx.Row) (*outlet.FunctionVersion, error) {
		return scanVersion(r, false)
	})
	return vs, dbErr(err)
}

func (s *Store) ActivateFunctionVersion(ctx context.Context, tenantID, name string, version int, now time.Time) (*outlet.Function, error) {
	var f *outlet.Function
	err := s.tx(ctx, func(ctx context.Context, tx pgx.Tx) error {
		// See DeployFunction for the tenant's lock.
		if _, ok, err := lockTenant(ctx, tx, tenantID); err != nil || !ok {
			if err == nil {
				err = notFound("function", name)
			}
			return err
		}
		var hooks string
		err := tx.QueryRow(ctx, `SELECT hooks FROM function_versions WHERE tenant_id = $1 AND function = $2 AND version = $3`,
			tenantID, name, version).Scan(&hooks)
		if errors.Is(err, pgx.ErrNoRows) {
			if _, err := function(ctx, tx, tenantID, name); err != nil {
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
			if byEndpoint, err := hookServedByEndpoint(ctx, tx, tenantID, h); err != nil {
				return err
			} else if byEndpoint {
				return outlet.Errorf(outlet.ECONFLICT, "version %d serves hook %q, which your endpoint serves now; delete the endpoint first", version, h)
			}
		}
		if _, err := tx.Exec(ctx, `UPDATE functions SET active_version = $1, updated_at = $2 WHERE tenant_id = $3 AND name = $4`,
			version, ms(now), tenantID, name); err != nil {
			return err
		}
		if f, err = function(ctx, tx, tenantID, name); err != nil {
			return err
		}
		return audit(ctx, tx, outlet.AuditFunctionRolledBack(tenantID, name, version))
	})
	return f, err
}

func (s *Store) DeleteFunction(ctx context.Context, tenantID, name string) error {
	return s.tx(ctx, func(ctx context.Context, tx pgx.Tx) error { return deleteFunction(ctx, tx, tenantID, name) })
}

func deleteFunction(ctx context.Context, tx pgx.Tx, tenantID, name string) error {
	if err := deleteOne(ctx, tx, "function", name, `DELETE FROM functions WHERE tenant_id = $1 AND name = $2`, tenantID, name); err != nil {
		return err
	}
	// A statement of its own, as in DeleteEndpoint.
	if err := deleteDeliveries(ctx, tx, `tenant_id = $1 AND target_type = $2 AND target_id = $3`,
		tenantID, outlet.TargetFunction, name); err != nil {
		return err
	}
	return audit(ctx, tx, outlet.AuditFunctionDeleted(tenantID, name))
}

func (s *Store) HookFunctions(ctx context.Context, tenantID, hookName string) ([]*outlet.FunctionVersion, error) {
	ctx, cancel := bound(ctx)
	defer cancel()
	vs, err := activeVersions(ctx, s.pool, tenantID, true)
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
