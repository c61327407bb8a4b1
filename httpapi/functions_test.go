package httpapi

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestDeploysOfEachRuntimeMakeVersions(t *testing.T) {
	t.Parallel()
	b := setup(t)
	key := "Bearer " + b.key
	path := "/v1/tenants/acme/functions/greet"
	var v struct {
		Version int
		Runtime string
		Source  *string
		Active  bool
	}
	b.must(t, 201, req{method: "PUT", path: path, auth: key, body: deploy("export default (e) => ({ hello: e.name })", "")}, &v)
	if v.Version != 1 || !v.Active || v.Source != nil {
		t.Errorf("the first deploy answered %+v; want version 1, active, without its source", v)
	}
	b.must(t, 200, req{method: "PUT", path: path, auth: key, body: `{"runtime":"typescript","code":"export default (e: {name: string}) => ({ hello: e.name })"}`}, &v)
	if v.Version != 2 || v.Runtime != "typescript" {
		t.Errorf("the second deploy answered %+v; want version 2 of typescript", v)
	}
	b.must(t, 200, req{method: "PUT", path: path, auth: key, body: `{"runtime":"wasm","wasm":"` + minimalWasm + `"}`}, &v)
	if v.Version != 3 || v.Runtime != "wasm" {
		t.Errorf("the wasm deploy answered %+v; want version 3 of wasm", v)
	}

	b.must(t, 200, req{method: "GET", path: path + "/versions/1", auth: key}, &v)
	if v.Source == nil || !strings.Contains(*v.Source, "hello: e.name") || v.Active {
		t.Errorf("version 1 reads %+v; want its source, inactive", v)
	}
	v.Source = nil
	b.must(t, 200, req{method: "GET", path: path + "/versions/3", auth: key}, &v)
	if v.Source != nil || !v.Active {
		t.Errorf("version 3 (wasm) reads %+v; want no source, active", v)
	}

	var f struct {
		ActiveVersion int `json:"active_version"`
		LatestVersion int `json:"latest_version"`
	}
	b.must(t, 200, req{method: "POST", path: path + "/rollback", auth: key, body: `{"version":1}`}, &f)
	if f.ActiveVersion != 1 || f.LatestVersion != 3 {
		t.Errorf("a rollback to 1 answered %+v; want active 1 of 3", f)
	}
	var out struct{ Output json.RawMessage }
	b.must(t, 200, req{method: "POST", path: path + "/test", auth: key, body: `{"input":{"name":"Ada"}}`}, &out)
	if string(out.Output) != `{"hello":"Ada"}` {
		t.Errorf("the active version answered %s", out.Output)
	}
}

// A hook is served by the tenant's functions or by its sync endpoint, never
// both: a rollback to a version serving a hook the endpoint serves now is
// refused like a deploy of one, and changes nothing.
func TestRollbackToAHookTheEndpointServesIsAConflict(t *testing.T) {
	t.Parallel()
	b := setup(t)
	key := "Bearer " + b.key
	path := "/v1/tenants/acme/functions/auth"
	b.must(t, 204, req{method: "DELETE", path: "/v1/tenants/acme/hooks/login.post/endpoint", auth: key}, nil)
	b.must(t, 201, req{method: "PUT", path: path, auth: key, body: deploy("export default (e) => e", `"hooks":["login.post"]`)}, nil)
	b.must(t, 200, req{method: "PUT", path: path, auth: key, body: deploy("export default (e) => e", "")}, nil)
	b.must(t, 201, req{method: "PUT", path: "/v1/tenants/acme/hooks/login.post/endpoint", auth: key, body: `{"url":"http://127.0.0.1:9/"}`}, nil)

	before := b.snapshot(t)
	e := refused(t, "a rollback to version 1", b.do(t, req{method: "POST", path: path + "/rollback", auth: key, body: `{"version":1}`}), 409)
	if !strings.Contains(e.Message, `"login.post"`) || !strings.Contains(e.Message, "version 1") {
		t.Errorf("message %q doesn't name the version and the hook", e.Message)
	}
	if after := b.snapshot(t); after != before {
		t.Errorf("the refused rollback changed the store: %s", diff(before, after))
	}
}
