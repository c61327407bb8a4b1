package httpapi

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"strings"
	"testing"

	"github.com/outlethq/outlet/internal/metrics"
)

// routeSpec says how the sweep calls one route.
type routeSpec struct {
	// body is a body the route accepts; "" for routes that take none.
	body string
	// emptyOK: the route reads an empty body as {}.
	emptyOK bool
	// maxBody is the route's cap on bodies when it isn't maxBody.
	maxBody int
	// wrongTypes are fields of the body with a value of the wrong JSON type,
	// and what the message must say the field should be.
	wrongTypes []wrongType
	// refusals are requests that break one of the route's rules.
	refusals []refusal
	// lists take paging and filter parameters; untimed lists take no since
	// or before, and junk are more parameters a list refuses.
	list    bool
	untimed bool
	junk    []string
	// creates names the path parameter a PUT creates a record by: an
	// unknown value there makes a new record rather than a refusal.
	creates string
	// owned: the path names a record of the tenant, which another tenant,
	// with its own key, doesn't find under its own path.
	owned bool
	// ok is the status of the route called rightly with body by the admin.
	ok int
}

type wrongType struct {
	field, value, want string
}

// refusal is a request, by the admin, that the route refuses with status,
// and words its message must hold.
type refusal struct {
	what   string
	path   map[string]string // path parameters other than the bundle's
	body   string
	status int
	says   []string
}

var (
	tenantFields = []wrongType{
		{"id", `5`, "a string"},
		{"name", `false`, "a string"},
		{"metadata", `{"k":1}`, "an object of strings"},
		{"metadata", `"plan"`, "an object of strings"},
		{"allowed_hosts", `"api.stripe.com"`, "an array of strings"},
		{"allowed_hosts", `[1]`, "an array of strings"},
		{"publish_rate_limit", `"100"`, "a whole number"},
		{"publish_rate_limit", `1.5`, "a whole number"},
	}
	eventTypeFields = []wrongType{
		{"name", `false`, "a string"},
		{"description", `5`, "a string"},
		{"deprecated", `"yes"`, "true or false"},
	}
	endpointFields = []wrongType{
		{"url", `5`, "a string"},
		{"url", `["http://127.0.0.1:9/"]`, "a string"},
		{"description", `{}`, "a string"},
		{"event_types", `"invoice.paid"`, "an array of strings"},
		{"event_types", `[1]`, "an array of strings"},
		{"headers", `[1]`, "an object of strings"},
		{"headers", `{"X-A":1}`, "an object of strings"},
		{"metadata", `{"k":1}`, "an object of strings"},
		{"disabled", `"yes"`, "true or false"},
		{"secret", `5`, "a string"},
		{"max_in_flight", `"10"`, "a whole number"},
		{"max_in_flight", `2.5`, "a whole number"},
		{"rate_limit", `[]`, "a whole number"},
		{"ordered", `"yes"`, "true or false"},
	}
	hookFields = []wrongType{
		{"name", `5`, "a string"},
		{"description", `false`, "a string"},
		{"timeout_ms", `"200"`, "a whole number"},
		{"timeout_ms", `1.5`, "a whole number"},
		{"timeout_ms", `1e99`, "a whole number"},
		{"on_error", `true`, "a string"},
		{"on_error", `["fail_open"]`, "a string"},
	}
	hookEndpointFields = []wrongType{
		{"url", `5`, "a string"},
		{"headers", `["X-A"]`, "an object of strings"},
		{"headers", `{"X-A":true}`, "an object of strings"},
		{"secret", `5`, "a string"},
	}
	deployFields = []wrongType{
		{"runtime", `5`, "a string"},
		{"runtime", `["javascript"]`, "a string"},
		{"code", `5`, "a string"},
		{"code", `["export default () => 1"]`, "a string"},
		{"wasm", `true`, "a string"},
		{"events", `"order.*"`, "an array of strings"},
		{"events", `[1]`, "an array of strings"},
		{"hooks", `"checkout.discount"`, "an array of strings"},
		{"hooks", `[true]`, "an array of strings"},
		{"timeout_ms", `"5000"`, "a whole number"},
		{"timeout_ms", `1.5`, "a whole number"},
		{"memory_mb", `{}`, "a whole number"},
		{"memory_mb", `9223372036854775808`, "a whole number"},
		{"stack_frames", `"deep"`, "a whole number"},
		{"max_input_kb", `[]`, "a whole number"},
		{"max_output_kb", `false`, "a whole number"},
		{"max_logs_kb", `-0.5`, "a whole number"},
	}
)

// Bodies of deploys.
var (
	deployJS = `{"runtime":"javascript","code":"export default async (input) => ({ ...input, discount: 5 })",` +
		`"events":["order.*"],"hooks":["checkout.discount"],"timeout_ms":5000,"memory_mb":64}`
	// minimalWasm is the least module that passes for an Extism plugin: it
	// exports handle, which returns 0.
	minimalWasm = base64.StdEncoding.EncodeToString([]byte("\x00asm\x01\x00\x00\x00" +
		"\x01\x05\x01\x60\x00\x01\x7f" + // type 0: () -> i32
		"\x03\x02\x01\x00" + // function 0 has type 0
		"\x07\x0a\x01\x06handle\x00\x00" + // export it as handle
		"\x0a\x06\x01\x04\x00\x41\x00\x0b")) // i32.const 0
)

// deploy is a deploy body of a JavaScript function with one field more.
func deploy(code string, more string) string {
	c, _ := json.Marshal(code)
	if more != "" {
		more = "," + more
	}
	return `{"runtime":"javascript","code":` + string(c) + more + `}`
}

// limitRefusals are a deploy's limits out of range: below zero, or past the
// default maxima.
func limitRefusals() []refusal {
	var out []refusal
	for _, l := range []struct {
		name string
		max  int
	}{{"timeout_ms", 60000}, {"memory_mb", 256}, {"stack_frames", 5000}, {"max_input_kb", 1024}, {"max_output_kb", 1024}, {"max_logs_kb", 16}} {
		for _, v := range []int{-1, l.max + 1, math.MinInt64} {
			out = append(out, refusal{what: fmt.Sprintf("%s %d", l.name, v), body: deploy("export default (e) => e", fmt.Sprintf(`"%s":%d`, l.name, v)),
				status: 422, says: []string{l.name, fmt.Sprintf("1 to %d", l.max)}})
		}
	}
	return out
}

