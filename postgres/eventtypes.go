package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/outlethq/outlet"
)

func (s *Store) CreateEventType(ctx context.Context, et *outlet.EventType) error {
	err := s.tx(ctx, func(ctx context.Context, tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `INSERT INTO event_types (name, description, schema, sample, deprecated, created_at, updated_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7)`,
			et.Name, et.Description, rawText(et.Schema), rawText(et.Sample), et.Deprecated, ms(et.CreatedAt), ms(et.UpdatedAt))
		if err != nil {
			return err
		}
		return audit(ctx, tx, outlet.AuditEventTypeCreated(et))
	})
	if outlet.ErrorCode(err) == outlet.ECONFLICT {
		return outlet.Errorf(outlet.ECONFLICT, "event type %q already exists", et.Name)
	}
	return err
}

// rawText stores absent and JSON null alike as NULL.
func rawText(r json.RawMessage) *string {
	if len(r) == 0 || string(r) == "null" {
		return nil
	}
	s := string(r)
	return &s
}

func rawJSON(s *string) json.RawMessage {
	if s == nil {
		return nil
	}
	return json.RawMessage(*s)
}

const eventTypeCols = `name, description, schema, sample, deprecated, created_at, updated_at`

func scanEventType(row pgx.Row) (*outlet.EventType, error) {
	var et outlet.EventType
	var schema, sample *string
	var created, updated int64
	if err := row.Scan(&et.Name, &et.Description, &schema, &sample, &et.Deprecated, &created, &updated); err != nil {
		return nil, err
	}
	et.Schema, et.Sample = rawJSON(schema), rawJSON(sample)
	et.CreatedAt, et.UpdatedAt = fromMs(created), fromMs(updated)
	return &et, nil
}

func (s *Store) EventType(ctx context.Context, name string) (*outlet.EventType, error) {
	ctx, cancel := bound(ctx)
	defer cancel()
	return eventType(ctx, s.pool, name, "")
}

func eventType(ctx context.Context, q querier, name, lock string) (*outlet.EventType, error) {
	et, err := scanEventType(q.QueryRow(ctx, `SELECT `+eventTypeCols+` FROM event_types WHERE name = $1 `+lock, name))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, notFound("event type", name)
	}
	return et, dbErr(err)
}

func (s *Store) ListEventTypes(ctx context.Context) ([]*outlet.EventType, error) {
	ctx, cancel := bound(ctx)
	defer cancel()
	ets, err := collect(ctx, s.pool, `SELECT `+eventTypeCols+` FROM event_types ORDER BY name`, nil, scanEventType)
	return ets, dbErr(err)
}

func (s *Store) UpdateEventType(ctx context.Context, name string, u outlet.EventTypeUpdate, now time.Time) (*outlet.EventType, error) {
	var et *outlet.EventType
	err := s.tx(ctx, func(ctx context.Context, tx pgx.Tx) error {
		var err error
		if et, err = eventType(ctx, tx, name, "FOR UPDATE"); err != nil {
			return err
		}
		et.Apply(u)
		et.UpdatedAt = now
		_, err = tx.Exec(ctx, `UPDATE event_types SET description = $1, schema = $2, sample = $3, deprecated = $4, updated_at = $5 WHERE name = $6`,
			et.Description, rawText(et.Schema), rawText(et.Sample), et.Deprecated, ms(now), name)
		if err != nil {
			return err
		}
		return audit(ctx, tx, outlet.AuditEventTypeUpdated(name, u))
	})
	return et, err
}

func (s *Store) DeleteEventType(ctx context.Context, name string) error {
	return s.tx(ctx, func(ctx context.Context, tx pgx.Tx) error {
		if err := deleteOne(ctx, tx, "event type", name, `DELETE FROM event_types WHERE name = $1`, name); err != nil {
			return err
		}
		return audit(ctx, tx, outlet.AuditEventTypeDeleted(name))
	})
}
