import { metric, parseMetrics } from "./prometheus";
import { done, eq, test } from "./testing";

const text = `# HELP outlet_queue_depth Deliveries pending.
# TYPE outlet_queue_depth gauge
outlet_queue_depth 12
outlet_queue_oldest_due_age_seconds 3.5
outlet_deliveries_total{outcome="succeeded"} 40
outlet_deliveries_total{outcome="failed"} 2
outlet_api_requests_total{route="GET /v1/x",code="200"} 7
odd_label{v="a \\"quoted\\" \\\\ back\\nslash"} 1
outlet_attempt_duration_seconds_bucket{le="+Inf"} 5
weird +Inf
newline_or_not{v="a\\\\nb"} 1
`;

test("gauges, counters with labels, and escaped label values are read", () => {
  const s = parseMetrics(text);
  eq(metric(s, "outlet_queue_depth"), 12);
  eq(metric(s, "outlet_queue_oldest_due_age_seconds"), 3.5);
  eq(metric(s, "outlet_deliveries_total", { outcome: "failed" }), 2);
  eq(s.find((x) => x.name === "odd_label")!.labels.v, 'a "quoted" \\ back\nslash');
  eq(metric(s, "outlet_attempt_duration_seconds_bucket", { le: "+Inf" }), 5);
  eq(metric(s, "weird"), Infinity);
  eq(s.find((x) => x.name === "newline_or_not")!.labels.v, "a\\nb", "an escaped backslash before n");
});

test("without labels, a metric sums every series", () => {
  eq(metric(parseMetrics(text), "outlet_deliveries_total"), 42);
});

test("a metric that isn't there is null, not zero", () => {
  eq(metric(parseMetrics(text), "outlet_nothing"), null);
  eq(metric(parseMetrics(text), "outlet_deliveries_total", { outcome: "other" }), null);
});

test("comments, blank lines and garbage are skipped", () => {
  eq(parseMetrics("# only\n\n{}{}\n= 3\n").length, 0);
});

done();