// hookRefusals are hook fields that break the rules, for creating and
// changing a hook.
func hookRefusals(create bool) []refusal {
	body := func(fields string) string {
		if create {
			return `{"name":"order.review",` + fields + `}`
		}
		return `{` + fields + `}`
	}
	rs := []refusal{
		{what: "timeout_ms 0", body: body(`"timeout_ms":0`), status: 422, says: []string{"timeout_ms", "1 to 30000"}},
		{what: "timeout_ms negative", body: body(`"timeout_ms":-200`), status: 422, says: []string{"timeout_ms", "1 to 30000"}},
		{what: "timeout_ms over 30000", body: body(`"timeout_ms":30001`), status: 422, says: []string{"timeout_ms", "1 to 30000"}},
		{what: "on_error unknown", body: body(`"on_error":"ignore"`), status: 422, says: []string{"on_error", "fail_open", "fail_closed"}},
		{what: "on_error empty", body: body(`"on_error":""`), status: 422, says: []string{"on_error", "fail_open", "fail_closed"}},
		{what: "on_error in capitals", body: body(`"on_error":"FAIL_OPEN"`), status: 422, says: []string{"on_error", "fail_open"}},
		{what: "description over 2000 characters", body: body(`"description":"` + strings.Repeat("d", 2001) + `"`), status: 422, says: []string{"description", "2000"}},
		{what: "input_schema of an unknown type", body: body(`"input_schema":{"type":"nope"}`), status: 422, says: []string{"input_schema", "at /type", "'object'"}},
		{what: "input_schema a number", body: body(`"input_schema":5`), status: 422, says: []string{"input_schema", "want boolean or object"}},
		{what: "input_schema a string", body: body(`"input_schema":"object"`), status: 422, says: []string{"input_schema"}},
		{what: "input_schema with a remote $ref", body: body(`"input_schema":{"$ref":"https://example.com/cart.json"}`), status: 422, says: []string{"input_schema", "own definitions"}},
		{what: "input_schema that refers to itself", body: body(`"input_schema":{"$ref":"#"}`), status: 422, says: []string{"input_schema", "loop"}},
		{what: "input_schema with a bad pattern", body: body(`"input_schema":{"type":"string","pattern":"(["}`), status: 422, says: []string{"input_schema", "/pattern", "regex"}},
		{what: "output_schema of a number type", body: body(`"output_schema":{"type":7}`), status: 422, says: []string{"output_schema"}},
		{what: "output_schema with a string minimum", body: body(`"output_schema":{"minimum":"x"}`), status: 422, says: []string{"output_schema", "/minimum", "want number"}},
		{what: "output_schema an array", body: body(`"output_schema":[]`), status: 422, says: []string{"output_schema"}},
	}
	if create {
		rs = append(rs,
			refusal{what: "name absent", body: `{"timeout_ms":200}`, status: 422, says: []string{"name is required"}},
			refusal{what: "name empty", body: `{"name":""}`, status: 422, says: []string{"name is required"}},
			refusal{what: "name with spaces", body: `{"name":"Checkout Discount!"}`, status: 422, says: []string{"hook name", "dot-separated"}},
			refusal{what: "name over 128 characters", body: `{"name":"` + strings.Repeat("h", 129) + `"}`, status: 422, says: []string{"hook name", "128"}},
			refusal{what: "name taken", body: `{"name":"checkout.discount"}`, status: 409, says: []string{"checkout.discount", "already exists"}},
		)
	} else {
		rs = append(rs,
			refusal{what: "a rename", body: `{"name":"checkout.rebate"}`, status: 422, says: []string{"renamed", "checkout.rebate"}},
			refusal{what: "a rename to an invalid name", body: `{"name":"Bad Name"}`, status: 422, says: []string{"renamed"}},
		)
	}
	return rs
}

var hostRefusals = []refusal{
	{what: "allowed_hosts absent", body: `{}`, status: 422, says: []string{"allowed_hosts is required"}},
	{what: "allowed_hosts null", body: `{"allowed_hosts":null}`, status: 422, says: []string{"allowed_hosts is required"}},
	{what: "a host with a scheme", body: `{"allowed_hosts":["http://x"]}`, status: 422, says: []string{`"http://x"`, "host name"}},
	{what: "a host with a space", body: `{"allowed_hosts":["a b"]}`, status: 422, says: []string{`"a b"`}},
	{what: "a wildcard without a dot", body: `{"allowed_hosts":["*foo"]}`, status: 422, says: []string{`"*foo"`, "*.example.com"}},
	{what: "a wildcard inside", body: `{"allowed_hosts":["api.*.com"]}`, status: 422, says: []string{`"api.*.com"`}},
	{what: "a host in capitals", body: `{"allowed_hosts":["API.STRIPE.COM"]}`, status: 422, says: []string{"lowercase"}},
	{what: "a host with a port", body: `{"allowed_hosts":["api.stripe.com:443"]}`, status: 422, says: []string{"api.stripe.com:443"}},
	{what: "a host with a path", body: `{"allowed_hosts":["api.stripe.com/v1"]}`, status: 422, says: []string{"api.stripe.com/v1"}},
	{what: "an empty host", body: `{"allowed_hosts":[""]}`, status: 422, says: []string{`""`}},
	{what: "a host over 253 characters", body: `{"allowed_hosts":["` + strings.Repeat("a.", 130) + `com"]}`, status: 422, says: []string{"allowed host"}},
	{what: "101 hosts", body: `{"allowed_hosts":[` + strings.Repeat(`"a.com",`, 100) + `"a.com"]}`, status: 422, says: []string{"limit is 100"}},
}

var secretNameRefusals = []refusal{
	{what: "a name starting with a digit", path: map[string]string{"name": "1abc"}, body: `{"value":"v"}`, status: 422, says: []string{`"1abc"`, "not starting with a digit"}},
	{what: "a name with a dash", path: map[string]string{"name": "a-b"}, body: `{"value":"v"}`, status: 422, says: []string{`"a-b"`, "letters, digits and '_'"}},
	{what: "a name with a dot", path: map[string]string{"name": "a.b"}, body: `{"value":"v"}`, status: 422, says: []string{`"a.b"`}},
	{what: "a name of 200 characters", path: map[string]string{"name": strings.Repeat("S", 200)}, body: `{"value":"v"}`, status: 422, says: []string{"up to 128 characters"}},
	{what: "a name with a space", path: map[string]string{"name": "API%20KEY"}, body: `{"value":"v"}`, status: 422, says: []string{`"API KEY"`}},
	{what: "a name with a NUL", path: map[string]string{"name": "KEY%00"}, body: `{"value":"v"}`, status: 422, says: []string{"secret name"}},
}

