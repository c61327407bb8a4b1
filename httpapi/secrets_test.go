package httpapi

import (
	"encoding/json"
	"strings"
	"testing"
)

// Every answer the tests get passes bundle.checkNoSecret, which fails the
// test if it holds the value of acme's secret; the refusal sweep thereby
// checks every route. This test shows that the scan isn't idle: the value
// reaches acme's function, which logs it and throws it, and what comes back
// masks it.
func TestSecretsNeverComeBack(t *testing.T) {
	t.Parallel()
	b := setup(t)
	admin := "Bearer " + adminKey
	masked := "[secret " + b.secret + "]"

	// The setup's invocation logged the secret.
	var logs struct {
		Data []struct{ Logs string }
	}
	b.must(t, 200, req{method: "GET", path: "/v1/tenants/acme/functions/discount/logs", auth: "Bearer " + b.key}, &logs)
	if len(logs.Data) == 0 || !strings.Contains(logs.Data[0].Logs, masked) {
		t.Errorf("the function's log doesn't show the secret masked as %s: %+v", masked, logs.Data)
	}

	// A test run answers with the logs too.
	var run struct{ Logs string }
	b.must(t, 200, req{method: "POST", path: "/v1/tenants/acme/functions/discount/test", auth: admin,
		body: `{"input":{"cart":{"total":100}}}`}, &run)
	if !strings.Contains(run.Logs, masked) {
		t.Errorf("a test run's logs %q don't show the secret masked", run.Logs)
	}

	// An error that holds the secret, at a hook, in a test and in the logs.
	code, _ := json.Marshal(`export default (input, ctx) => { throw new Error("bad key " + ctx.secrets.STRIPE_KEY) }`)
	b.must(t, 200, req{method: "PUT", path: "/v1/tenants/acme/functions/discount", auth: admin,
		body: `{"runtime":"javascript","code":` + string(code) + `,"hooks":["checkout.discount"]}`}, nil)
	var hook struct {
		Error *apiError
	}
	b.must(t, 200, req{method: "POST", path: "/v1/tenants/acme/hooks/checkout.discount/invoke", auth: admin,
		body: `{"input":{"cart":{"total":100}}}`}, &hook)
	if hook.Error == nil || !strings.Contains(hook.Error.Message, masked) {
		t.Errorf("a hook's error %+v doesn't show the secret masked", hook.Error)
	}
	var failed struct{ Error *apiError }
	b.must(t, 200, req{method: "POST", path: "/v1/tenants/acme/functions/discount/test", auth: admin, body: `{"input":{}}`}, &failed)
	if failed.Error == nil || !strings.Contains(failed.Error.Message, masked) {
		t.Errorf("a test run's error %+v doesn't show the secret masked", failed.Error)
	}

	// Changing the value keeps it out of every answer as well.
	b.must(t, 204, req{method: "PUT", path: "/v1/tenants/acme/secrets/STRIPE_KEY", auth: admin, body: `{"value":"sk_live_r0tat3dV4lu3N3v3rS33n"}`}, nil)
	b.secretValue = "sk_live_r0tat3dV4lu3N3v3rS33n"
	for _, path := range []string{"/v1/tenants/acme/secrets", "/v1/tenants/acme", "/v1/tenants/acme/settings", "/v1/tenants/acme/hooks",
		"/v1/tenants/acme/functions/discount", "/v1/tenants/acme/functions/discount/versions", "/v1/tenants/acme/functions/discount/versions/3",
		"/v1/tenants/acme/functions/discount/logs"} {
		b.must(t, 200, req{method: "GET", path: path, auth: admin}, nil)
	}
	b.must(t, 200, req{method: "POST", path: "/v1/tenants/acme/functions/discount/test", auth: admin, body: `{"input":{}}`}, nil)
	b.must(t, 200, req{method: "POST", path: "/v1/tenants/acme/hooks/checkout.discount/invoke", auth: admin, body: `{"input":{"cart":{}}}`}, nil)
}
