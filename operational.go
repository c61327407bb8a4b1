package outlet

import (
	"encoding/json"
	"strings"
	"time"
)

// Operational events are Outlet's own events about the health of what it
// runs — an endpoint disabled or cut off by its circuit breaker, a delivery
// that failed for good, a function failing, a tenant's usage passing a
// threshold. They are ordinary events, stored, signed, retried and logged as
// any other, published into the operator's tenant (OperatorTenant) and into
// the tenant they are about, for the endpoints that subscribe to them.

// OperationalPrefix starts the name of every operational event type. The
// names are Outlet's: the catalog shows them, and nobody can create, change
// or delete an event type of that name.
const OperationalPrefix = "outlet."

// OperatorTenant is the tenant whose endpoints receive the operational
// events about every tenant. The operator creates it like any tenant, when
// it wants them; it is the one tenant id that may start with '_', so no
// customer of the platform can have it.
const OperatorTenant = "_operator"

// The operational event types.
const (
	EventEndpointDisabled      = "outlet.endpoint.disabled"
	EventEndpointCircuitOpened = "outlet.endpoint.circuit_opened"
	EventEndpointCircuitClosed = "outlet.endpoint.circuit_closed"
	EventDeliveryExhausted     = "outlet.delivery.exhausted"
	EventFunctionFailing       = "outlet.function.failing"
	EventTenantUsageThreshold  = "outlet.tenant.usage_threshold"
)

// IsOperational reports whether events of type typ are Outlet's own.
func IsOperational(typ string) bool { return strings.HasPrefix(typ, OperationalPrefix) }

// ReservedEventType refuses a change to the catalog under an operational
// name; nil for any other name.
func ReservedEventType(name string) error {
	if IsOperational(name) {
		return Errorf(EFORBIDDEN, "event type %q is reserved: names starting with %q are Outlet's operational events, which nobody can create, change or delete; choose another name",
			truncate(name, 140), OperationalPrefix)
	}
	return nil
}

// EndpointDisabled is the data of an outlet.endpoint.disabled event: Outlet
// disabled an endpoint because every attempt to it failed for the disable
// period.
type EndpointDisabled struct {
	TenantID     string    `json:"tenant_id"`
	EndpointID   string    `json:"endpoint_id"`
	URL          string    `json:"url"`
	Reason       string    `json:"reason"`
	FailingSince *JSONTime `json:"failing_since"`
	DisabledAt   JSONTime  `json:"disabled_at"`
}

// CircuitOpened is the data of an outlet.endpoint.circuit_opened event:
// attempts to an endpoint failed so many times in a row that Outlet stopped
// sending to it, until a probe succeeds.
type CircuitOpened struct {
	TenantID            string   `json:"tenant_id"`
	EndpointID          string   `json:"endpoint_id"`
	URL                 string   `json:"url"`
	ConsecutiveFailures int      `json:"consecutive_failures"`
	OpenedAt            JSONTime `json:"opened_at"`
	ProbeAt             JSONTime `json:"probe_at"` // when the first probe goes out
}

// CircuitClosed is the data of an outlet.endpoint.circuit_closed event: a
// probe to an endpoint whose circuit was open succeeded, and sending resumed.
type CircuitClosed struct {
	TenantID   string   `json:"tenant_id"`
	EndpointID string   `json:"endpoint_id"`
	URL        string   `json:"url"`
	ClosedAt   JSONTime `json:"closed_at"`
}

// DeliveryExhausted is the data of an outlet.delivery.exhausted event: a
// delivery failed the last attempt of its retry schedule and is failed.
type DeliveryExhausted struct {
	TenantID    string       `json:"tenant_id"`
	DeliveryID  string       `json:"delivery_id"`
	EventID     string       `json:"event_id"`
	EventType   string       `json:"event_type"`
	Target      Target       `json:"target"`
	URL         string       `json:"url,omitempty"` // the endpoint's, for a delivery to an endpoint
	Attempts    int          `json:"attempts"`
	LastAttempt AttemptBrief `json:"last_attempt"`
}

// AttemptBrief is what an operational event says of an attempt.
type AttemptBrief struct {
	StartedAt  JSONTime `json:"started_at"`
	StatusCode int      `json:"status_code"` // 0 when no answer came
	Error      string   `json:"error"`
}

