package postgres

import (
	"context"
	"errors"
	"io"
	"net"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/puddle/v2"

	"github.com/outlethq/outlet"
)

// errClosed answers calls made after Close.
var errClosed = outlet.Errorf(outlet.EUNAVAILABLE, "the database is closed")

// dbErr turns driver errors into coded errors: constraint violations are
// conflicts, text the database can't hold is invalid, and a database that
// can't be reached, is starting or stopping, is out of connections or
// doesn't answer in time is unavailable.
func dbErr(err error) error {
	if err == nil {
		return nil
	}
	var oe *outlet.Error
	if errors.As(err, &oe) {
		return err
	}
	// A connection that couldn't be made is unavailable whatever the server
	// said while refusing it: a database not accepting connections (55000),
	// one that doesn't exist yet (3D000), bad credentials mid-rotation.
	var ce *pgconn.ConnectError
	if errors.As(err, &ce) {
		return unavailable(err)
	}
	if seqTaken(err) {
		return &unavailableError{err, "a row's position was taken by another written in the same millisecond; retry"}
	}
	if missingPartition(err) {
		// Still missing after the writer made it again: retention dropped
		// the day meanwhile, so the rows are dated far outside it.
		return &unavailableError{err, "the partition of a day these rows are dated in was dropped by retention while they were written; retry, and if it persists check that the nodes' clocks agree"}
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch code := pe.Code; {
		case code == "23505", code == "23503", code == "23514": // unique, foreign key, check
			return outlet.Errorf(outlet.ECONFLICT, "conflicts with stored data: %s", pe.Message)
		case code == "22021", code == "22P05": // character not in repertoire, untranslatable character
			return outlet.Errorf(outlet.EINVALID, "a text value holds a NUL character or bytes that are not UTF-8, which the database can't keep; remove them")
		case strings.HasPrefix(code, "08"), // connection exception
			strings.HasPrefix(code, "53"),    // insufficient resources: too many connections, disk full
			strings.HasPrefix(code, "57P"),   // the server is shutting down or starting
			code == "57014",                  // a statement timed out
			code == "40001", code == "40P01", // serialization failure, deadlock: worth a retry
			code == "55P03", // lock not available
			code == "25006": // read-only: a standby after a failover
			return unavailable(err)
		}
		return err
	}
	if unreachable(err) {
		return unavailable(err)
	}
	return err
}

// unreachable reports whether err says the database could not be reached or
// did not answer: no connection, a connection lost, or no answer in time.
func unreachable(err error) bool {
	var ce *pgconn.ConnectError
	var ne net.Error
	return errors.As(err, &ce) || errors.As(err, &ne) || pgconn.Timeout(err) || pgconn.SafeToRetry(err) ||
		errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) ||
		errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, pgconn.ErrConnClosed) || errors.Is(err, puddle.ErrClosedPool)
}

// unavailable marks err EUNAVAILABLE, keeping it in the chain for the log.
func unavailable(err error) error {
	return &unavailableError{err, "the database is unreachable or can't take work right now; retry shortly"}
}

type unavailableError struct {
	err error
	msg string // for the caller
}

func (e *unavailableError) Error() string { return e.err.Error() }
func (e *unavailableError) Unwrap() []error {
	return []error{e.err, outlet.Errorf(outlet.EUNAVAILABLE, "%s", e.msg)}
}

// seqTaken reports whether err is an insert into a partition of events,
// deliveries or attempts whose seq another row already has. That is no
// conflict with the caller's data: seq is the row's time in milliseconds and
// the low bits of a sequence (see partitions.go), so two rows of the same
// millisecond get the same seq when the sequence moved on by a multiple of
// 2^20 between them: a node whose clock stepped back, attempts stored at
// completion under the time they started while a million other rows were
// written. The statement is worth running again, with new numbers.
func seqTaken(err error) bool {
	var pe *pgconn.PgError
	if !errors.As(err, &pe) || pe.Code != "23505" || !strings.HasSuffix(pe.ConstraintName, "_pkey") {
		return false
	}
	for _, table := range partitionedTables {
		if strings.HasPrefix(pe.ConstraintName, table+"_") {
			return true
		}
	}
	return false
}