// specs covers every route the API serves; TestEveryRouteRefusesBadInput
// fails for a route missing here.
var specs = map[string]routeSpec{
	"POST /v1/tenants": {body: `{"id":"newco","name":"New Co","allowed_hosts":["api.stripe.com"],"publish_rate_limit":100}`, wrongTypes: tenantFields, ok: 201, refusals: []refusal{
		{what: "an invalid allowed host", body: `{"id":"newco","allowed_hosts":["a b"]}`, status: 422, says: []string{"allowed host"}},
		{what: "a negative publish_rate_limit", body: `{"id":"newco","publish_rate_limit":-1}`, status: 422, says: []string{"publish_rate_limit", "events per second"}},
	}},
	"GET /v1/tenants":          {list: true, untimed: true, ok: 200},
	"GET /v1/tenants/{tenant}": {ok: 200},
	"PATCH /v1/tenants/{tenant}": {body: `{"name":"Acme Corp"}`, wrongTypes: tenantFields, ok: 200, refusals: []refusal{
		{what: "an invalid allowed host", body: `{"allowed_hosts":["http://x"]}`, status: 422, says: []string{"allowed host"}},
	}},
	"PUT /v1/tenants/{tenant}": {body: `{"name":"Acme Corp"}`, wrongTypes: tenantFields, ok: 200, refusals: []refusal{
		{what: "an invalid allowed host", body: `{"allowed_hosts":["*foo"]}`, status: 422, says: []string{"allowed host"}},
	}},
	"DELETE /v1/tenants/{tenant}":                {ok: 204},
	"GET /v1/tenants/{tenant}/settings":          {ok: 200},
	"PUT /v1/tenants/{tenant}/settings":          {body: `{"allowed_hosts":["api.stripe.com","*.example.com"]}`, ok: 200, refusals: hostRefusals, wrongTypes: []wrongType{{"allowed_hosts", `"api.stripe.com"`, "an array of strings"}, {"allowed_hosts", `[1]`, "an array of strings"}, {"allowed_hosts", `{}`, "an array of strings"}, {"allowed_hosts", `true`, "an array of strings"}}},
	"POST /v1/tenants/{tenant}/api-keys":         {body: `{"name":"deploy"}`, emptyOK: true, wrongTypes: []wrongType{{"name", `false`, "a string"}}, ok: 201},
	"GET /v1/tenants/{tenant}/api-keys":          {ok: 200},
	"DELETE /v1/tenants/{tenant}/api-keys/{key}": {owned: true, ok: 204},

	"POST /v1/event-types":                        {body: `{"name":"order.created","schema":{"type":"object"}}`, wrongTypes: eventTypeFields, ok: 201},
	"GET /v1/event-types":                         {ok: 200},
	"GET /v1/event-types/{name}":                  {ok: 200},
	"PATCH /v1/event-types/{name}":                {body: `{"description":"An invoice was paid."}`, wrongTypes: eventTypeFields, ok: 200},
	"PUT /v1/event-types/{name}":                  {body: `{"description":"An invoice was paid."}`, wrongTypes: eventTypeFields, ok: 200},
	"DELETE /v1/event-types/{name}":               {ok: 204},
	"GET /v1/tenants/{tenant}/event-types":        {ok: 200},
	"GET /v1/tenants/{tenant}/event-types/{name}": {ok: 200},

	"POST /v1/tenants/{tenant}/endpoints": {body: `{"url":"http://127.0.0.1:9/new","max_in_flight":2,"rate_limit":50,"ordered":true}`,
		wrongTypes: endpointFields, ok: 201, refusals: []refusal{
			{what: "max_in_flight negative", body: `{"url":"http://127.0.0.1:9/new","max_in_flight":-1}`, status: 422, says: []string{"max_in_flight", "1 to 1000"}},
			{what: "max_in_flight over 1000", body: `{"url":"http://127.0.0.1:9/new","max_in_flight":1001}`, status: 422, says: []string{"max_in_flight", "1 to 1000"}},
			{what: "rate_limit negative", body: `{"url":"http://127.0.0.1:9/new","rate_limit":-3}`, status: 422, says: []string{"rate_limit", "per second"}},
			{what: "rate_limit over 100000", body: `{"url":"http://127.0.0.1:9/new","rate_limit":100001}`, status: 422, says: []string{"rate_limit", "100000"}},
		}},
	"GET /v1/tenants/{tenant}/endpoints":             {list: true, untimed: true, ok: 200},
	"GET /v1/tenants/{tenant}/endpoints/{id}":        {owned: true, ok: 200},
	"PATCH /v1/tenants/{tenant}/endpoints/{id}":      {body: `{"description":"changed"}`, wrongTypes: endpointFields, owned: true, ok: 200},
	"PUT /v1/tenants/{tenant}/endpoints/{id}":        {body: `{"description":"changed"}`, wrongTypes: endpointFields, owned: true, ok: 200},
	"DELETE /v1/tenants/{tenant}/endpoints/{id}":     {owned: true, ok: 204},
	"GET /v1/tenants/{tenant}/endpoints/{id}/secret": {owned: true, ok: 200},
	"POST /v1/tenants/{tenant}/endpoints/{id}/recover": {body: `{"since":"2020-01-01T00:00:00Z"}`, owned: true, ok: 202, wrongTypes: []wrongType{
		{"since", `"yesterday"`, "RFC 3339"},
		{"since", `5`, "RFC 3339"},
		{"since", `{}`, "RFC 3339"},
	}},
	"POST /v1/tenants/{tenant}/endpoints/{id}/rotate-secret": {body: `{"overlap_seconds":60}`, emptyOK: true, owned: true, ok: 200, wrongTypes: []wrongType{
		{"overlap_seconds", `"1d"`, "a whole number"},
		{"overlap_seconds", `1.5`, "a whole number"},
		{"overlap_seconds", `true`, "a whole number"},
		{"secret", `5`, "a string"},
	}},

	"POST /v1/tenants/{tenant}/events": {body: `{"type":"invoice.paid","data":{"amount":1}}`, ok: 202, wrongTypes: []wrongType{
		{"type", `3`, "a string"},
		{"type", `["invoice.paid"]`, "a string"},
		{"id", `5`, "a string"},
		{"timestamp", `"yesterday"`, "RFC 3339"},
		{"timestamp", `1700000000`, "RFC 3339"},
	}},
	"POST /v1/tenants/{tenant}/events/batch": {body: `{"events":[{"type":"invoice.paid","data":{"amount":1},"idempotency_key":"sweep-1"}]}`,
		maxBody: 8 << 20, ok: 200, wrongTypes: []wrongType{
			{"events", `{"type":"invoice.paid","data":{}}`, "an array of JSON values"},
			{"events", `"invoice.paid"`, "an array of JSON values"},
		}, refusals: []refusal{
			{what: "no events", body: `{}`, status: 422, says: []string{"events is required"}},
			{what: "an empty batch", body: `{"events":[]}`, status: 422, says: []string{"1 to 1000"}},
			{what: "1,001 events", body: `{"events":[` + strings.Repeat(`{"type":"order.placed","data":{}},`, 1000) + `{"type":"order.placed","data":{}}]}`,
				status: 413, says: []string{"at most 1000"}},
		}},
	"GET /v1/tenants/{tenant}/events":      {list: true, ok: 200},
	"GET /v1/tenants/{tenant}/events/{id}": {owned: true, ok: 200},

	"GET /v1/tenants/{tenant}/deliveries":               {list: true, junk: []string{"status=done", "status=PENDING", "status=%00", "endpoint_id=ep_1&function=f"}, ok: 200},
	"GET /v1/tenants/{tenant}/deliveries/{id}":          {owned: true, ok: 200},
	"GET /v1/tenants/{tenant}/deliveries/{id}/attempts": {owned: true, ok: 200},
	"POST /v1/tenants/{tenant}/deliveries/{id}/retry":   {body: `{}`, emptyOK: true, owned: true, ok: 202},

	"POST /v1/hooks": {body: `{"name":"order.review","description":"Reviews an order.","timeout_ms":200,"on_error":"fail_closed",` +
		`"input_schema":{"type":"object"},"output_schema":{"type":"object","properties":{"approved":{"type":"boolean"}}}}`,
		wrongTypes: hookFields, refusals: hookRefusals(true), ok: 201},
	"GET /v1/hooks":                         {ok: 200},
	"GET /v1/hooks/{hook}":                  {ok: 200},
	"PATCH /v1/hooks/{hook}":                {body: `{"timeout_ms":300,"input_schema":null}`, wrongTypes: hookFields, refusals: hookRefusals(false), ok: 200},
	"PUT /v1/hooks/{hook}":                  {body: `{"description":"Discounts.","on_error":"fail_closed"}`, wrongTypes: hookFields, refusals: hookRefusals(false), ok: 200},
	"DELETE /v1/hooks/{hook}":               {ok: 204},
	"GET /v1/tenants/{tenant}/hooks":        {ok: 200},
	"GET /v1/tenants/{tenant}/hooks/{hook}": {ok: 200},
	"PUT /v1/tenants/{tenant}/hooks/{hook}/endpoint": {body: `{"url":"http://127.0.0.1:9/sync","headers":{"X-Shop":"acme"},"secret":"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"}`,
		wrongTypes: hookEndpointFields, ok: 200, refusals: []refusal{
			{what: "url absent", body: `{"headers":{"X-Shop":"acme"}}`, status: 422, says: []string{"url is required"}},
			{what: "an FTP url", body: `{"url":"ftp://example.com/"}`, status: 422, says: []string{"http://", "https://"}},
			{what: "a url with no host", body: `{"url":"http:///path"}`, status: 422, says: []string{"no host"}},
			{what: "a url that isn't one", body: `{"url":"not a url"}`, status: 422, says: []string{"not a url"}},
			{what: "a url with a fragment", body: `{"url":"https://example.com/#x"}`, status: 422, says: []string{"fragment"}},
			{what: "a url over 2048 characters", body: `{"url":"https://example.com/` + strings.Repeat("p", 2048) + `"}`, status: 422, says: []string{"2048"}},
			{what: "a reserved header", body: `{"url":"http://127.0.0.1:9/","headers":{"webhook-signature":"v1,x"}}`, status: 422, says: []string{"webhook-signature", "set by Outlet"}},
			{what: "a Content-Type header", body: `{"url":"http://127.0.0.1:9/","headers":{"content-type":"text/plain"}}`, status: 422, says: []string{"set by Outlet"}},
			{what: "a header name with a space", body: `{"url":"http://127.0.0.1:9/","headers":{"X A":"b"}}`, status: 422, says: []string{"header name"}},
			{what: "a header value with a line break", body: `{"url":"http://127.0.0.1:9/","headers":{"X-A":"a\r\nHost: evil"}}`, status: 422, says: []string{"line break"}},
			{what: "21 headers", body: `{"url":"http://127.0.0.1:9/","headers":{` + manyHeaders(21) + `}}`, status: 422, says: []string{"limit is 20"}},
			{what: "a secret without whsec_", body: `{"url":"http://127.0.0.1:9/","secret":"MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"}`, status: 422, says: []string{"whsec_"}},
			{what: "a secret that isn't base64", body: `{"url":"http://127.0.0.1:9/","secret":"whsec_!!!!"}`, status: 422, says: []string{"secret"}},
			{what: "a secret too short", body: `{"url":"http://127.0.0.1:9/","secret":"whsec_c2hvcnQ="}`, status: 422, says: []string{"secret"}},
			{what: "a hook a function serves", path: map[string]string{"hook": "checkout.discount"}, body: `{"url":"http://127.0.0.1:9/"}`, status: 409,
				says: []string{`"discount"`, `"checkout.discount"`}},
		}},
	"GET /v1/tenants/{tenant}/hooks/{hook}/endpoint":        {owned: true, ok: 200},
	"GET /v1/tenants/{tenant}/hooks/{hook}/endpoint/secret": {owned: true, ok: 200},
	"DELETE /v1/tenants/{tenant}/hooks/{hook}/endpoint":     {owned: true, ok: 204},
	"POST /v1/tenants/{tenant}/hooks/{hook}/invoke": {body: `{"input":{"cart":{"total":100}}}`, ok: 200, refusals: []refusal{
		{what: "input absent", body: `{}`, status: 422, says: []string{"input is required"}},
		{what: "input that doesn't match the hook's schema", body: `{"input":{"basket":{}}}`, status: 422, says: []string{"input does not match", "cart"}},
		{what: "input of the wrong type for the schema", body: `{"input":{"cart":"full"}}`, status: 422, says: []string{"/cart"}},
		{what: "input null", body: `{"input":null}`, status: 422, says: []string{"input"}},
		{what: "an unknown hook", path: map[string]string{"hook": "checkout.tax"}, body: `{"input":{}}`, status: 404, says: []string{`"checkout.tax"`}},
	}},

	"PUT /v1/tenants/{tenant}/functions/{name}": {body: deployJS, maxBody: maxDeploy, wrongTypes: deployFields, creates: "name", ok: 200,
		refusals: append(limitRefusals(),
			refusal{what: "runtime absent", body: `{"code":"export default (e) => e"}`, status: 422, says: []string{"runtime is required", "javascript", "typescript", "wasm"}},
			refusal{what: "runtime unknown", body: `{"runtime":"python","code":"def handle(e): return e"}`, status: 422, says: []string{`"python"`, "javascript"}},
			refusal{what: "runtime in capitals", body: `{"runtime":"JavaScript","code":"export default (e) => e"}`, status: 422, says: []string{`"JavaScript"`}},
			refusal{what: "runtime empty", body: `{"runtime":"","code":"export default (e) => e"}`, status: 422, says: []string{"runtime is required"}},
			refusal{what: "code absent", body: `{"runtime":"javascript"}`, status: 422, says: []string{`"code"`}},
			refusal{what: "code null", body: `{"runtime":"typescript","code":null}`, status: 422, says: []string{`"code"`}},
			refusal{what: "code empty", body: `{"runtime":"javascript","code":""}`, status: 422, says: []string{"empty"}},
			refusal{what: "code and wasm", body: `{"runtime":"javascript","code":"export default (e) => e","wasm":"` + minimalWasm + `"}`, status: 422, says: []string{`"code"`, `"wasm"`}},
			refusal{what: "a wasm function with code", body: `{"runtime":"wasm","code":"export default (e) => e"}`, status: 422, says: []string{`"wasm"`, "base64"}},
			refusal{what: "a wasm function with code and wasm", body: `{"runtime":"wasm","code":"x","wasm":"` + minimalWasm + `"}`, status: 422, says: []string{`"wasm"`}},
			refusal{what: "a wasm function with neither", body: `{"runtime":"wasm"}`, status: 422, says: []string{`"wasm"`, "base64"}},
			refusal{what: "wasm that isn't base64", body: `{"runtime":"wasm","wasm":"not base64!"}`, status: 422, says: []string{"base64"}},
			refusal{what: "wasm in URL-safe base64", body: `{"runtime":"wasm","wasm":"AGFzbQ-_AAA_"}`, status: 422, says: []string{"base64"}},
			refusal{what: "wasm empty", body: `{"runtime":"wasm","wasm":""}`, status: 422, says: []string{"empty"}},
			refusal{what: "wasm that isn't a module", body: `{"runtime":"wasm","wasm":"aGVsbG8gd29ybGQ="}`, status: 422, says: []string{"WebAssembly"}},
			refusal{what: "a wasm module without handle", body: `{"runtime":"wasm","wasm":"AGFzbQEAAAA="}`, status: 422, says: []string{"handle"}},
			refusal{what: "a syntax error", body: deploy("export default function (e) {\n  return e +;\n}", ""), status: 422, says: []string{"line 2, column 13"}},
			refusal{what: "a TypeScript syntax error", body: `{"runtime":"typescript","code":"export default (e: number => e"}`, status: 422, says: []string{"line 1, column"}},
			refusal{what: "no default export", body: deploy("export const handle = (e) => e", ""), status: 422, says: []string{"default export"}},
			refusal{what: "a default export that isn't a function", body: deploy("export default 5", ""), status: 422, says: []string{"default export must be a function"}},
			refusal{what: "a module that throws", body: deploy("throw new Error('boom at load')\nexport default (e) => e", ""), status: 422, says: []string{"boom at load"}},
			refusal{what: "an import", body: deploy("import pad from 'left-pad'\nexport default (e) => pad(e)", ""), status: 422, says: []string{"left-pad", "bundle"}},
			refusal{what: "an invalid event filter", body: deploy("export default (e) => e", `"events":["Invoice Paid!"]`), status: 422, says: []string{`"Invoice Paid!"`}},
			refusal{what: "a wildcard inside an event filter", body: deploy("export default (e) => e", `"events":["invoice*"]`), status: 422, says: []string{`"invoice*"`}},
			refusal{what: "101 event filters", body: deploy("export default (e) => e", `"events":[`+strings.Repeat(`"a.b",`, 100)+`"a.b"]`), status: 422, says: []string{"100"}},
			refusal{what: "an invalid hook name", body: deploy("export default (e) => e", `"hooks":["Bad Hook!"]`), status: 422, says: []string{`"Bad Hook!"`, "dot-separated"}},
			refusal{what: "an unknown hook", body: deploy("export default (e) => e", `"hooks":["checkout.tax"]`), status: 422, says: []string{`"checkout.tax"`, "not declared"}},
			refusal{what: "a hook the tenant's endpoint serves", body: deploy("export default (e) => e", `"hooks":["login.post"]`), status: 409, says: []string{`"login.post"`, "endpoint"}},
			refusal{what: "an invalid name", path: map[string]string{"name": "-discount"}, body: deployJS, status: 422, says: []string{"function name", "letters, digits"}},
			refusal{what: "a name of 65 characters", path: map[string]string{"name": strings.Repeat("f", 65)}, body: deployJS, status: 422, says: []string{"1 to 64"}},
			refusal{what: "code over 8 MiB", body: deploy("//"+strings.Repeat("x", 8<<20), ""), status: 413, says: []string{"8388608"}},
			refusal{what: "wasm over 8 MiB", body: `{"runtime":"wasm","wasm":"` + base64.StdEncoding.EncodeToString(make([]byte, 8<<20+1)) + `"}`, status: 413, says: []string{"8388608"}},
		)},
	"GET /v1/tenants/{tenant}/functions":                 {ok: 200},
	"GET /v1/tenants/{tenant}/functions/{name}":          {owned: true, ok: 200},
	"DELETE /v1/tenants/{tenant}/functions/{name}":       {owned: true, ok: 204},
	"GET /v1/tenants/{tenant}/functions/{name}/versions": {owned: true, ok: 200},
	"GET /v1/tenants/{tenant}/functions/{name}/versions/{version}": {owned: true, ok: 200, refusals: []refusal{
		{what: "version 0", path: map[string]string{"version": "0"}, status: 422, says: []string{`"0"`, "version number"}},
		{what: "version -1", path: map[string]string{"version": "-1"}, status: 422, says: []string{`"-1"`}},
		{what: "version 1.5", path: map[string]string{"version": "1.5"}, status: 422, says: []string{`"1.5"`}},
		{what: "a version past the last", path: map[string]string{"version": "3"}, status: 404, says: []string{"no version 3"}},
		{what: "a version past any int", path: map[string]string{"version": "99999999999999999999"}, status: 422, says: []string{"version"}},
	}},
	"POST /v1/tenants/{tenant}/functions/{name}/rollback": {body: `{"version":1}`, owned: true, ok: 200, wrongTypes: []wrongType{
		{"version", `"1"`, "a whole number"},
		{"version", `1.5`, "a whole number"},
		{"version", `true`, "a whole number"},
		{"version", `[1]`, "a whole number"},
	}, refusals: []refusal{
		{what: "version absent", body: `{}`, status: 422, says: []string{"version is required"}},
		{what: "version 0", body: `{"version":0}`, status: 422, says: []string{"version is required"}},
		{what: "version null", body: `{"version":null}`, status: 422, says: []string{"version is required"}},
		{what: "version negative", body: `{"version":-1}`, status: 422, says: []string{"version"}},
		{what: "an unknown version", body: `{"version":99}`, status: 404, says: []string{"no version 99"}},
	}},
	"POST /v1/tenants/{tenant}/functions/{name}/test": {body: `{"input":{"cart":{"total":100}},"hook":"checkout.discount"}`, owned: true, ok: 200, wrongTypes: []wrongType{
		{"event", `"invoice.paid"`, "an object"},
		{"event", `[]`, "an object"},
		{"hook", `5`, "a string"},
		{"version", `"2"`, "a whole number"},
	}, refusals: []refusal{
		{what: "neither event nor input", body: `{}`, status: 422, says: []string{`"event"`, `"input"`}},
		{what: "event null", body: `{"event":null}`, status: 422, says: []string{`"event"`, `"input"`}},
		{what: "both event and input", body: `{"event":{"type":"invoice.paid","data":{}},"input":{}}`, status: 422, says: []string{"either"}},
		{what: "an event without data", body: `{"event":{"type":"invoice.paid"}}`, status: 422, says: []string{"event.data is required"}},
		{what: "an event without a type", body: `{"event":{"data":{}}}`, status: 422, says: []string{"event.type"}},
		{what: "an event of an invalid type", body: `{"event":{"type":"invoice paid!","data":{}}}`, status: 422, says: []string{`"invoice paid!"`}},
		{what: "an event type that isn't a string", body: `{"event":{"type":5,"data":{}}}`, status: 400, says: []string{`"event.type"`, "a string"}},
		{what: "an event timestamp that isn't a time", body: `{"event":{"type":"invoice.paid","data":{},"timestamp":"yesterday"}}`, status: 400, says: []string{`"event.timestamp"`, "RFC 3339"}},
		{what: "an event with an unknown field", body: `{"event":{"type":"invoice.paid","data":{},"typ":"x"}}`, status: 400, says: []string{`"typ"`}},
		{what: "an unknown hook", body: `{"input":{},"hook":"checkout.tax"}`, status: 422, says: []string{`"checkout.tax"`}},
		{what: "an unknown version", body: `{"input":{},"version":99}`, status: 404, says: []string{"no version 99"}},
		{what: "a negative version", body: `{"input":{},"version":-1}`, status: 422, says: []string{"version"}},
	}},
	"GET /v1/tenants/{tenant}/functions/{name}/logs": {list: true, untimed: true, owned: true, ok: 200,
		junk: []string{"after=x", "after=%00", "after=evt_" + strings.Repeat("A", 20), "after=" + strings.Repeat("A", 5000)}},
	"GET /v1/tenants/{tenant}/function-types": {ok: 200},

	"GET /v1/tenants/{tenant}/secrets": {ok: 200},
	"PUT /v1/tenants/{tenant}/secrets/{name}": {body: `{"value":"sk_live_rotated_51Hx"}`, creates: "name", ok: 204, wrongTypes: []wrongType{
		{"value", `5`, "a string"},
		{"value", `{"k":"v"}`, "a string"},
		{"value", `["v"]`, "a string"},
		{"value", `true`, "a string"},
	}, refusals: append([]refusal{
		{what: "value absent", body: `{}`, status: 422, says: []string{"value is required"}},
		{what: "value null", body: `{"value":null}`, status: 422, says: []string{"value is required"}},
		{what: "a value over 32 KiB", body: `{"value":"` + strings.Repeat("v", 32<<10+1) + `"}`, status: 413, says: []string{"32768"}},
	}, secretNameRefusals...)},
	"DELETE /v1/tenants/{tenant}/secrets/{name}": {owned: true, ok: 204},

	"GET /v1/tenants/{tenant}/usage": {ok: 200},

	"POST /v1/tenants/{tenant}/portal-sessions":        {body: portalSessionBody, emptyOK: true, ok: 201, wrongTypes: portalSessionFields, refusals: portalSessionRefusals},
	"GET /v1/tenants/{tenant}/portal-sessions":         {list: true, untimed: true, ok: 200},
	"DELETE /v1/tenants/{tenant}/portal-sessions/{id}": {owned: true, ok: 204},
	"POST /v1/portal-sessions":                         {body: portalSessionBody, emptyOK: true, ok: 201, wrongTypes: portalSessionFields, refusals: portalSessionRefusals},
	"GET /v1/portal-sessions":                          {list: true, untimed: true, ok: 200},
	"DELETE /v1/portal-sessions/{id}":                  {ok: 204},

	"GET /v1/audit-log":                  {list: true, junk: auditJunk("tenant=a%20b", "tenant=%00"), ok: 200},
	"GET /v1/tenants/{tenant}/audit-log": {list: true, junk: auditJunk(), ok: 200},

	"GET /healthz":         {ok: 200},
	"GET /readyz":          {ok: 200},
	"GET /metrics":         {ok: 200},
	"GET /v1/openapi.json": {ok: 200},
}