// FunctionFailing is the data of an outlet.function.failing event: in a
// window of time, at least the threshold's share of a function's runs
// failed.
type FunctionFailing struct {
	TenantID      string          `json:"tenant_id"`
	Function      string          `json:"function"`
	WindowStart   JSONTime        `json:"window_start"`
	WindowSeconds int64           `json:"window_seconds"`
	Runs          int             `json:"runs"`
	Failures      int             `json:"failures"`
	ErrorRate     float64         `json:"error_rate"`
	Threshold     float64         `json:"threshold"`
	LastError     FunctionFailure `json:"last_error"`
}

// FunctionFailure is how a function's run failed.
type FunctionFailure struct {
	Code    string `json:"code"` // runtime_error, timeout or memory_limit
	Message string `json:"message"`
}

// UsageThreshold is the data of an outlet.tenant.usage_threshold event: a
// tenant's count of one kind of use in a UTC day reached the operator's
// threshold.
type UsageThreshold struct {
	TenantID  string `json:"tenant_id"`
	Day       string `json:"day"`    // YYYY-MM-DD, UTC
	Metric    string `json:"metric"` // events, deliveries or function_invocations
	Threshold int64  `json:"threshold"`
	Value     int64  `json:"value"` // the count when it was seen over the threshold
}

// The usage metrics a threshold can be set on.
const (
	MetricEvents              = "events"
	MetricDeliveries          = "deliveries"
	MetricFunctionInvocations = "function_invocations"
)

// operationalSince is when the operational event types entered the
// catalog: their created_at and updated_at.
var operationalSince = time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)

// OperationalEventTypes returns the catalog's entries of the operational
// event types, by name, each with its description, schema and a sample.
func OperationalEventTypes() []*EventType {
	out := make([]*EventType, len(operationalTypes))
	for i, t := range operationalTypes {
		out[i] = &EventType{Name: t.name, Description: t.description, Schema: json.RawMessage(t.schema), Sample: json.RawMessage(t.sample),
			CreatedAt: operationalSince, UpdatedAt: operationalSince}
	}
	return out
}

// OperationalEventType returns the catalog's entry of an operational event
// type; nil if there is none of that name.
func OperationalEventType(name string) *EventType {
	for _, et := range OperationalEventTypes() {
		if et.Name == name {
			return et
		}
	}
	return nil
}

// The schemas share their pieces: every one is an object about a tenant.
const (
	schemaHead    = `{"$schema":"https://json-schema.org/draft/2020-12/schema","type":"object",`
	tenantProp    = `"tenant_id":{"type":"string","description":"The tenant the event is about."}`
	endpointProps = tenantProp + `,"endpoint_id":{"type":"string"},"url":{"type":"string","format":"uri"}`
	timeProp      = `{"type":"string","format":"date-time"}`
)

