package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"time"

	"github.com/outlethq/outlet"
)

func (s *Store) CreateEventType(ctx context.Context, et *outlet.EventType) error {
	if err := checkText(et.Description, string(et.Schema), string(et.Sample)); err != nil {
		return err
	}
	err := s.tx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO event_types (name, description, schema, sample, deprecated, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)`,
			et.Name, et.Description, rawText(et.Schema), rawText(et.Sample), bool01(et.Deprecated), ms(et.CreatedAt), ms(et.UpdatedAt))
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
func rawText(r json.RawMessage) any {
	if len(r) == 0 || string(r) == "null" {
		return nil
	}
	return string(r)
}

func scanEventType(row scanner) (*outlet.EventType, error) {
	var et outlet.EventType
	var schema, sample sql.NullString
	var deprecated int
	var created, updated int64
	if err := row.Scan(&et.Name, &et.Description, &schema, &sample, &deprecated, &created, &updated); err != nil {
		return nil, err
	}
	if schema.Valid {
		et.Schema = json.RawMessage(schema.String)
	}
	if sample.Valid {
		et.Sample = json.RawMessage(sample.String)
	}
	et.Deprecated = deprecated == 1
	et.CreatedAt, et.UpdatedAt = fromMs(created), fromMs(updated)
	return &et, nil
}

const eventTypeCols = `name, description, schema, sample, deprecated, created_at, updated_at`

func (s *Store) EventType(ctx context.Context, name string) (*outlet.EventType, error) {
	return eventType(ctx, s.r, name)
}

func eventType(ctx context.Context, q querier, name string) (*outlet.EventType, error) {
	et, err := scanEventType(q.QueryRowContext(ctx, `SELECT `+eventTypeCols+` FROM event_types WHERE name = ?`, name))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound("event type", name)
	}
	return et, dbErr(err)
}

func (s *Store) ListEventTypes(ctx context.Context) ([]*outlet.EventType, error) {
	ets, err := collect(ctx, s.r, `SELECT `+eventTypeCols+` FROM event_types ORDER BY name`, nil, scanEventType)
	return ets, dbErr(err)
}

func (s *Store) UpdateEventType(ctx context.Context, name string, u outlet.EventTypeUpdate, now time.Time) (*outlet.EventType, error) {
	var et *outlet.EventType
	err := s.tx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		var err error
		if et, err = eventType(ctx, tx, name); err != nil {
			return err
		}
		et.Apply(u)
		if err := checkText(et.Description, string(et.Schema), string(et.Sample)); err != nil {
			return err
		}
		et.UpdatedAt = now
		_, err = tx.ExecContext(ctx, `UPDATE event_types SET description = ?, schema = ?, sample = ?, deprecated = ?, updated_at = ? WHERE name = ?`,
			et.Description, rawText(et.Schema), rawText(et.Sample), bool01(et.Deprecated), ms(now), name)
		if err != nil {
			return err
		}
		return audit(ctx, tx, outlet.AuditEventTypeUpdated(name, u))
	})
	return et, err
}

func (s *Store) DeleteEventType(ctx context.Context, name string) error {
	return s.tx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		if err := deleteOne(ctx, tx, "event type", name, `DELETE FROM event_types WHERE name = ?`, name); err != nil {
			return err
		}
		return audit(ctx, tx, outlet.AuditEventTypeDeleted(name))
	})
}