const portalSessionBody = `{"expires_in":600,"read_only":true,"features":{"functions":false,"usage":true},` +
	`"theme":{"brand_color":"#4f46e5","logo_url":"https://cdn.example.com/logo.svg","name":"Acme Platform","mode":"dark"}}`

var (
	portalSessionFields = []wrongType{
		{"expires_in", `"3600"`, "a whole number"},
		{"expires_in", `1.5`, "a whole number"},
		{"expires_in", `1e99`, "a whole number"},
		{"read_only", `"yes"`, "true or false"},
		{"features", `["functions"]`, "an object of true or false values"},
		{"features", `{"functions":"no"}`, "an object of true or false values"},
		{"theme", `"dark"`, "an object"},
		{"theme", `[]`, "an object"},
	}
	portalSessionRefusals = []refusal{
		{what: "expires_in under a minute", body: `{"expires_in":59}`, status: 422, says: []string{"expires_in", "60 to 86400"}},
		{what: "expires_in over a day", body: `{"expires_in":86401}`, status: 422, says: []string{"expires_in", "60 to 86400"}},
		{what: "expires_in 0", body: `{"expires_in":0}`, status: 422, says: []string{"expires_in", "60 to 86400"}},
		{what: "expires_in negative", body: `{"expires_in":-3600}`, status: 422, says: []string{"expires_in", "60 to 86400"}},
		{what: "an unknown feature", body: `{"features":{"billing":false}}`, status: 422, says: []string{`"billing"`, "functions, endpoints, hooks, secrets, usage"}},
		{what: "a feature in capitals", body: `{"features":{"Functions":false}}`, status: 422, says: []string{`"Functions"`}},
		{what: "a brand colour by name", body: `{"theme":{"brand_color":"red"}}`, status: 422, says: []string{"brand_color", "#rrggbb"}},
		{what: "a brand colour of three digits", body: `{"theme":{"brand_color":"#fff"}}`, status: 422, says: []string{"#rrggbb"}},
		{what: "a brand colour with CSS after it", body: `{"theme":{"brand_color":"#4f46e5;background:url(x)"}}`, status: 422, says: []string{"#rrggbb"}},
		{what: "a logo over http", body: `{"theme":{"logo_url":"http://cdn.example.com/logo.png"}}`, status: 422, says: []string{"logo_url", "https://"}},
		{what: "a javascript: logo", body: `{"theme":{"logo_url":"javascript:alert(1)"}}`, status: 422, says: []string{"logo_url", "https://"}},
		{what: "a data: logo that isn't an image", body: `{"theme":{"logo_url":"data:text/html;base64,PHNjcmlwdD4="}}`, status: 422, says: []string{"data:image/png;base64"}},
		{what: "a logo URL with a quote", body: `{"theme":{"logo_url":"https://x.example/a\"onerror=\"b"}}`, status: 422, says: []string{"logo_url"}},
		{what: "a logo URL without a host", body: `{"theme":{"logo_url":"https:///logo.png"}}`, status: 422, says: []string{"logo_url", "host"}},
		{what: "a logo over 64 KiB", body: `{"theme":{"logo_url":"data:image/png;base64,` + strings.Repeat("A", 64<<10) + `"}}`, status: 422, says: []string{"logo_url", "65536"}},
		{what: "a name over 100 characters", body: `{"theme":{"name":"` + strings.Repeat("n", 101) + `"}}`, status: 422, says: []string{"theme.name", "100"}},
		{what: "a name with a line break", body: `{"theme":{"name":"Acme\nPlatform"}}`, status: 422, says: []string{"theme.name", "control characters"}},
		{what: "an unknown mode", body: `{"theme":{"mode":"sepia"}}`, status: 422, says: []string{"theme.mode", "auto, light or dark"}},
		{what: "an unknown theme field", body: `{"theme":{"colour":"#4f46e5"}}`, status: 400, says: []string{`"colour"`}},
	}
)

