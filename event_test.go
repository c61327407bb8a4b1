package outlet

import (
	"encoding/json"
	"testing"
	"time"
)

func TestEventBodyIsWhatTheContractSays(t *testing.T) {
	t.Parallel()
	ev := &Event{Type: "invoice.paid", Timestamp: time.Date(2026, 1, 2, 3, 4, 5, 678e6, time.FixedZone("x", 3600)),
		Data: json.RawMessage(`{"amount":1,"note":"<b>&</b>"}`)}
	want := `{"type":"invoice.paid","timestamp":"2026-01-02T02:04:05.678Z","data":{"amount":1,"note":"<b>&</b>"}}`
	if got := string(ev.Body()); got != want {
		t.Errorf("body\n%s\nwant\n%s", got, want)
	}
	if !json.Valid(ev.Body()) {
		t.Error("body is not valid JSON")
	}
}

func TestPageNormalize(t *testing.T) {
	t.Parallel()
	p, err := Page{}.Normalize()
	if err != nil || p.Limit != DefaultPageLimit {
		t.Errorf("zero page: %+v %v; want the default limit", p, err)
	}
	for _, bad := range []Page{{Limit: -1}, {Limit: MaxPageLimit + 1}, {Cursor: "nope"}, {Cursor: EncodeCursor(0)}} {
		if _, err := bad.Normalize(); ErrorCode(err) != EINVALID {
			t.Errorf("%+v: %v; want EINVALID", bad, err)
		}
	}
	if pos, err := DecodeCursor(EncodeCursor(42)); err != nil || pos != 42 {
		t.Errorf("cursor round trip: %d %v", pos, err)
	}
}
