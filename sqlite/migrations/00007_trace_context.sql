-- +goose Up
-- The W3C trace context an event was published in (traceparent and
-- tracestate), so that its deliveries carry the publish's trace to
-- receivers, from whichever node makes them. NULL when there was none.
ALTER TABLE events ADD COLUMN traceparent TEXT;
ALTER TABLE events ADD COLUMN tracestate TEXT;

-- +goose Down
ALTER TABLE events DROP COLUMN tracestate;
ALTER TABLE events DROP COLUMN traceparent;