func manyHeaders(n int) string {
	hs := make([]string, n)
	for i := range hs {
		hs[i] = fmt.Sprintf(`"X-H%d":"v"`, i)
	}
	return strings.Join(hs, ",")
}

// malformedBodies are not one JSON object.
var malformedBodies = map[string]string{
	"an unfinished object":            `{`,
	"an unfinished string":            `{"name":"ab`,
	"an array":                        `[]`,
	"null":                            `null`,
	"a string":                        `"str"`,
	"a number":                        `5`,
	"true":                            `true`,
	"two objects":                     `{}{}`,
	"an object then another":          `{"a":1}{}`,
	"an object then garbage":          `{"name":"x"} x`,
	"a trailing comma":                `{"name":"x",}`,
	"single quotes":                   `{'name':'x'}`,
	"bytes that aren't UTF-8":         "\xff\xfe\xfd",
	"a string that isn't UTF-8":       "{\"name\":\"\xff\xfe\"}",
	"a key that isn't UTF-8":          "{\"\xc3\x28\":1}",
	"a NUL byte":                      "\x00",
	"an unknown field":                `{"a":1}`,
	"an unknown field, misspelled":    `{"nmae":"x"}`,
	"nesting past the parser's depth": strings.Repeat("[", 20000) + strings.Repeat("]", 20000),
	"a BOM before the object":         "\xef\xbb\xbf{}",
}

