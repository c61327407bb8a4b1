package httpapi

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/outlethq/outlet"
	"github.com/outlethq/outlet/internal/schema"
)

// eventTypes caches the catalog's compiled schemas for publishing. Entries
// live for ttl, so an update on another node is seen within that time; an
// update through this node is seen at once.
type eventTypes struct {
	store interface {
		EventType(ctx context.Context, name string) (*outlet.EventType, error)
	}
	ttl time.Duration
	now func() time.Time

	mu      sync.Mutex
	entries map[string]*typeEntry
}

type typeEntry struct {
	exists   bool
	schema   *schema.Schema
	loadedAt time.Time
}

func (c *eventTypes) get(ctx context.Context, name string) (*typeEntry, error) {
	c.mu.Lock()
	e, ok := c.entries[name]
	c.mu.Unlock()
	if ok && c.now().Sub(e.loadedAt) < c.ttl {
		return e, nil
	}
	var et *outlet.EventType
	var err error
	if outlet.IsOperational(name) {
		// Outlet's own: their entries are in the code, not the store.
		if et = outlet.OperationalEventType(name); et == nil {
			err = outlet.Errorf(outlet.ENOTFOUND, "event type %q not found", name)
		}
	} else {
		et, err = c.store.EventType(ctx, name)
	}
	e = &typeEntry{loadedAt: c.now()}
	switch {
	case outlet.ErrorCode(err) == outlet.ENOTFOUND:
	case err != nil:
		return nil, err
	default:
		e.exists = true
		if et.Schema != nil {
			if e.schema, err = schema.Compile(et.Schema); err != nil {
				return nil, fmt.Errorf("stored schema of %s no longer compiles: %w", name, err)
			}
		}
	}
	c.mu.Lock()
	if len(c.entries) > 10000 {
		clear(c.entries)
	}
	c.entries[name] = e
	c.mu.Unlock()
	return e, nil
}

func (c *eventTypes) forget(name string) {
	c.mu.Lock()
	delete(c.entries, name)
	c.mu.Unlock()
}