var operationalTypes = []struct{ name, description, schema, sample string }{
	{
		EventDeliveryExhausted,
		"A delivery failed the last attempt of its retry schedule: it is failed, and nothing more is sent unless someone retries or recovers it.",
		schemaHead + `"required":["tenant_id","delivery_id","event_id","event_type","target","attempts","last_attempt"],"properties":{` + tenantProp +
			`,"delivery_id":{"type":"string"},"event_id":{"type":"string"},"event_type":{"type":"string"},` +
			`"target":{"type":"object","required":["type","id"],"properties":{"type":{"enum":["endpoint","function"]},"id":{"type":"string"}}},` +
			`"url":{"type":"string","format":"uri","description":"The endpoint's URL, for a delivery to an endpoint."},` +
			`"attempts":{"type":"integer","minimum":1},` +
			`"last_attempt":{"type":"object","required":["started_at","status_code","error"],"properties":{"started_at":` + timeProp +
			`,"status_code":{"type":"integer","description":"The receiver's answer; 0 when none came."},"error":{"type":"string"}}}}}`,
		`{"tenant_id":"acme","delivery_id":"dlv_3xg9k2","event_id":"evt_01jd8v7q2c","event_type":"invoice.paid",` +
			`"target":{"type":"endpoint","id":"ep_01jd8t5r0a"},"url":"https://hooks.acme.com/outlet","attempts":8,` +
			`"last_attempt":{"started_at":"2026-12-01T21:40:00.000Z","status_code":503,"error":"answered 503, not 2xx"}}`,
	},
	{
		EventEndpointCircuitClosed,
		"A probe to an endpoint whose circuit was open succeeded: Outlet sends to it again, held-back deliveries first.",
		schemaHead + `"required":["tenant_id","endpoint_id","url","closed_at"],"properties":{` + endpointProps + `,"closed_at":` + timeProp + `}}`,
		`{"tenant_id":"acme","endpoint_id":"ep_01jd8t5r0a","url":"https://hooks.acme.com/outlet","closed_at":"2026-12-01T12:07:30.000Z"}`,
	},
	{
		EventEndpointCircuitOpened,
		"Attempts to an endpoint failed (no answer, a 5xx or a 429) so many times in a row that Outlet stopped sending to it; its deliveries wait, " +
			"without using up their retries, until a probe succeeds.",
		schemaHead + `"required":["tenant_id","endpoint_id","url","consecutive_failures","opened_at","probe_at"],"properties":{` + endpointProps +
			`,"consecutive_failures":{"type":"integer","minimum":1},"opened_at":` + timeProp +
			`,"probe_at":{"type":"string","format":"date-time","description":"When the first probe goes out; the wait doubles after each failed probe."}}}`,
		`{"tenant_id":"acme","endpoint_id":"ep_01jd8t5r0a","url":"https://hooks.acme.com/outlet","consecutive_failures":5,` +
			`"opened_at":"2026-12-01T12:00:00.000Z","probe_at":"2026-12-01T12:00:10.000Z"}`,
	},
	{
		EventEndpointDisabled,
		"Outlet disabled an endpoint because every attempt to it failed for the disable period; it receives nothing until it is enabled again.",
		schemaHead + `"required":["tenant_id","endpoint_id","url","reason","failing_since","disabled_at"],"properties":{` + endpointProps +
			`,"reason":{"type":"string"},"failing_since":{"type":["string","null"],"format":"date-time"},"disabled_at":` + timeProp + `}}`,
		`{"tenant_id":"acme","endpoint_id":"ep_01jd8t5r0a","url":"https://hooks.acme.com/outlet",` +
			`"reason":"failing: every attempt failed for longer than the disable period",` +
			`"failing_since":"2026-11-26T09:12:00.000Z","disabled_at":"2026-12-01T09:15:00.000Z"}`,
	},
	{
		EventFunctionFailing,
		"In a window of time, at least the operator's share of a function's runs on events and at hooks failed (threw, timed out, ran out of memory).",
		schemaHead + `"required":["tenant_id","function","window_start","window_seconds","runs","failures","error_rate","threshold","last_error"],"properties":{` +
			tenantProp + `,"function":{"type":"string"},"window_start":` + timeProp + `,"window_seconds":{"type":"integer","minimum":1},` +
			`"runs":{"type":"integer","minimum":1},"failures":{"type":"integer","minimum":1},` +
			`"error_rate":{"type":"number","minimum":0,"maximum":1},"threshold":{"type":"number","minimum":0,"maximum":1},` +
			`"last_error":{"type":"object","required":["code","message"],"properties":{"code":{"enum":["runtime_error","timeout","memory_limit"]},"message":{"type":"string"}}}}}`,
		`{"tenant_id":"acme","function":"discount","window_start":"2026-12-01T12:00:00.000Z","window_seconds":300,"runs":20,"failures":12,` +
			`"error_rate":0.6,"threshold":0.5,"last_error":{"code":"runtime_error","message":"TypeError: cannot read property 'total' of undefined"}}`,
	},
	{
		EventTenantUsageThreshold,
		"A tenant's count of events, deliveries or function runs in a UTC day reached the operator's threshold for it (raised once per tenant, day and metric).",
		schemaHead + `"required":["tenant_id","day","metric","threshold","value"],"properties":{` + tenantProp +
			`,"day":{"type":"string","format":"date"},"metric":{"enum":["events","deliveries","function_invocations"]},` +
			`"threshold":{"type":"integer","minimum":1},"value":{"type":"integer","minimum":1}}}`,
		`{"tenant_id":"acme","day":"2026-12-01","metric":"events","threshold":100000,"value":100042}`,
	},
}