// oddIDs stand for a path parameter: unknown, or not a valid id at all.
var oddIDs = map[string]string{
	"unknown":             "nope",
	"a NUL":               "%00",
	"very long":           strings.Repeat("a", 5000),
	"an escaped ../":      "..%2F",
	"an escaped ..":       "%2E%2E",
	"an escaped slash":    "a%2Fb",
	"a space":             "%20",
	"unicode":             "%C3%BCn%C3%AFc%C3%B6d%C3%A9",
	"invalid UTF-8":       "%FF%FE",
	"a percent":           "%25",
	"a quote and a brace": "%22%7B%7D",
	"a CR LF":             "%0D%0A",
	"a raw .":             ".",
	"a raw ..":            "..",
}

// junkQueries are paging and filter parameters no list accepts.
var junkQueries = []string{
	"limit=x", "limit=-1", "limit=0x10", "limit=1e3", "limit=100000", "limit=99999999999999999999",
	"cursor=!!!", "cursor=%00", "cursor=MA", "cursor=" + strings.Repeat("A", 5000),
	"since=yesterday", "before=1", "since=2026-13-01T00:00:00Z", "before=%FF",
}

// fill puts the bundle's records into a route's path; {id} is the record of
// the collection it follows.
func (b *bundle) fill(path string, over map[string]string) string {
	params := map[string]string{"tenant": b.tenant, "name": "invoice.paid", "key": b.keyID, "hook": b.hook, "version": "1"}
	switch {
	case strings.Contains(path, "/endpoints/{id}"):
		params["id"] = b.endpoint
	case strings.Contains(path, "/events/{id}"):
		params["id"] = b.event
	case strings.Contains(path, "/deliveries/{id}"):
		params["id"] = b.delivery
	case strings.Contains(path, "/functions/{name}"):
		params["name"] = b.function
	case strings.Contains(path, "/secrets/{name}"):
		params["name"] = b.secret
	case strings.Contains(path, "/hooks/{hook}/endpoint"):
		params["hook"] = b.syncHook
	case strings.Contains(path, "/tenants/{tenant}/portal-sessions/{id}"):
		params["id"] = b.portalSession
	case strings.Contains(path, "/portal-sessions/{id}"):
		params["id"] = b.operatorSession
	}
	for k, v := range over {
		params[k] = v
	}
	for k, v := range params {
		path = strings.ReplaceAll(path, "{"+k+"}", v)
	}
	return path
}

