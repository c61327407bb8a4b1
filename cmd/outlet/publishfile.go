package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/outlethq/outlet"
	"github.com/outlethq/outlet/client"
)

// maxLine caps one line of a --file: a batch's whole body is capped at 8 MiB.
const maxLine = 8 << 20

// fileEvent is one line of a --file: an event as a batch publish takes it.
type fileEvent struct {
	ID             string          `json:"id"`
	Type           string          `json:"type"`
	Data           json.RawMessage `json:"data"`
	Timestamp      *time.Time      `json:"timestamp"`
	IdempotencyKey string          `json:"idempotency_key"`
}

// lineResult is what came of one line.
type lineResult struct {
	line int
	item outlet.PublishBatchItem
}

// publishFile publishes the events of a file of JSON lines in batches of
// size, in order, and prints what came of each line.
func publishFile(c *call, path string, size int) error {
	in := c.cmd.InOrStdin()
	if path != "-" {
		f, err := os.Open(path)
		if err != nil {
			return fmt.Errorf("read --file: %w", err)
		}
		defer f.Close()
		in = f
	}
	p := &filePublisher{c: c, size: size, out: c.cmd.OutOrStdout()}
	if !c.json {
		p.row("LINE", "RESULT", "ID", "DELIVERIES / ERROR")
	}
	rd := bufio.NewReaderSize(in, 64<<10)
	for n := 1; ; n++ {
		line, err := readLine(rd)
		if err == io.EOF {
			break
		}
		if err != nil {
			return p.stop(fmt.Errorf("read line %d of --file: %w", n, err))
		}
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		p.add(n, line)
		if len(p.events) == size {
			if err := p.flush(); err != nil {
				return p.stop(err)
			}
		}
	}
	if err := p.flush(); err != nil {
		return p.stop(err)
	}
	return p.stop(nil)
}

// readLine reads one line without its newline; io.EOF when there are no
// more. A line longer than maxLine is an error.
func readLine(rd *bufio.Reader) ([]byte, error) {
	var line []byte
	for {
		chunk, err := rd.ReadSlice('\n')
		line = append(line, chunk...)
		if len(line) > maxLine {
			return nil, fmt.Errorf("it is longer than %d bytes", maxLine)
		}
		switch {
		case err == bufio.ErrBufferFull:
			continue
		case err == io.EOF && len(line) == 0, err != nil && err != io.EOF:
			return nil, err
		}
		return bytes.TrimSuffix(bytes.TrimSuffix(line, []byte("\n")), []byte("\r")), nil
	}
}

// filePublisher gathers a file's events into batches and reports on them.
type filePublisher struct {
	c    *call
	size int
	out  io.Writer

	events []client.Publish
	lines  []int        // of events
	done   []lineResult // lines not reported yet
	counts struct{ accepted, replayed, failed int }
	first  int // the first line not reported yet; 0 when none
}

// add reads one line as an event; a line that isn't one fails at once,
// without being sent.
func (p *filePublisher) add(n int, line []byte) {
	if p.first == 0 {
		p.first = n
	}
	var ev fileEvent
	dec := json.NewDecoder(bytes.NewReader(line))
	dec.DisallowUnknownFields()
	err := dec.Decode(&ev)
	switch {
	case err != nil:
		p.fail(n, outlet.EMALFORMED, "the line is not an event as JSON: %v", strings.TrimPrefix(err.Error(), "json: "))
	case dec.More():
		p.fail(n, outlet.EMALFORMED, "the line holds more than one JSON value; put one event on each line")
	case len(ev.Data) == 0:
		p.fail(n, outlet.EINVALID, `data is required: the JSON value receivers get as "data" (any JSON value, null included)`)
	default:
		p.events = append(p.events, client.Publish{ID: ev.ID, Type: ev.Type, Data: ev.Data, Timestamp: ev.Timestamp, IdempotencyKey: ev.IdempotencyKey})
		p.lines = append(p.lines, n)
	}
}

func (p *filePublisher) fail(n int, code, format string, args ...any) {
	p.done = append(p.done, lineResult{line: n, item: outlet.PublishBatchItem{Error: outlet.Errorf(code, format, args...)}})
}

// flush publishes the events gathered, and prints every line's result up to
// the last of them.
func (p *filePublisher) flush() error {
	if len(p.events) > 0 {
		res, err := p.c.client.Events.PublishBatch(p.c.ctx(), p.c.tenant, p.events)
		if err != nil {
			return err
		}
		for i, it := range res.Results {
			p.done = append(p.done, lineResult{line: p.lines[i], item: it})
		}
	}
	p.events, p.lines = p.events[:0], p.lines[:0]
	return p.report()
}

// report prints the results in the order of their lines.
func (p *filePublisher) report() error {
	slices.SortStableFunc(p.done, func(a, b lineResult) int { return a.line - b.line })
	for _, r := range p.done {
		p.count(r.item)
		if err := p.print(r); err != nil {
			return err
		}
	}
	p.done = p.done[:0]
	p.first = 0
	return nil
}

func (p *filePublisher) count(it outlet.PublishBatchItem) {
	switch {
	case it.Error != nil:
		p.counts.failed++
	case it.Replayed:
		p.counts.replayed++
	default:
		p.counts.accepted++
	}
}

// print writes one line's result: a row, or with --json the API's result
// with the line's number.
func (p *filePublisher) print(r lineResult) error {
	if p.c.json {
		b, err := json.Marshal(r.item)
		if err != nil {
			return err
		}
		_, err = fmt.Fprintf(p.out, "{\"line\":%d,%s\n", r.line, b[1:])
		return err
	}
	switch it := r.item; {
	case it.Error != nil:
		return p.row(r.line, "failed", "-", it.Error.Code+": "+it.Error.Message)
	case it.Replayed:
		return p.row(r.line, "replayed", it.ID, it.Deliveries)
	default:
		return p.row(r.line, "accepted", it.ID, it.Deliveries)
	}
}

// row writes a row of fixed widths, so that rows written a batch at a time
// line up without holding the whole file's.
func (p *filePublisher) row(line, result, id, rest any) error {
	_, err := fmt.Fprintf(p.out, "%-6v  %-8v  %-30v  %v\n", line, result, id, rest)
	return err
}

// stop ends the run: it says what was published and, when err stopped it,
// from which line on nothing was.
func (p *filePublisher) stop(err error) error {
	c := p.counts
	total := c.accepted + c.replayed + c.failed
	if err != nil {
		var apiErr *client.Error
		what := err
		if errors.As(err, &apiErr) {
			what = fmt.Errorf("the batch was refused (%d): %s", apiErr.Status, apiErr.Message)
		}
		if p.first > 0 {
			return fmt.Errorf("%w\nnothing from line %d on was published; %d lines before it: %d accepted, %d replayed, %d failed",
				what, p.first, total, c.accepted, c.replayed, c.failed)
		}
		return what
	}
	p.c.note("%d events: %d accepted, %d replayed, %d failed", total, c.accepted, c.replayed, c.failed)
	if c.failed > 0 {
		return fmt.Errorf("%d of %d events failed; their lines say why", c.failed, total)
	}
	return nil
}
