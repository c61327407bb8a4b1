package postgres

import (
	"fmt"
	"io/fs"
	"testing"

	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"

	"github.com/outlethq/outlet"
)

// Warm engines and cached secrets are keyed by these uids, so rows from
// before they existed must get uids of their own, never a shared one.
func TestMigratingGivesExistingTenantsAndVersionsUIDsOfTheirOwn(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	u := freshSchema(t)
	pool, _, err := connect(ctx, u)
	if err != nil {
		t.Fatal(err)
	}
	db := stdlib.OpenDBFromPool(pool)
	fsys, err := fs.Sub(migrations, "migrations")
	if err != nil {
		t.Fatal(err)
	}
	p, err := goose.NewProvider(goose.DialectPostgres, db, fsys)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.UpTo(ctx, 3); err != nil {
		t.Fatalf("migrate to version 3: %v", err)
	}
	for _, stmt := range []string{
		`INSERT INTO tenants (id, name, created_at, updated_at) VALUES ('acme', 'Acme', 0, 0), ('globex', 'Globex', 0, 0)`,
		`INSERT INTO functions (tenant_id, name, active_version, latest_version, created_at, updated_at)
			VALUES ('acme', 'pricing', 2, 2, 0, 0), ('globex', 'pricing', 1, 1, 0, 0)`,
		`INSERT INTO function_versions (tenant_id, function, version, runtime, source, code, sha256, events, hooks, limits, created_at)
			VALUES ('acme', 'pricing', 1, 'javascript', 'a1', 'a1', '', '[]', '[]', '{}', 0),
			       ('acme', 'pricing', 2, 'javascript', 'a2', 'a2', '', '[]', '[]', '{}', 0),
			       ('globex', 'pricing', 1, 'javascript', 'g1', 'g1', '', '[]', '[]', '{}', 0)`,
	} {
		if _, err := db.ExecContext(ctx, stmt); err != nil {
			t.Fatalf("%s: %v", stmt, err)
		}
	}
	db.Close()
	pool.Close()

	s := openStore(t, u)
	seen := map[string]string{}
	unique := func(what, uid string) {
		t.Helper()
		if uid == "" {
			t.Errorf("%s has no uid after the migration", what)
		} else if other, ok := seen[uid]; ok {
			t.Errorf("%s and %s share uid %q", what, other, uid)
		}
		seen[uid] = what
	}
	for _, tc := range []struct {
		tenant   string
		versions []int
	}{
		{"acme", []int{1, 2}},
		{"globex", []int{1}},
	} {
		tn, err := s.Tenant(ctx, tc.tenant)
		check(t, err)
		unique("tenant "+tc.tenant, tn.UID)
		for _, n := range tc.versions {
			v, err := s.FunctionVersion(ctx, tc.tenant, "pricing", n)
			check(t, err)
			what := fmt.Sprintf("%s's version %d", tc.tenant, n)
			unique(what, v.UID)
			if v.TenantUID != tn.UID {
				t.Errorf("%s carries tenant uid %q; want its tenant's, %q", what, v.TenantUID, tn.UID)
			}
			if len(v.SourceMap) != 0 || len(v.Code) != 2 {
				t.Errorf("%s reads back with code %q and source map %q; want its code and no source map", what, v.Code, v.SourceMap)
			}
		}
	}
	// Tenants created after the migration get uids of their own too.
	tn := &outlet.Tenant{ID: "initech", Metadata: map[string]string{}}
	check(t, s.CreateTenant(ctx, tn))
	unique("tenant initech", tn.UID)
}