func pathParams(path string) []string {
	var out []string
	for _, part := range strings.Split(path, "/") {
		if strings.HasPrefix(part, "{") {
			out = append(out, strings.Trim(part, "{}"))
		}
	}
	return out
}

func TestEveryRouteIsInTheSweep(t *testing.T) {
	t.Parallel()
	seen := map[string]bool{}
	for _, r := range New(Config{Metrics: metrics.New()}).Routes() {
		seen[r.Pattern] = true
		if _, ok := specs[r.Pattern]; !ok {
			t.Errorf("route %s is not in the sweep's specs; say how to call it", r.Pattern)
		}
	}
	for p := range specs {
		if !seen[p] {
			t.Errorf("the sweep's specs name %s, which the API doesn't serve", p)
		}
	}
}

// TestEveryRouteRefusesBadInput sends every route malformed bodies, fields
// of the wrong type, unknown and malformed ids, oversized bodies, junk
// parameters and bad keys, and wants a 4xx JSON error for each, with the
// store unchanged; then the same route called rightly succeeds, which shows
// the refusals were for the junk.
func TestEveryRouteRefusesBadInput(t *testing.T) {
	t.Parallel()
	for _, route := range New(Config{Metrics: metrics.New()}).Routes() {
		spec, ok := specs[route.Pattern]
		if !ok {
			continue // TestEveryRouteIsInTheSweep reports it
		}
		t.Run(route.Pattern, func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			method, pattern, _ := strings.Cut(route.Pattern, " ")
			path := b.fill(pattern, nil)
			admin := "Bearer " + adminKey
			before := b.snapshot(t)
			// refuse checks one answer, and that the store is as it was.
			refuse := func(what string, r req, statuses ...int) apiError {
				t.Helper()
				a := b.do(t, r)
				e := refused(t, what, a, statuses...)
				if after := b.snapshot(t); after != before {
					t.Errorf("%s (answered %d) changed the store: %s", what, a.status, diff(before, after))
					before = after
				}
				return e
			}

			if route.Access == "public" {
				for _, auth := range []string{"", "Bearer", "Basic x", "Bearer wrong", "bearer  "} {
					for _, body := range []string{"", "{", "\xff", strings.Repeat("x", 64<<10)} {
						a := b.do(t, req{method: method, path: path + "?limit=x&since=%00", auth: auth, body: body})
						if a.status != spec.ok {
							t.Errorf("public %s with junk answered %d, want %d: %.200s", route.Pattern, a.status, spec.ok, a.body)
						}
					}
				}
				return
			}

			// Keys.
			for what, auth := range map[string]string{
				"no Authorization header":   "",
				"Bearer and no key":         "Bearer",
				"Bearer and spaces":         "bearer  ",
				"Basic credentials":         "Basic dXNlcjpwYXNz",
				"Basic and junk":            "Basic x",
				"a key with no scheme":      adminKey,
				"an unknown key":            "Bearer olk_wrong",
				"the admin key, one longer": "Bearer " + adminKey + "x",
				"the admin key as Token":    "Token " + adminKey,
			} {
				e := refuse(what, req{method: method, path: path, auth: auth, body: spec.body}, 401)
				if e.Code != "" && e.Code != "unauthorized" {
					t.Errorf("%s: code %q, want unauthorized", what, e.Code)
				}
			}
			refuse("another tenant's key", req{method: method, path: path, auth: "Bearer " + b.otherKey, body: spec.body}, 403, 404)
			if route.Access == "admin" {
				e := refuse("a tenant key on an admin route", req{method: method, path: path, auth: "Bearer " + b.key, body: spec.body}, 403)
				if !strings.Contains(e.Message, "admin key") {
					t.Errorf("a tenant key on an admin route: message %q doesn't say the admin key is needed", e.Message)
				}
			}

			// Bodies.
			if spec.body != "" {
				for what, body := range malformedBodies {
					e := refuse("a body that is "+what, req{method: method, path: path, auth: admin, body: body}, 400)
					if e.Code != "" && e.Code != "malformed" {
						t.Errorf("a body that is %s: code %q, want malformed", what, e.Code)
					}
				}
				if !spec.emptyOK {
					refuse("an empty body", req{method: method, path: path, auth: admin}, 400)
					refuse("a body of spaces", req{method: method, path: path, auth: admin, body: " \n\t "}, 400)
				}
				for _, w := range spec.wrongTypes {
					what := fmt.Sprintf("%s: %s", w.field, w.value)
					e := refuse(what, req{method: method, path: path, auth: admin, body: `{"` + w.field + `":` + w.value + `}`}, 400)
					if !strings.Contains(e.Message, `"`+w.field+`"`) || !strings.Contains(e.Message, w.want) {
						t.Errorf("%s: message %q should name the field and say it must be %s", what, e.Message, w.want)
					}
				}
				limit := maxBody
				if spec.maxBody != 0 {
					limit = spec.maxBody
				}
				big := `{"name":"` + strings.Repeat("a", limit+1024) + `"}`
				if method == "POST" && strings.HasSuffix(pattern, "/events") {
					big = `{"type":"invoice.paid","data":"` + strings.Repeat("a", 256<<10+64<<10+1024) + `"}`
					refuse("event data over 256 KiB", req{method: method, path: path, auth: admin,
						body: `{"type":"invoice.paid","data":{"s":"` + strings.Repeat("a", 256<<10) + `"}}`}, 413)
				}
				refuse("a body over the cap", req{method: method, path: path, auth: admin, body: big}, 413)
			}
			for _, rf := range spec.refusals {
				p := b.fill(pattern, rf.path)
				e := refuse(rf.what, req{method: method, path: p, auth: admin, body: rf.body}, rf.status)
				for _, s := range rf.says {
					if !strings.Contains(e.Message, s) {
						t.Errorf("%s: message %q doesn't say %q", rf.what, e.Message, s)
					}
				}
			}

			// Ids.
			for _, param := range pathParams(pattern) {
				for what, id := range oddIDs {
					if param == spec.creates && id == oddIDs["unknown"] {
						continue // a new record
					}
					p := b.fill(pattern, map[string]string{param: id})
					refuse(fmt.Sprintf("{%s} %s", param, what), req{method: method, path: p, auth: admin, body: spec.body}, 400, 404, 422)
				}
			}
			if strings.Contains(pattern, "{tenant}") {
				// A tenant key for the tenant that isn't there: the key decides.
				p := b.fill(pattern, map[string]string{"tenant": "nope"})
				refuse("a tenant key on an unknown tenant", req{method: method, path: p, auth: "Bearer " + b.key, body: spec.body}, 403, 404)
			}
			if spec.owned {
				// The other tenant, with its own key, doesn't find this
				// tenant's record under its own path.
				auth := "Bearer " + b.otherKey
				if route.Access == "admin" {
					auth = admin
				}
				p := b.fill(pattern, map[string]string{"tenant": b.other})
				refuse("the record under another tenant", req{method: method, path: p, auth: auth, body: spec.body}, 404)
			}

			// Parameters.
			if spec.list {
				for _, q := range append(junkQueries[:len(junkQueries):len(junkQueries)], spec.junk...) {
					if spec.untimed && (strings.HasPrefix(q, "since") || strings.HasPrefix(q, "before")) {
						continue
					}
					e := refuse("?"+q, req{method: method, path: path + "?" + q, auth: admin}, 400, 422)
					name, _, _ := strings.Cut(q, "=")
					if !strings.Contains(e.Message, name) {
						t.Errorf("?%s: message %q doesn't name %s", q, e.Message, name)
					}
				}
			}

			// Routes without a body ignore one.
			if spec.body == "" && method == "GET" {
				for what, body := range malformedBodies {
					if a := b.do(t, req{method: method, path: path, auth: admin, body: body}); a.status != spec.ok {
						t.Errorf("GET with a body that is %s answered %d, want %d: %s", what, a.status, spec.ok, a.body)
					}
				}
			}

			// And the route called rightly works, by the admin and, on
			// tenant routes, by the tenant's own key.
			if route.Access == "tenant" && method == "GET" {
				if a := b.do(t, req{method: method, path: path, auth: "Bearer " + b.key}); a.status != spec.ok {
					t.Errorf("%s %s with the tenant's key answered %d, want %d: %s", method, path, a.status, spec.ok, a.body)
				}
			}
			entries := len(b.auditLog(t))
			if a := b.do(t, req{method: method, path: path, auth: admin, body: spec.body}); a.status != spec.ok {
				t.Errorf("%s %s rightly called answered %d, want %d: %s", method, path, a.status, spec.ok, a.body)
			} else if a.status != http.StatusNoContent && !strings.HasPrefix(a.header.Get("Content-Type"), "application/json") {
				t.Errorf("%s %s answered Content-Type %q", method, path, a.header.Get("Content-Type"))
			}
			// And what it changed is in the audit log, once.
			b.wantAudited(t, route.Pattern, entries)
		})
	}
}
